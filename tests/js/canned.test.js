// The "/" menu's rules (inbox/canned.js): placeholders filled as chat.canned.fill
// fills them in Telegram, and which replies match what was typed.
import { test } from "node:test";
import assert from "node:assert/strict";

import { fillPlaceholders, matchReplies } from "../../static/chat/inbox/canned.js";

test("placeholders are filled; a missing one goes tidily; unknown ones stay", () => {
  const values = { operator_name: "Ayşe", team_name: "Acme", visitor_name: "" };
  const text = "Hi {visitor_name}, I am {operator_name} of {team_name}. {unknown}";
  assert.equal(fillPlaceholders(text, values), "Hi, I am Ayşe of Acme. {unknown}");
  assert.equal(fillPlaceholders("{visitor_name}, welcome!", values), "welcome!");
  assert.equal(fillPlaceholders("Merhaba {visitor_name}!", { visitor_name: "Ali" }), "Merhaba Ali!");
});

test("shortcuts that begin with the query come first, then titles; own hides shared", () => {
  const replies = [
    { id: 1, shortcut: "hello", title: "Greeting", shared: false },
    { id: 2, shortcut: "hello", title: "Team greeting", shared: true },
    { id: 3, shortcut: "othello", title: "Play", shared: true },
    { id: 4, shortcut: "map", title: "Say hello with a map", shared: true },
    { id: 5, shortcut: "bye", title: "Goodbye", shared: true },
  ];
  assert.deepEqual(matchReplies(replies, "hel").map((r) => r.id), [1, 3, 4]);
  assert.deepEqual(matchReplies(replies, "").map((r) => r.id), [5, 1, 4, 3]);
  assert.deepEqual(matchReplies(replies, "HELLO").map((r) => r.id), [1, 3, 4]);
});
