// The pages' pacing under the server's limits (lib/pacing.js): a person typing or
// pasting fast never meets rate_limited.
import { test } from "node:test";
import assert from "node:assert/strict";

import { DEFAULT_RATE, frameLimit, RateWindow, sendLimit, TokenBucket } from "../../static/chat/lib/pacing.js";

test("a sliding window holds at most count in any span", () => {
  const w = new RateWindow(3, 1000);
  [0, 10, 20].forEach((t) => w.add(t));
  assert.equal(w.room(500), 0);
  assert.equal(w.freeAt(500, 0), 1000); // the first one leaves
  assert.equal(w.room(1000), 1);
  assert.equal(w.freeAt(1000, 1), 1010); // room for two once the second has left
});

test("a token bucket lets a burst go, then one per refill", () => {
  const b = new TokenBucket(4, 4000); // one a second
  assert.equal(b.room(0), 4);
  for (let i = 0; i < 4; i++) {
    b.add(0);
  }
  assert.equal(b.room(0), 0);
  assert.equal(b.freeAt(0, 0), 1000);
  assert.equal(b.room(2500), 2);
  assert.equal(b.room(100000), 4, "never more than its size");
});

test("the pages keep one frame and a second under the server's numbers", () => {
  const frames = frameLimit({ count: 30, seconds: 10 });
  assert.equal(frames.count, 29);
  assert.equal(frames.perMs, 29 / 11000);
  const sends = sendLimit({ count: 30, seconds: 10 });
  assert.equal(sends.count, 29);
  assert.equal(sends.ms, 11000);
});

test("limits that are missing or bad mean the server's defaults", () => {
  for (const bad of [null, {}, { count: "30", seconds: 10 }, { count: 0, seconds: 10 }, { count: 5, seconds: -1 }]) {
    assert.equal(sendLimit(bad).count, DEFAULT_RATE.count - 1);
    assert.equal(frameLimit(bad).count, DEFAULT_RATE.count - 1);
  }
});

test("a window of one never has room for two", () => {
  const w = sendLimit({ count: 1, seconds: 10 });
  assert.equal(w.count, 1);
  w.add(0);
  assert.equal(w.room(5000), 0);
  assert.equal(w.room(11000), 1);
});
