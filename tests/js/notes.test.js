// Private notes among a conversation's messages (static/chat/inbox/note-order.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { mergeNotes } from "../../static/chat/inbox/note-order.js";

const at = (minute) => `2026-01-01T10:${String(minute).padStart(2, "0")}:00Z`;
const message = (id, minute) => ({ id, author: "visitor", client_id: "", body: "m" + id, created: at(minute) });
const note = (id, minute) => ({ id, thread: 7, client_id: "n" + id, author_name: "Ayşe", body: "n" + id, created: at(minute) });
const bodies = (items) => items.map((i) => i.body);

test("notes go among the messages by time, pending replies last", () => {
  const pending = { id: null, author: "operator", client_id: "p", body: "pending", created: at(0) };
  const merged = mergeNotes([note(2, 15), note(1, 5)], [message(1, 0), message(2, 10), pending], false);
  assert.deepEqual(bodies(merged), ["m1", "n1", "m2", "n2", "pending"]);
  assert.equal(merged[1].author, "note");
});

test("a note older than the loaded messages waits while earlier ones are to load", () => {
  const items = [message(5, 10)];
  assert.deepEqual(bodies(mergeNotes([note(1, 1), note(2, 20)], items, true)), ["m5", "n2"]);
  assert.deepEqual(bodies(mergeNotes([note(1, 1), note(2, 20)], items, false)), ["n1", "m5", "n2"]);
});
