// The seq-gap tracker (lib/sequence.js): a jump in a thread's seq means live delivery
// dropped something, and the client syncs from the last seq it holds without a hole.
import { test } from "node:test";
import assert from "node:assert/strict";

import { SeqTracker } from "../../static/chat/lib/sequence.js";

test("contiguous seqs move last on, with no gap", () => {
  const s = new SeqTracker();
  s.start(0);
  assert.equal(s.note(1), false);
  assert.equal(s.note(2), false);
  assert.equal(s.last, 2);
});

test("a jump is a gap until what is missing arrives", () => {
  const s = new SeqTracker();
  s.start(3);
  assert.equal(s.note(6), true);
  assert.equal(s.last, 3);
  assert.equal(s.note(4), true);
  assert.equal(s.note(5), false);
  assert.equal(s.last, 6);
});

test("before a baseline nothing is a gap; the baseline takes what was held after it", () => {
  const s = new SeqTracker();
  assert.equal(s.note(12), false);
  assert.equal(s.note(14), false);
  s.start(11); // the newest of the first history page
  assert.equal(s.last, 12);
  assert.equal(s.hasGap(), true); // 13 is missing
  assert.equal(s.newest(), 14);
});

test("seqs already held, repeated or bad change nothing", () => {
  const s = new SeqTracker();
  s.start(5);
  for (const seq of [5, 3, 0, -1, null, "6", 2.5]) {
    assert.equal(s.note(seq), false);
  }
  assert.equal(s.last, 5);
});

test("skipping on past a hole the server cannot fill ends the gap", () => {
  const s = new SeqTracker();
  s.start(0);
  s.note(1);
  s.note(4);
  s.skipTo(s.newest());
  assert.equal(s.last, 4);
  assert.equal(s.hasGap(), false);
});

test("a limit makes the client ask again for what lies after it", () => {
  const s = new SeqTracker();
  s.start(0);
  [1, 2, 3, 4, 6].forEach((seq) => s.note(seq));
  s.limit(2); // a cache never trusted beyond the eagerly saved seq
  assert.equal(s.last, 2);
  assert.equal(s.hasGap(), false);
  s.note(3);
  assert.equal(s.last, 3);
});

test("an ack beyond last + 1 says something came before it", () => {
  const s = new SeqTracker();
  s.start(4);
  assert.equal(s.isBeyond(5), false);
  assert.equal(s.isBeyond(7), true);
  assert.equal(new SeqTracker().isBeyond(7), false, "no baseline, no gap");
});
