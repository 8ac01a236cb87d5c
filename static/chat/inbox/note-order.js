/*
 * Where private notes go among a conversation's messages (a plain function, no DOM:
 * tests/js/notes.test.js). A note becomes an item the bubbles render
 * (author "note"; its client_id keeps it apart from any message's node).
 */

function noteItem(n) {
  return {
    author: "note",
    id: n.id,
    client_id: n.client_id,
    author_name: n.author_name,
    body: n.body,
    created: n.created,
    source: n.source,
    attachment: null,
  };
}

function time(item) {
  return Date.parse(item.created) || 0;
}

/*
 * A log's items (stored messages by seq, then pending ones) with notes among them by
 * time; notes older than the earliest stored message wait, while earlier messages
 * are still to be loaded (hasEarlier), until they are.
 */
export function mergeNotes(notes, items, hasEarlier) {
  const sorted = notes.map(noteItem).sort((a, b) => time(a) - time(b) || a.id - b.id);
  const first = items.find((i) => i.id != null);
  const from = hasEarlier && first ? time(first) : -Infinity;
  const merged = [];
  let n = 0;
  const take = () => {
    if (time(sorted[n]) >= from) {
      merged.push(sorted[n]);
    }
    n++;
  };
  for (const item of items) {
    while (n < sorted.length && (item.id == null || time(sorted[n]) < time(item))) {
      take();
    }
    merged.push(item);
  }
  while (n < sorted.length) {
    take();
  }
  return merged;
}
