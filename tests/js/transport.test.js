// The transport the connection opens (lib/transport.js) and the HTTP fallback's
// parsing and batching (lib/http-socket.js): docs/protocol.md, "HTTP fallback".
import { test } from "node:test";
import assert from "node:assert/strict";

import { HTTP_FOR_MS, TransportChoice } from "../../static/chat/lib/transport.js";
import { parseEvent, takeBatch } from "../../static/chat/lib/http-socket.js";

function memoryStore() {
  const values = new Map();
  return {
    get: (key, fallback) => (values.has(key) ? values.get(key) : fallback),
    set: (key, value) => values.set(key, value),
    remove: (key) => values.delete(key),
  };
}

test("two sockets that fail to open in a row switch to HTTP, remembered by the browser", () => {
  let now = 1000;
  const store = memoryStore();
  const choice = new TransportChoice(store, () => now);
  assert.equal(choice.current(), "ws");
  assert.equal(choice.closed("ws", 1006, false, true), false);
  assert.equal(choice.closed("ws", 1006, false, true), true);
  assert.equal(choice.current(), "http");
  // The next page of this browser starts on HTTP, until the choice expires.
  const next = new TransportChoice(store, () => now);
  assert.equal(next.current(), "http");
  now += HTTP_FOR_MS + 1;
  assert.equal(next.current(), "ws");
});

test("a socket that delivered a frame, a server's close or a restart is no failure", () => {
  const choice = new TransportChoice(memoryStore(), () => 0);
  choice.closed("ws", 1006, false, true);
  assert.equal(choice.closed("ws", 1006, true, true), false, "it said hello first");
  assert.equal(choice.closed("ws", 4429, false, true), false);
  assert.equal(choice.closed("ws", 1012, false, true), false);
  assert.equal(choice.closed("ws", 1006, false, false), false, "the browser is offline");
  assert.equal(choice.current(), "ws");
});

test("a frame heard on a socket starts the count again", () => {
  const choice = new TransportChoice(memoryStore(), () => 0);
  choice.closed("ws", 1006, false, true);
  choice.heard("ws");
  assert.equal(choice.closed("ws", 1006, false, true), false);
  assert.equal(choice.current(), "ws");
});

test("forgetting HTTP (a probe socket said hello) goes back to sockets", () => {
  const store = memoryStore();
  const choice = new TransportChoice(store, () => 0);
  choice.preferHttp();
  choice.forgetHttp();
  assert.equal(choice.current(), "ws");
  assert.equal(new TransportChoice(store, () => 0).current(), "ws");
});

test("server-sent events: frames, named events, comments", () => {
  assert.deepEqual(parseEvent('data: {"type":"pong"}'), { name: "", data: '{"type":"pong"}' });
  assert.deepEqual(parseEvent('event: close\ndata: {"code":4408}'), { name: "close", data: '{"code":4408}' });
  assert.deepEqual(parseEvent("data: a\ndata: b"), { name: "", data: "a\nb" });
  assert.equal(parseEvent(":" + " ".repeat(2048)), null);
  assert.equal(parseEvent(":"), null);
});

test("a post carries at most max_frames frames and max_bytes bytes, and at least one", () => {
  const queue = ["a", "b", "c", "d", "e"];
  assert.deepEqual(takeBatch(queue, 3, 1000), ["a", "b", "c"]);
  assert.deepEqual(takeBatch(queue, 3, 3), ["d"]);
  const big = ["x".repeat(50), "y"];
  assert.deepEqual(takeBatch(big, 10, 10), ["x".repeat(50)]);
  assert.deepEqual(big, ["y"]);
  // Bytes of UTF-8, a newline after each: "ş" takes 3.
  assert.deepEqual(takeBatch(["ş", "ş"], 10, 6), ["ş", "ş"]);
  assert.deepEqual(takeBatch(["ş", "ş"], 10, 5), ["ş"]);
});
