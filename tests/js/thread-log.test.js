// A thread's stored messages (lib/thread-log.js): one message whichever way it came
// (live, sync, history, ack), in seq order.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ThreadLog, viewKey } from "../../static/chat/lib/thread-log.js";

const message = (id, seq, extra) => Object.assign(
  { id, seq, thread: 7, client_id: "", author: "visitor", author_name: "", body: "m" + id, created: "2026-01-01T10:00:00Z", attachment: null },
  extra
);

test("the same message twice is one message", () => {
  const log = new ThreadLog(7);
  assert.equal(log.merge(message(1, 1)).isNew, true);
  assert.equal(log.merge(message(1, 1)).isNew, false);
  assert.equal(log.messages.length, 1);
});

test("messages are kept in seq order whatever order they come in", () => {
  const log = new ThreadLog(7);
  [3, 1, 2].forEach((n) => log.merge(message(n * 10, n)));
  assert.deepEqual(log.messages.map((m) => m.seq), [1, 2, 3]);
});

test("a known id takes the new body: an edit", () => {
  const log = new ThreadLog(7);
  log.merge(message(1, 1, { body: "helo" }));
  log.merge(message(1, 1, { body: "hello", edited: "2026-01-01T10:01:00Z" }));
  assert.equal(log.get(1).body, "hello");
  assert.equal(log.get(1).edited, "2026-01-01T10:01:00Z");
});

test("a message is found by its sender's client_id (its pending bubble's key)", () => {
  const log = new ThreadLog(7);
  const cid = "0b7f2a3e-0000-4000-8000-000000000001";
  log.merge(message(5, 1, { client_id: cid }));
  assert.equal(log.hasClientKey(viewKey({ author: "visitor", client_id: cid })), true);
  assert.equal(log.hasClientKey(viewKey({ author: "operator", client_id: cid })), false, "per sender");
});

test("something that is not a message is refused", () => {
  const log = new ThreadLog(7);
  for (const bad of [null, {}, { id: "1" }, { id: 1.5 }]) {
    assert.equal(log.merge(bad), null);
  }
  assert.equal(log.messages.length, 0);
});

test("earlier messages exist until the first seq is held or a page says none", () => {
  const log = new ThreadLog(7);
  log.merge(message(50, 50));
  assert.equal(log.hasEarlier(), true);
  log.merge(message(1, 1));
  assert.equal(log.hasEarlier(), false);
  const other = new ThreadLog(8);
  other.merge(message(9, 9));
  other.noEarlier = true;
  assert.equal(other.hasEarlier(), false);
  assert.equal(log.oldest().id, 1);
});

test("read covers the other side's newest message", () => {
  const log = new ThreadLog(7);
  log.merge(message(1, 1, { author: "visitor" }));
  log.merge(message(2, 2, { author: "operator" }));
  log.merge(message(3, 3, { author: "visitor" }));
  assert.equal(log.largestIdBy("visitor"), 3);
  assert.equal(log.largestIdBy("operator"), 2);
});

test("a merged message's seq is held by the tracker", () => {
  const log = new ThreadLog(7);
  log.seq.start(0);
  log.merge(message(1, 1));
  log.merge(message(3, 3));
  assert.equal(log.seq.last, 1);
  assert.equal(log.seq.hasGap(), true);
});
