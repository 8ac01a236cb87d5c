// Links in message text (lib/linkify.js): http, https and mailto only, never the
// punctuation around them.
import { test } from "node:test";
import assert from "node:assert/strict";

import { findLinks } from "../../static/chat/lib/linkify.js";

const links = (text) => findLinks(text).filter((p) => p.href).map((p) => [p.text, p.href]);

test("the pieces put back together are the text", () => {
  const text = "see https://example.com/a?b=1, or (mailto:ayse@example.com). thanks";
  assert.equal(findLinks(text).map((p) => p.text).join(""), text);
});

test("http, https and mailto become links; other schemes stay text", () => {
  assert.deepEqual(links("https://example.com/a?b=1 and javascript:alert(1) data:text/html,x"), [
    ["https://example.com/a?b=1", "https://example.com/a?b=1"],
  ]);
  assert.deepEqual(links("write to mailto:ayse@example.com"), [["mailto:ayse@example.com", "mailto:ayse@example.com"]]);
});

test("punctuation that ends a sentence is not part of the link", () => {
  assert.deepEqual(links("Look: https://example.com/page."), [["https://example.com/page", "https://example.com/page"]]);
  assert.deepEqual(links("“https://example.com/x”!"), [["https://example.com/x", "https://example.com/x"]]);
});

test("a closing bracket belongs to the link only when it opened inside it", () => {
  assert.deepEqual(links("(see https://example.com/a)").map(([t]) => t), ["https://example.com/a"]);
  assert.deepEqual(links("https://en.wikipedia.org/wiki/Ankara_(disambiguation)").map(([t]) => t), [
    "https://en.wikipedia.org/wiki/Ankara_(disambiguation)",
  ]);
});

test("a scheme inside a word, a bare scheme and a bad address are not links", () => {
  assert.deepEqual(links("xhttps://example.com"), []);
  assert.deepEqual(links("https:// and http://"), []);
  assert.deepEqual(links("mailto:not-an-address"), []);
});

test("markup stays text", () => {
  const text = '<a href="https://evil.example">x</a> <img src=x onerror=alert(1)>';
  assert.equal(findLinks(text).map((p) => p.text).join(""), text);
  assert.ok(findLinks(text).every((p) => !p.href || !/[<>"]/.test(p.text)));
});

test("no text, no pieces", () => {
  assert.deepEqual(findLinks(""), []);
  assert.deepEqual(findLinks(null), []);
});
