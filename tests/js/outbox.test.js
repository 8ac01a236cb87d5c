// The outbox (lib/outbox.js): nothing lost, nothing twice, in the order written.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ACK_TIMEOUT_MS, Outbox } from "../../static/chat/lib/outbox.js";
import { makeStore } from "../../static/chat/lib/store.js";

class MemoryStorage {
  constructor(quota) {
    this.items = new Map();
    this.quota = quota === undefined ? Infinity : quota;
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    if (key !== "sohbet.probe" && value.length > this.quota) {
      throw new Error("QuotaExceededError");
    }
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

// An outbox on a fake clock; `sent` is what it transmitted, `room` whether the
// connection takes a frame now.
function harness(opts) {
  const h = {
    time: 1000,
    sent: [],
    room: true,
    timers: [],
    changes: [],
    storage: (opts && opts.storage) || new MemoryStorage(),
  };
  h.make = (extra) => new Outbox(Object.assign({
    store: makeStore(h.storage),
    key: "sohbet.outbox",
    shared: false,
    author: "visitor",
    transmit: (entry) => {
      if (!h.room) {
        return false;
      }
      h.sent.push(entry.body);
      return true;
    },
    onChange: (thread) => h.changes.push(thread),
    now: () => h.time,
    random: () => 0,
    timers: {
      set: (fn, ms) => {
        const timer = { fn, at: h.time + ms };
        h.timers.push(timer);
        return timer;
      },
      clear: (timer) => {
        h.timers = h.timers.filter((t) => t !== timer);
      },
    },
  }, opts, extra));
  h.advance = (ms) => {
    h.time += ms;
    for (const timer of h.timers.filter((t) => t.at <= h.time)) {
      h.timers = h.timers.filter((t) => t !== timer);
      timer.fn();
    }
  };
  h.box = h.make();
  return h;
}

test("nothing leaves before hello, then everything in the order written", () => {
  const h = harness();
  h.box.add({ thread: null, body: "one" });
  h.box.add({ thread: null, body: "two" });
  assert.deepEqual(h.sent, []);
  h.box.open();
  assert.deepEqual(h.sent, ["one", "two"]);
});

test("an acked message is forgotten, also by a page loaded later", () => {
  const h = harness();
  h.box.open();
  const one = h.box.add({ thread: null, body: "one" });
  h.box.add({ thread: null, body: "two" });
  assert.equal(h.box.settle(one.client_id, 7), one);
  const reloaded = h.make();
  assert.deepEqual(reloaded.entries.map((e) => e.body), ["two"]);
});

test("what was unanswered on a lost connection is sent again after the next hello", () => {
  const h = harness();
  h.box.open();
  h.box.add({ thread: null, body: "one" });
  h.box.closed();
  h.box.open();
  assert.deepEqual(h.sent, ["one", "one"]);
});

test("a message without an answer is sent again after the ack timeout, not before", () => {
  const h = harness();
  h.box.open();
  h.box.add({ thread: null, body: "one" });
  h.time += ACK_TIMEOUT_MS - 1;
  h.box.flush();
  assert.deepEqual(h.sent, ["one"]);
  h.time += 1;
  h.box.flush();
  assert.deepEqual(h.sent, ["one", "one"]);
});

test("at most ten are unanswered at once; each ack lets the next go", () => {
  const h = harness();
  h.box.open();
  const entries = [];
  for (let n = 0; n < 12; n++) {
    entries.push(h.box.add({ thread: null, body: "m" + n }));
  }
  assert.equal(h.sent.length, 10);
  h.box.settle(entries[0].client_id, null);
  assert.deepEqual(h.sent.slice(10), ["m10"]);
});

test("paced: the first the connection refuses stops the flush, and room resumes it in order", () => {
  const h = harness();
  h.box.open();
  h.room = false;
  h.box.add({ thread: null, body: "one" });
  h.box.add({ thread: null, body: "two" });
  assert.deepEqual(h.sent, []);
  h.room = true;
  h.box.flush();
  assert.deepEqual(h.sent, ["one", "two"]);
});

test("a refusal fails the message for good; the rest go on", () => {
  const h = harness();
  h.box.open();
  const bad = h.box.add({ thread: null, body: "x".repeat(5) });
  h.box.fail(bad.client_id, "too_long", "Too long.");
  assert.equal(bad.status, "failed");
  assert.equal(bad.error, "Too long.");
  h.box.add({ thread: null, body: "after" });
  assert.deepEqual(h.sent, ["xxxxx", "after"]);
  h.time += ACK_TIMEOUT_MS;
  h.box.flush(true);
  assert.deepEqual(h.sent, ["xxxxx", "after", "after"], "never the refused one again");
  assert.equal(h.make().entries[0].status, "failed", "a reload still shows it failed");
});

test("unavailable keeps the message, holds back those after it, and resends with back-off", () => {
  const h = harness();
  h.box.open();
  const first = h.box.add({ thread: 7, body: "first" });
  h.box.fail(first.client_id, "unavailable", "Try later.");
  h.box.add({ thread: 7, body: "second" });
  h.box.add({ thread: 8, body: "elsewhere" });
  assert.deepEqual(h.sent, ["first", "elsewhere"], "another thread is not held");
  assert.equal(first.status, "pending");
  assert.equal(first.code, "unavailable");
  h.advance(2999);
  assert.deepEqual(h.sent, ["first", "elsewhere"]);
  h.advance(20);
  assert.deepEqual(h.sent, ["first", "elsewhere", "first", "second"]);
  h.box.fail(first.client_id, "unavailable", "");
  assert.ok(first.retryAt - h.time >= 6000, "the second wait is longer");
});

test("a retry sends at once and clears the reason", () => {
  const h = harness();
  h.box.open();
  const entry = h.box.add({ thread: null, body: "one" });
  h.box.fail(entry.client_id, "rate_limited", "Slow down.");
  h.box.retry(entry);
  assert.deepEqual(h.sent, ["one", "one"]);
  assert.equal(entry.code, "");
});

test("a file's message keeps its place: what was written after it waits for the upload", () => {
  const h = harness();
  h.box.open();
  const file = h.box.addUpload({ client_id: "f", thread: null, body: "caption", created: "2026-01-01T00:00:00Z" });
  h.box.add({ thread: null, body: "after" });
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.make().entries.map((e) => e.body), ["after"], "an upload is not stored");
  h.box.uploaded(file, { id: 12, kind: "image", url: "/a/12", name: "a.png", size: 3, content_type: "image/png" });
  assert.deepEqual(h.sent, ["caption", "after"]);
  const reloaded = h.make().entries;
  assert.deepEqual(reloaded.map((e) => [e.body, e.attachment]), [["caption", 12], ["after", null]]);
});

test("a failed upload lets what waited behind it go", () => {
  const h = harness();
  h.box.open();
  const file = h.box.addUpload({ client_id: "f", thread: null, body: "", created: "2026-01-01T00:00:00Z" });
  h.box.add({ thread: null, body: "after" });
  h.box.uploadFailed(file, "Not accepted.");
  assert.deepEqual(h.sent, ["after"]);
  assert.equal(file.status, "failed");
});

test("a removed message is never sent", () => {
  const h = harness();
  const entry = h.box.add({ thread: null, body: "oops" });
  h.box.remove(entry);
  h.box.open();
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.make().entries, []);
});

