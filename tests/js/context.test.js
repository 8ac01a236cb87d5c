// The page's context for operators (conversation/context.js): told after each hello,
// then only what changed, within the server's bounds.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PageContext } from "../../static/chat/conversation/context.js";

function harness(page, { open = true } = {}) {
  const h = { sent: [], open, page: Object.assign({}, page) };
  h.context = new PageContext((frame) => {
    if (!h.open) {
      return false;
    }
    h.sent.push(frame);
    return true;
  }, () => h.page);
  return h;
}

const PAGE = {
  url: "https://shop.example/",
  title: "Shop",
  referrer: "https://www.google.com/",
  timezone: "Europe/Istanbul",
  language: "tr-TR",
};

test("the whole context goes after each hello", () => {
  const h = harness(PAGE);
  h.context.hello();
  assert.deepEqual(h.sent, [Object.assign({ type: "visitor.context" }, PAGE)]);
  h.context.closed();
  h.context.hello();
  assert.equal(h.sent.length, 2);
  assert.equal(h.sent[1].url, PAGE.url);
});

test("only what changed is sent, and nothing when nothing did", () => {
  const h = harness(PAGE);
  h.context.hello();
  h.context.setContext({ url: "https://shop.example/cart", title: "Cart" });
  assert.deepEqual(h.sent[1], { type: "visitor.context", url: "https://shop.example/cart", title: "Cart" });
  h.context.setContext({ url: "https://shop.example/cart" });
  h.context.setAttributes({ plan: "pro" });
  h.context.setAttributes({ plan: "pro" });
  assert.deepEqual(h.sent.slice(2), [{ type: "visitor.context", attributes: { plan: "pro" } }]);
});

test("changes made while offline go after the next hello", () => {
  const h = harness(PAGE, { open: false });
  h.context.setAttributes({ plan: "pro", seats: 3 });
  h.context.setContext({ title: "Later" });
  assert.deepEqual(h.sent, []);
  h.open = true;
  h.context.hello();
  assert.equal(h.sent.length, 1);
  assert.deepEqual(h.sent[0].attributes, { plan: "pro", seats: 3 });
  assert.equal(h.sent[0].title, "Later");
});

test("a removed attribute is told once, then forgotten", () => {
  const h = harness(PAGE);
  h.context.hello();
  h.context.setAttributes({ plan: "pro" });
  h.context.setAttributes({ plan: null });
  assert.deepEqual(h.sent[2], { type: "visitor.context", attributes: { plan: null } });
  h.context.closed();
  h.context.hello();
  assert.equal(h.sent[3].attributes, undefined);
});

test("what the server would refuse is cut or left out", (t) => {
  t.mock.method(console, "warn", () => {});
  const h = harness(Object.assign({}, PAGE, { url: "https://shop.example/?" + "q".repeat(600), timezone: "x".repeat(80) }));
  h.context.hello();
  assert.equal(h.sent[0].url.length, 500);
  assert.equal(h.sent[0].timezone, undefined);
  const many = {};
  for (let n = 0; n < 25; n++) {
    many["k" + n] = n;
  }
  h.context.setAttributes(Object.assign(many, { "bad key": 1, nested: { a: 1 } }));
  assert.equal(Object.keys(h.sent[1].attributes).length, 20);
  assert.ok(console.warn.mock.calls.length >= 7);
  h.context.setContext({ url: "javascript:alert(1)" });
  assert.equal(h.sent.length, 2);
});

test("what the page gave with setContext wins over what is read after a hello", () => {
  const h = harness(PAGE);
  h.context.hello();
  h.context.setContext({ url: "https://shop.example/spa/route" });
  h.context.closed();
  h.context.hello();
  assert.equal(h.sent[2].url, "https://shop.example/spa/route");
});
