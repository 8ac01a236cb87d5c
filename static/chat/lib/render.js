/*
 * A conversation's messages on screen, the same way on every page: day separators,
 * bubbles grouped by sender within five minutes, and the DOM moved as little as
 * possible (reconcile), so that the log's live region announces only what is new.
 * What a bubble looks like is the page's (build/update); a pending message and the
 * stored one it becomes keep one node (viewKey).
 */
import { formatDay, dayKey } from "./format.js";
import { make, reconcile } from "./dom.js";
import { viewKey } from "./thread-log.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;

// `item` continues `prev`'s group: same sender (not the system) and name, same day,
// within five minutes.
export function groupsWith(prev, item) {
  return !!(
    prev &&
    item &&
    prev.author === item.author &&
    item.author !== "system" &&
    (prev.author_name || "") === (item.author_name || "") &&
    dayKey(prev.created) === dayKey(item.created) &&
    Math.abs(Date.parse(item.created) - Date.parse(prev.created)) < GROUP_WINDOW_MS
  );
}

function separator(key) {
  const sep = make("div", "day-separator");
  sep.setAttribute("role", "separator");
  sep.setAttribute("data-day", key);
  sep.appendChild(make("span"));
  return sep;
}

/*
 * new LogView(container, {build(item) -> node, update(item, node, grouped)})
 *   .render(items): items in order (stored, then pending); .clear()
 *   .node(item) -> its node or null
 */
export class LogView {
  constructor(container, bubbles) {
    this.container = container;
    this.bubbles = bubbles;
    this._nodes = new Map(); // viewKey -> node
    this._days = new Map(); // day key -> separator
  }

  node(item) {
    return this._nodes.get(viewKey(item)) || null;
  }

  render(items) {
    const wanted = [];
    const usedKeys = new Set();
    const usedDays = new Set();
    let prev = null;
    let prevNode = null;
    for (const item of items) {
      const key = viewKey(item);
      if (usedKeys.has(key)) {
        continue;
      }
      usedKeys.add(key);
      const day = dayKey(item.created);
      if (!usedDays.has(day) && (!prev || dayKey(prev.created) !== day)) {
        usedDays.add(day);
        wanted.push(this._separator(day, item.created));
      }
      let node = this._nodes.get(key);
      if (!node) {
        node = this.bubbles.build(item);
        this._nodes.set(key, node);
      }
      const grouped = groupsWith(prev, item);
      this.bubbles.update(item, node, grouped);
      node.classList.toggle("grouped", grouped);
      if (prevNode) {
        prevNode.classList.toggle("has-next", grouped); // its time shows under the next
      }
      wanted.push(node);
      prev = item;
      prevNode = node;
    }
    if (prevNode) {
      prevNode.classList.remove("has-next");
    }
    reconcile(this.container, wanted);
    for (const key of Array.from(this._nodes.keys())) {
      if (!usedKeys.has(key)) {
        this._nodes.delete(key);
      }
    }
    for (const day of Array.from(this._days.keys())) {
      if (!usedDays.has(day)) {
        this._days.delete(day);
      }
    }
  }

  _separator(day, iso) {
    let sep = this._days.get(day);
    if (!sep) {
      sep = separator(day);
      this._days.set(day, sep);
    }
    const label = formatDay(iso); // "Today" becomes "Yesterday" overnight
    if (sep.firstChild.textContent !== label) {
      sep.firstChild.textContent = label;
      sep.setAttribute("aria-label", label);
    }
    return sep;
  }

  clear() {
    this._nodes.clear();
    this._days.clear();
    this.container.replaceChildren();
  }
}
