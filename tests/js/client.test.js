// The delivery protocol as the pages speak it (lib/client.js), against a fake
// connection: what goes out for what comes in.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ChatClient, SYNC_PAGE } from "../../static/chat/lib/client.js";
import { makeStore } from "../../static/chat/lib/store.js";
import { uploadSettings } from "../../static/chat/lib/uploader.js";

class FakeConnection {
  constructor(handlers) {
    this.handlers = handlers;
    this.state = "open";
    this.retryAt = 0;
    this.sent = [];
  }
  send(frame) {
    if (this.state !== "open") {
      return false;
    }
    this.sent.push(frame);
    return true;
  }
  receive(frame) {
    this.handlers.onFrame(frame);
  }
  close() {}
}

function client(role, on) {
  const storage = new Map();
  const area = {
    getItem: (k) => (storage.has(k) ? storage.get(k) : null),
    setItem: (k, v) => storage.set(k, String(v)),
    removeItem: (k) => storage.delete(k),
  };
  const seen = [];
  const c = new ChatClient({
    path: "/ws/",
    role,
    uploads: uploadSettings({}),
    outbox: { store: makeStore(area), key: "outbox", shared: false },
    on: Object.assign({ messages: (items, kind, info) => seen.push({ items, kind, info }) }, on),
    connect: (handlers) => new FakeConnection(handlers),
  });
  c.seen = seen;
  c.frames = (type) => c.connection.sent.filter((f) => f.type === type);
  return c;
}

const message = (id, seq, extra) => Object.assign(
  { id, seq, thread: 7, client_id: "", author: "operator", author_name: "Ayşe", body: "m" + seq, created: "2026-01-01T10:00:00Z", source: "web", attachment: null },
  extra
);

function visitorHello(c, lastSeq) {
  c.connection.receive({ type: "hello", role: "visitor", thread: { id: 7, status: "open", last_seq: lastSeq }, limits: { max_body: 500 } });
}

test("a visitor's short thread is read from its start, a long one from its latest page", (t) => {
  const short = client("visitor", { hello: () => short.load(short.own, 3) });
  t.after(() => short.stop());
  short.own.id = 7;
  visitorHello(short, 3);
  assert.deepEqual(short.frames("sync"), [{ type: "sync", after: 0 }]);
  assert.equal(short.maxBody, 500);
  const long = client("visitor", { hello: () => long.load(long.own, SYNC_PAGE + 1) });
  t.after(() => long.stop());
  visitorHello(long, SYNC_PAGE + 1);
  assert.deepEqual(long.frames("history"), [{ type: "history", before: null, limit: 50 }]);
});

