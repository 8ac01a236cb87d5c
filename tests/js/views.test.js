// The inbox's views and their counts (inbox/views.js): which views a thread is in,
// and counts that follow thread frames without asking the server, except for a
// thread the inbox never saw.
import { test, mock } from "node:test";
import assert from "node:assert/strict";

const { Views, viewsOf } = await import("../../static/chat/inbox/views.js");

const ME = { id: 7, name: "Ayşe" };
const filter = { querySelectorAll: () => [], addEventListener: () => {} };

function thread(fields) {
  return Object.assign(
    { id: 1, status: "open", assigned_to: null, waiting_since: null, last_message: { id: 5, seq: 1 } },
    fields,
  );
}

function counted(counts) {
  const sent = [];
  const views = new Views({ filter }, { send: (f) => sent.push(f), me: () => ME });
  views.setCounts(counts);
  return { views, sent };
}

const ZERO = { mine: 0, unassigned: 0, open: 0, waiting: 0, closed: 0, all: 0 };

test("a thread's views", () => {
  const waiting = thread({ waiting_since: "2026-12-07T10:00:00Z" });
  assert.deepEqual(viewsOf(waiting, ME), {
    mine: false, unassigned: true, open: true, waiting: true, closed: false, all: true,
  });
  const mine = thread({ assigned_to: { id: 7 } });
  assert.equal(viewsOf(mine, ME).mine, true);
  assert.equal(viewsOf(thread({ status: "closed", waiting_since: "x" }), ME).waiting, false);
  assert.equal(viewsOf(thread({ last_message: null }), ME), null); // not listed
});

test("a new conversation is counted, then its answer moves it", () => {
  const { views, sent } = counted(ZERO);
  const first = thread({ waiting_since: "2026-12-07T10:00:00Z" });
  views.changed(null, first);
  assert.deepEqual(views.counts, { ...ZERO, unassigned: 1, open: 1, waiting: 1, all: 1 });
  const answered = thread({ assigned_to: { id: 7 }, last_message: { id: 6, seq: 2 } });
  views.changed(viewsOf(first, ME), answered);
  assert.deepEqual(views.counts, { ...ZERO, mine: 1, open: 1, all: 1 });
  const closed = thread({ status: "closed", assigned_to: { id: 7 }, last_message: { id: 6, seq: 2 } });
  views.changed(viewsOf(answered, ME), closed);
  assert.deepEqual(views.counts, { ...ZERO, closed: 1, all: 1 });
  assert.deepEqual(sent, []);
});

test("a thread the inbox never saw asks for a recount, once", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { views, sent } = counted(ZERO);
    const old = thread({ last_message: { id: 50, seq: 9 } });
    views.changed(null, old);
    views.changed(null, old);
    assert.deepEqual(views.counts, ZERO);
    mock.timers.tick(1000);
    assert.deepEqual(sent, [{ type: "views" }]);
  } finally {
    mock.timers.reset();
  }
});