test("another thread's ack does not settle a message", () => {
  const h = harness();
  const entry = h.box.add({ thread: 7, body: "one" });
  assert.equal(h.box.settle(entry.client_id, 8), null);
  assert.equal(h.box.settle(entry.client_id, 7), entry);
});

test("with a shared store, what another tab queued is left to it for a while", () => {
  const storage = new MemoryStorage();
  const tab1 = harness({ storage, shared: true });
  const tab2 = harness({ storage, shared: true });
  tab1.box.add({ thread: null, body: "from tab 1" });
  tab2.time = tab1.time;
  tab2.box.ready = true;
  tab2.box.flush();
  assert.deepEqual(tab2.sent, [], "tab 1 sends it");
  assert.deepEqual(tab2.box.list(null).map((e) => e.body), ["from tab 1"], "tab 2 shows it");
  tab2.time += ACK_TIMEOUT_MS;
  tab2.box.flush();
  assert.deepEqual(tab2.sent, ["from tab 1"], "tab 1 may be gone: tab 2 sends it");
});

test("on connect a tab sends what another tab queued", () => {
  const storage = new MemoryStorage();
  const tab1 = harness({ storage, shared: true });
  const tab2 = harness({ storage, shared: true });
  tab1.box.add({ thread: null, body: "from tab 1" });
  tab2.box.open();
  assert.deepEqual(tab2.sent, ["from tab 1"]);
});

test("a full storage keeps the message in memory and still sends it", () => {
  const h = harness({ storage: new MemoryStorage(10) });
  h.box.open();
  const entry = h.box.add({ thread: null, body: "a message longer than the quota" });
  assert.deepEqual(h.sent, ["a message longer than the quota"]);
  assert.equal(h.box.find(entry.client_id), entry);
});

test("entries stored by older pages load: failed only when refused", () => {
  const storage = new MemoryStorage();
  storage.setItem("sohbet.outbox", JSON.stringify([
    { client_id: "a", body: "visitor page, failed", created: "2026-01-01T00:00:00Z", failed: true, error: "No." },
    { client_id: "b", thread: 7, body: "inbox, waited", status: "failed", code: "rate_limited", error: "Slow." },
    { client_id: "c", thread: 7, body: "inbox, refused", status: "failed", code: "invalid", error: "Bad." },
    { client_id: 5, body: "not an entry" },
  ]));
  const box = harness({ storage }).box;
  assert.deepEqual(box.entries.map((e) => [e.client_id, e.status]), [["a", "failed"], ["b", "pending"], ["c", "failed"]]);
});
