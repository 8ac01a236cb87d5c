/*
 * The inbox's keyboard shortcuts, listed by "?" in a dialog (#shortcuts-dialog, a
 * native modal <dialog>: Escape closes it, the focus comes back). None fires while
 * the focus is in a field (the reply box, the search, a select), with Ctrl, Meta,
 * or while a dialog is open; Escape in the reply box leaves it for the list.
 */

// key (event.key, with "Alt+" when Alt is held) -> action name
const KEYS = {
  j: "next",
  "Alt+ArrowDown": "next",
  k: "previous",
  "Alt+ArrowUp": "previous",
  c: "close",
  a: "assign",
  r: "reply",
  "/": "search",
  "?": "help",
};

function isField(node) {
  return !!(node && node.closest && node.closest("input, textarea, select, [contenteditable='true']"));
}

export function shortcutFor(event) {
  if (event.ctrlKey || event.metaKey || event.isComposing) {
    return null;
  }
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const name = event.altKey ? "Alt+" + key : key === "?" || !event.shiftKey || key === "/" ? key : null;
  return name && Object.prototype.hasOwnProperty.call(KEYS, name) ? KEYS[name] : null;
}

/*
 * new Shortcuts(el, deps)
 *   el: the page's elements (inbox.js IDS: shortcutsDialog, shortcutsClose,
 *       shortcutsOpen, input, list, search, close, assign)
 *   deps: {threads, pane, composer, me(), openId(), open(id), notice(text)}
 */
export class Shortcuts {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    // Alt+arrows before the list's own arrows (capture); the rest after the reply
    // box's handlers (its "/" list takes Escape first).
    document.addEventListener("keydown", (event) => event.altKey && this._key(event), true);
    document.addEventListener("keydown", (event) => !event.altKey && this._key(event));
    el.shortcutsOpen.addEventListener("click", () => el.shortcutsDialog.showModal());
    el.shortcutsClose.addEventListener("click", () => el.shortcutsDialog.close());
    el.shortcutsDialog.addEventListener("click", (event) => {
      if (event.target === el.shortcutsDialog) {
        el.shortcutsDialog.close(); // a click on the backdrop
      }
    });
  }

  _key(event) {
    if (event.defaultPrevented || document.querySelector("dialog[open]")) {
      return; // a dialog handles its own keys (Escape closes it)
    }
    if (isField(event.target)) {
      if (event.key === "Escape" && event.target === this.el.input && !event.shiftKey) {
        this.leaveReply();
      }
      return;
    }
    const action = shortcutFor(event);
    if (!action) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    this[action]();
  }

  help() {
    this.el.shortcutsDialog.showModal();
  }

  next() {
    this._openSibling(1);
  }

  previous() {
    this._openSibling(-1);
  }

  // The conversation after (1) or before (-1) the open one in the list, opened; the
  // focus goes to its row (not the reply box), so that the next key moves on again.
  _openSibling(step) {
    const rows = Array.from(this.el.list.children);
    if (!rows.length) {
      return;
    }
    const openId = this.deps.openId();
    const at = rows.findIndex((row) => Number(row.dataset.threadId) === openId);
    const next = rows[at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step))];
    const id = Number(next.dataset.threadId);
    this.deps.open(id);
    const row = this.deps.threads.row(id);
    if (row && row.isConnected) {
      row.focus();
    }
  }

  close() {
    if (this.deps.openId() != null && !this.el.close.hidden && !this.el.close.disabled) {
      this.el.close.click();
    }
  }

  assign() {
    const me = this.deps.me();
    const select = this.el.assign;
    const option = me.id != null ? select.querySelector(`option[value="${Number(me.id)}"]`) : null;
    if (this.deps.openId() != null && option && select.value !== option.value) {
      select.value = option.value;
      this.deps.pane.assign(this.deps.notice);
    }
  }

  reply() {
    if (this.deps.openId() != null) {
      this.deps.composer.focus();
    }
  }

  search() {
    this.el.search.focus();
  }

  // Escape in the reply box: back to the open conversation's row in the list.
  leaveReply() {
    const openId = this.deps.openId();
    const row = openId != null ? this.deps.threads.row(openId) : null;
    (row && row.isConnected ? row : this.el.list.firstElementChild || this.el.search).focus();
  }
}
