// The connection's back-off (lib/backoff.js, as lib/connection.js exports it): one
// capped, jittered wait, the same for every page (docs/protocol.md, "close codes").
import { test } from "node:test";
import assert from "node:assert/strict";

import { RESTART_CODES, retryDelay } from "../../static/chat/lib/connection.js";

test("the back-off starts within two seconds and waits ten at most", () => {
  const delays = [0, 1, 2, 3, 4, 8, 16, 50].map((attempt) => [0, 0.5, 1].map((r) => retryDelay(attempt, r)));
  const [first, ...later] = delays;
  assert.ok(Math.min(...first) >= 1000 && Math.max(...first) <= 2000, "jittered over a second");
  assert.ok(Math.max(...later.flat()) <= 10000);
  const lows = delays.map((d) => Math.min(...d));
  assert.deepEqual(lows, [...lows].sort((a, b) => a - b), "it never waits less for a later attempt");
});

test("a restart close is 1001 or 1012", () => {
  assert.deepEqual(Object.keys(RESTART_CODES).sort(), ["1001", "1012"]);
});