test("a seq jump in live messages asks for what was missed, once", (t) => {
  const c = client("visitor", { hello: () => c.load(c.own, 1) });
  t.after(() => c.stop());
  visitorHello(c, 1);
  c.connection.receive({ type: "sync", thread: 7, messages: [message(1, 1)], has_more: false });
  c.connection.receive({ type: "message", message: message(4, 4) });
  c.connection.receive({ type: "message", message: message(5, 5) });
  assert.deepEqual(c.frames("sync"), [{ type: "sync", after: 0 }, { type: "sync", after: 1 }]);
  c.connection.receive({ type: "sync", thread: 7, messages: [message(2, 2), message(3, 3), message(4, 4), message(5, 5)], has_more: false });
  assert.deepEqual(c.own.messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.equal(c.own.seq.hasGap(), false);
});

test("a sync page cut short is followed by the next, from its last seq", (t) => {
  const c = client("visitor", { hello: () => c.load(c.own, 3) });
  t.after(() => c.stop());
  visitorHello(c, 3);
  c.connection.receive({ type: "sync", thread: 7, messages: [message(1, 1), message(2, 2)], has_more: true });
  assert.deepEqual(c.frames("sync").at(-1), { type: "sync", after: 2 });
  assert.equal(c.seen.at(-1).info.more, true);
});

test("a hole the server cannot fill is skipped, not asked for forever", (t) => {
  const c = client("visitor", { hello: () => c.load(c.own, 1) });
  t.after(() => c.stop());
  visitorHello(c, 1);
  c.connection.receive({ type: "sync", thread: 7, messages: [message(1, 1), message(3, 3)], has_more: false });
  assert.deepEqual(c.frames("sync").at(-1), { type: "sync", after: 1 }, "asked once more");
  c.connection.receive({ type: "sync", thread: 7, messages: [message(3, 3)], has_more: false });
  assert.equal(c.own.seq.hasGap(), false);
  assert.equal(c.own.seq.last, 3);
  assert.equal(c.frames("sync").length, 2);
});

test("a visitor's message goes once; its ack makes it a stored message at once", (t) => {
  const c = client("visitor", { hello: () => c.load(c.own, 0) });
  t.after(() => c.stop());
  visitorHello(c, 0);
  c.connection.receive({ type: "sync", thread: 7, messages: [], has_more: false });
  const entry = c.post(null, "hello");
  const sent = c.frames("message.send");
  assert.deepEqual(sent, [{ type: "message.send", client_id: entry.client_id, body: "hello", attachment: null }]);
  c.connection.receive({ type: "ack", client_id: entry.client_id, id: 40, seq: 1, created: "2026-01-01T10:00:01Z", thread: 7 });
  assert.deepEqual(c.pending(c.own), []);
  assert.deepEqual(c.own.messages.map((m) => [m.id, m.author, m.body]), [[40, "visitor", "hello"]]);
  // Its echo changes nothing.
  c.connection.receive({ type: "message", message: message(40, 1, { author: "visitor", author_name: "", client_id: entry.client_id, body: "hello" }) });
  assert.equal(c.own.messages.length, 1);
  assert.equal(c.seen.at(-1).items[0].isNew, false);
});

test("an ack past a message this page has not seen asks for it", (t) => {
  const c = client("visitor", { hello: () => c.load(c.own, 0) });
  t.after(() => c.stop());
  visitorHello(c, 0);
  c.connection.receive({ type: "sync", thread: 7, messages: [], has_more: false });
  const entry = c.post(null, "hello");
  c.connection.receive({ type: "ack", client_id: entry.client_id, id: 41, seq: 2, created: "2026-01-01T10:00:01Z", thread: 7 });
  assert.deepEqual(c.frames("sync").at(-1), { type: "sync", after: 0 });
});

test("an error about a message stays with it; any other goes to the page", (t) => {
  const errors = [];
  const c = client("visitor", { hello: () => {}, error: (f) => errors.push(f.code) });
  t.after(() => c.stop());
  visitorHello(c, 0);
  const entry = c.post(null, "x");
  c.connection.receive({ type: "error", code: "too_long", detail: "Too long.", client_id: entry.client_id });
  assert.equal(entry.status, "failed");
  c.connection.receive({ type: "error", code: "rate_limited", detail: "Slow down." });
  assert.deepEqual(errors, ["rate_limited"]);
});

test("a visitor ignores messages of another thread", (t) => {
  const c = client("visitor", { hello: () => c.load(c.own, 0) });
  t.after(() => c.stop());
  c.own.id = 7;
  visitorHello(c, 0);
  c.connection.receive({ type: "message", message: message(99, 1, { thread: 8 }) });
  assert.equal(c.own.messages.length, 0);
});

test("an operator opens a thread on its latest page, then syncs on from its newest", (t) => {
  const c = client("operator");
  t.after(() => c.stop());
  c.connection.receive({ type: "hello", role: "operator", operator: { id: 1, name: "Ayşe" }, limits: {} });
  const log = c.log(7);
  c.load(log);
  assert.deepEqual(c.frames("history"), [{ type: "history", before: null, limit: 50, thread: 7 }]);
  c.connection.receive({ type: "history", thread: 7, messages: [message(60, 60), message(61, 61)], has_more: true });
  assert.equal(c.seen.at(-1).info.initial, true);
  assert.equal(log.seq.last, 61);
  assert.equal(log.hasEarlier(), true);
  c.loadEarlier(log);
  assert.deepEqual(c.frames("history").at(-1), { type: "history", before: 60, limit: 50, thread: 7 });
  c.connection.receive({ type: "messages", messages: [message(63, 63)] });
  assert.deepEqual(c.frames("sync"), [{ type: "sync", after: 61, thread: 7 }]);
});

test("an operator's messages for threads not open reach the page as they came", (t) => {
  const c = client("operator");
  t.after(() => c.stop());
  c.connection.receive({ type: "hello", role: "operator", operator: { id: 1, name: "Ayşe" }, limits: {} });
  c.connection.receive({ type: "message", message: message(5, 5, { thread: 9 }) });
  const { items, kind } = c.seen.at(-1);
  assert.equal(kind, "live");
  assert.equal(items[0].log, null);
  assert.equal(items[0].message.thread, 9);
  assert.deepEqual(c.frames("sync"), []);
});

test("read goes once per newest message of the other side", (t) => {
  const c = client("operator");
  t.after(() => c.stop());
  c.connection.receive({ type: "hello", role: "operator", operator: { id: 1, name: "Ayşe" }, limits: {} });
  const log = c.log(7);
  c.load(log);
  c.connection.receive({ type: "history", thread: 7, messages: [message(1, 1, { author: "visitor" })], has_more: false });
  assert.equal(c.markRead(log), true);
  assert.equal(c.markRead(log), false);
  assert.deepEqual(c.frames("read"), [{ type: "read", up_to: 1, thread: 7 }]);
});

test("nothing is asked twice while an answer is awaited, and again after a reconnect", (t) => {
  const c = client("operator");
  t.after(() => c.stop());
  c.connection.receive({ type: "hello", role: "operator", operator: { id: 1, name: "Ayşe" }, limits: {} });
  const log = c.log(7);
  c.load(log);
  c.load(log);
  assert.equal(c.frames("history").length, 1);
  c.connection.handlers.onClose(1006);
  c.connection.receive({ type: "hello", role: "operator", operator: { id: 1, name: "Ayşe" }, limits: {} });
  c.load(log);
  assert.equal(c.frames("history").length, 2);
});
