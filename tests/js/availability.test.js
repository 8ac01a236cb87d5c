// Who is there on the visitor's page (conversation/availability.js): open or not
// from the intervals the server told, and when the team is back, in the visitor's
// time zone (TZ is set for this process below, before any date is made).
import { test } from "node:test";
import assert from "node:assert/strict";

process.env.TZ = "Europe/Istanbul";
const { backText, hoursAt } = await import("../../static/chat/conversation/availability.js");

const HOURS = [
  ["2026-12-07T06:00:00Z", "2026-12-07T14:00:00Z"], // Monday 09:00-17:00 in Istanbul
  ["2026-12-08T06:00:00Z", "2026-12-08T14:00:00Z"],
];

test("not used: always open, nothing to wait for", () => {
  assert.deepEqual(hoursAt(null, Date.parse("2026-12-07T03:00:00Z")), {
    open: true, change: null, opens: null,
  });
});

test("inside an interval: open until its end", () => {
  const at = hoursAt(HOURS, Date.parse("2026-12-07T10:00:00Z"));
  assert.equal(at.open, true);
  assert.equal(at.change, Date.parse("2026-12-07T14:00:00Z"));
});

test("between intervals: closed, opens at the next one", () => {
  const at = hoursAt(HOURS, Date.parse("2026-12-07T14:00:00Z"));
  assert.equal(at.open, false);
  assert.equal(at.opens, Date.parse("2026-12-08T06:00:00Z"));
});

test("after the last interval told: closed, no opening known", () => {
  assert.deepEqual(hoursAt(HOURS, Date.parse("2026-12-09T00:00:00Z")), {
    open: false, change: null, opens: null,
  });
});

test("back today, tomorrow, on a weekday, on a date: local day and time", () => {
  const now = Date.parse("2026-12-07T20:30:00Z"); // 23:30 Monday in Istanbul
  assert.equal(backText(Date.parse("2026-12-07T20:45:00Z"), now, "en"), "Back today at 23:45");
  assert.equal(backText(Date.parse("2026-12-08T06:00:00Z"), now, "en"), "Back tomorrow at 09:00");
  assert.equal(backText(Date.parse("2026-12-10T06:00:00Z"), now, "en"), "Back on Thursday at 09:00");
  assert.equal(backText(Date.parse("2027-01-04T06:00:00Z"), now, "en"), "Back on January 4 at 09:00");
});

test("the day changes at the visitor's midnight, not UTC's", () => {
  const now = Date.parse("2026-12-07T22:30:00Z"); // 01:30 Tuesday in Istanbul
  assert.equal(backText(Date.parse("2026-12-08T06:00:00Z"), now, "en"), "Back today at 09:00");
});
