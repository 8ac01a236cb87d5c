// What the composer sends of what was typed, and how long the server counts it
// (lib/composer.js, lib/util.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { cleanBody } from "../../static/chat/lib/composer.js";
import { bodyLength, uuid4 } from "../../static/chat/lib/util.js";

test("blank lines before the text and white space after it are dropped", () => {
  assert.equal(cleanBody("\n  \nhello\n\n"), "hello");
  assert.equal(cleanBody("hello  "), "hello");
});

test("the rest is kept as typed: indentation, inner blank lines", () => {
  assert.equal(cleanBody("    code()\n\n  more"), "    code()\n\n  more");
});

test("the length is counted in code points, surrounding space left out", () => {
  assert.equal(bodyLength("  merhaba  "), 7);
  assert.equal(bodyLength("👋🏽"), 2);
  assert.equal(bodyLength(null), 0);
});

test("client ids are version 4 UUIDs", () => {
  assert.match(uuid4(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(uuid4(), uuid4());
});
