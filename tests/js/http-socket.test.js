// The HTTP fallback as connection.js holds it (lib/http-socket.js), against a fake
// server: a stream of Server-Sent Events down, numbered POSTs up, one at a time.
import { test } from "node:test";
import assert from "node:assert/strict";

import { HttpSocket } from "../../static/chat/lib/http-socket.js";

// A server the socket fetches from: the stream's body is pushed by the test; each
// POST of frames is recorded and answered by `answer(post)` (a status, or "network").
function fakeServer(answer) {
  const encoder = new TextEncoder();
  let push;
  let end;
  const posts = [];
  const waiters = [];
  const body = new ReadableStream({
    start(controller) {
      push = (text) => controller.enqueue(encoder.encode(text));
      end = () => controller.close();
    },
  });
  const server = {
    posts,
    push: (text) => push(text),
    end: () => end(),
    // Resolves once `count` POSTs have arrived.
    postsArrived(count) {
      return new Promise((resolve) => {
        waiters.push({ count, resolve });
        server._wake();
      });
    },
    _wake() {
      for (const w of waiters.splice(0)) {
        if (posts.length >= w.count) {
          w.resolve();
        } else {
          waiters.push(w);
        }
      }
    },
    fetch: async (url, init) => {
      if (url.endsWith("stream")) {
        return new Response(body, { status: 200 });
      }
      const post = {
        number: Number(init.headers["X-Sohbet-Post"]),
        stream: init.headers["X-Sohbet-Stream"],
        token: init.headers["X-Sohbet-Visitor"],
        frames: init.body.split("\n"),
      };
      posts.push(post);
      server._wake();
      const status = answer ? answer(post, posts.length) : 204;
      if (status === "network") {
        throw new TypeError("network error");
      }
      return new Response(null, { status });
    },
  };
  return server;
}

function opened(socket) {
  return new Promise((resolve) => {
    socket.onopen = resolve;
  });
}

function closed(socket) {
  return new Promise((resolve) => {
    socket.onclose = (event) => resolve(event.code);
  });
}

const OPEN = 'event: open\ndata: {"stream":"s1","max_frames":2,"max_bytes":1000}\n\n';

test("frames come as the stream's events, split anywhere; close gives its code", async () => {
  const server = fakeServer();
  const socket = new HttpSocket("/http/chat/", { fetch: server.fetch });
  const seen = [];
  socket.onmessage = (event) => seen.push(JSON.parse(event.data));
  const open = opened(socket);
  server.push(":" + " ".repeat(2048) + "\n\n" + OPEN.slice(0, 10));
  server.push(OPEN.slice(10) + 'data: {"type":"hel');
  await open;
  assert.equal(socket.readyState, 1);
  const done = closed(socket);
  server.push('lo"}\n\n:\n\ndata: {"type":"pong"}\n\nevent: close\ndata: {"code":4408}\n\n');
  assert.equal(await done, 4408);
  assert.deepEqual(seen.map((f) => f.type), ["hello", "pong"]);
});

test("a stream that ends without a close event is 1006", async () => {
  const server = fakeServer();
  const socket = new HttpSocket("/http/chat/", { fetch: server.fetch });
  const open = opened(socket);
  server.push(OPEN);
  await open;
  const done = closed(socket);
  server.end();
  assert.equal(await done, 1006);
});

test("frames go up in numbered posts, one at a time, at most max_frames each", async () => {
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const server = fakeServer();
  const fetchHeld = async (url, init) => {
    const answer = server.fetch(url, init);
    if (url.endsWith("frames") && server.posts.length === 1) {
      await held; // the first post's answer is slow
    }
    return answer;
  };
  const socket = new HttpSocket("/http/chat/", { fetch: fetchHeld, token: "tok" });
  const open = opened(socket);
  server.push(OPEN);
  await open;
  socket.send("a");
  socket.send("b");
  socket.send("c");
  await server.postsArrived(1);
  socket.send("d");
  assert.equal(server.posts.length, 1, "the next post waits for the answer");
  release();
  await server.postsArrived(2);
  assert.deepEqual(server.posts.map((p) => [p.number, p.frames]), [[1, ["a", "b"]], [2, ["c", "d"]]]);
  assert.deepEqual(new Set(server.posts.map((p) => p.stream + "/" + p.token)), new Set(["s1/tok"]));
  socket.close();
});

test("a post lost on the network is sent again with its number; a 404 ends the socket", async () => {
  const server = fakeServer((post, count) => (count === 1 ? "network" : count === 2 ? 204 : 404));
  const socket = new HttpSocket("/http/chat/", { fetch: server.fetch, retryMs: 1 });
  const open = opened(socket);
  server.push(OPEN);
  await open;
  socket.send("first");
  await server.postsArrived(2);
  assert.deepEqual(server.posts.map((p) => [p.number, p.frames]), [[1, ["first"]], [1, ["first"]]]);
  const done = closed(socket);
  socket.send("second");
  assert.equal(await done, 1006);
  assert.deepEqual(server.posts.map((p) => p.number), [1, 1, 2]);
});

test("send before the stream opened throws, as a WebSocket's does", () => {
  const server = fakeServer();
  const socket = new HttpSocket("/http/chat/", { fetch: server.fetch });
  assert.throws(() => socket.send("x"));
  socket.close();
});
