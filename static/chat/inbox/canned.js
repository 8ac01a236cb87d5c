/*
 * Canned replies in the reply box: "/" at the start or after a space opens a list of
 * the operator's saved replies (their own and the shared ones, `canned` frames),
 * filtered by what follows it (shortcut and title); the arrows move, Enter or Tab
 * inserts (placeholders filled), Escape closes. The reply box stays the focus: it
 * points at the list (aria-controls) and its active option (aria-activedescendant).
 * A reply's file is copied into the conversation (`canned.attach`) and goes with the
 * next message the operator sends there (docs/protocol.md, "Canned replies").
 */
import { nt, t, tf } from "../lib/i18n.js";
import { make } from "../lib/dom.js";

const TRIGGER = /(^|\s)\/([^\s/]*)$/;
const MAX_SHOWN = 8;
const REFRESH_MS = 30000;
const PLACEHOLDER = /[ \t]*\{(visitor_name|operator_name|team_name)\}/g;

// chat.canned.fill's rule: a placeholder without a value goes with the spaces
// before it (and a comma after it when it began a line); unknown ones stay.
export function fillPlaceholders(text, values) {
  let emptied = false;
  let out = String(text).replace(PLACEHOLDER, (whole, name) => {
    const value = String(values[name] || "").trim();
    if (!value) {
      emptied = true;
      return "";
    }
    return whole.slice(0, whole.indexOf("{")) + value;
  });
  if (emptied) {
    out = out.replace(/^[,;:][ \t]*/gm, "");
  }
  return out.trim();
}

// The replies that match what was typed after "/", best first: shortcuts that
// begin with it, then shortcuts and titles that contain it. An own reply hides a
// shared one with the same shortcut (the server lists the own one first).
export function matchReplies(replies, query) {
  const q = String(query || "").toLowerCase();
  const seen = new Set();
  const scored = [];
  for (const r of replies) {
    const shortcut = String(r.shortcut).toLowerCase();
    if (seen.has(shortcut)) {
      continue;
    }
    seen.add(shortcut);
    const title = String(r.title || "").toLowerCase();
    const score = shortcut.startsWith(q) ? 0 : shortcut.includes(q) ? 1 : title.includes(q) ? 2 : -1;
    if (score >= 0) {
      scored.push({ r, score });
    }
  }
  scored.sort((a, b) => a.score - b.score || (a.r.shortcut < b.r.shortcut ? -1 : 1));
  return scored.map((s) => s.r);
}

/*
 * new CannedMenu(el, hooks)
 *   el: the page's elements (inbox.js IDS: input, form, cannedMenu, cannedList,
 *       cannedEmpty, cannedStatus, cannedFile, cannedFileName, cannedFileRemove)
 *   hooks: {send(frame, thread) -> bool, openId(), values() -> {visitor_name,
 *           operator_name}, notice(text), changed(), sendWithFile(thread, body,
 *           attachment|null)}
 */
export class CannedMenu {
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.replies = [];
    this.shown = [];
    this.active = -1;
    this.token = null; // {start, end} of "/query" in the reply box
    this.requestedAt = -Infinity;
    this.pending = null; // {thread, canned, name, attachment|null}
    this.waiting = null; // a body sent before its file was ready
    // Before the reply box's own keys (Enter sends): the form hears them first.
    el.form.addEventListener("keydown", (event) => this._key(event), true);
    el.input.addEventListener("input", () => this.update());
    el.input.addEventListener("click", () => this.update());
    el.input.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) {
        this.update(); // the caret left "/query" (or came back to it)
      }
    });
    el.input.addEventListener("blur", () => this.close());
    el.cannedList.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
    el.cannedList.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) {
        this.choose(Number(option.dataset.index));
      }
    });
    el.cannedFileRemove.addEventListener("click", () => {
      this.dropFile();
      el.input.focus();
    });
  }

  hello() {
    this.requestedAt = -Infinity;
    this.refresh();
  }

  refresh() {
    const now = Date.now();
    if (now - this.requestedAt > REFRESH_MS && this.hooks.send({ type: "canned.list" })) {
      this.requestedAt = now;
    }
  }

  // Frames for this module: true when handled.
  apply(f) {
    if (f.type === "canned") {
      this.replies = Array.isArray(f.replies) ? f.replies : [];
      if (this.isOpen()) {
        this.update();
      }
      return true;
    }
    if (f.type === "canned.attachment") {
      const p = this.pending;
      if (p && p.thread === f.thread && p.canned === f.canned && !p.attachment) {
        p.attachment = f.attachment;
        this._renderFile();
        if (this.waiting !== null) {
          const body = this.waiting;
          this.waiting = null;
          this.pending = null;
          this._renderFile();
          this.hooks.sendWithFile(p.thread, body, p.attachment);
        }
      }
      return true;
    }
    return false;
  }

  // An error frame while a file was being copied: it was that copy's.
  failed() {
    if (this.pending && !this.pending.attachment) {
      this.dropFile();
    }
  }

  isOpen() {
    return !this.el.cannedMenu.hidden;
  }

  // Reads the text before the caret: "/query" there opens (or filters) the list.
  update() {
    const input = this.el.input;
    const caret = input.selectionStart;
    const match = caret === input.selectionEnd ? TRIGGER.exec(input.value.slice(0, caret)) : null;
    if (!match || this.hooks.openId() == null) {
      this.close();
      return;
    }
    this.token = { start: caret - match[2].length - 1, end: caret };
    this.refresh();
    const before = this.shown[this.active];
    this.shown = matchReplies(this.replies, match[2]).slice(0, MAX_SHOWN);
    const kept = before ? this.shown.indexOf(before) : -1;
    this.active = this.shown.length ? Math.max(0, kept) : -1;
    this._render(match[2]);
  }

  _render(query) {
    const el = this.el;
    el.cannedList.replaceChildren(
      ...this.shown.map((r, index) => {
        const option = make("li", "canned-option");
        option.id = "canned-option-" + r.id;
        option.setAttribute("role", "option");
        option.dataset.index = String(index);
        option.setAttribute("aria-selected", index === this.active ? "true" : "false");
        const head = make("span", "canned-option-head");
        head.append(make("span", "canned-shortcut", "/" + r.shortcut), make("span", "canned-title", r.title));
        if (!r.shared) {
          head.append(make("span", "canned-tag", t("Mine")));
        }
        if (r.file) {
          head.append(make("span", "canned-tag", tf("File: %(name)s", { name: r.file.name })));
        }
        option.append(head, make("span", "canned-preview", r.body.replace(/\s+/g, " ")));
        return option;
      }),
    );
    el.cannedList.hidden = !this.shown.length;
    el.cannedEmpty.hidden = this.shown.length > 0;
    el.cannedEmpty.textContent = this.replies.length
      ? tf("No saved reply matches “%(query)s”.", { query })
      : t("No saved replies yet. Add them in the admin, under Canned replies.");
    el.cannedMenu.hidden = false;
    el.input.setAttribute("aria-controls", el.cannedList.id);
    this._markActive();
    el.cannedStatus.textContent = this.shown.length
      ? tf(
        nt(
          "%(count)s saved reply. Up and down to choose, Enter to insert.",
          "%(count)s saved replies. Up and down to choose, Enter to insert.",
          this.shown.length,
        ),
        { count: this.shown.length },
      )
      : el.cannedEmpty.textContent;
  }

  _markActive() {
    const options = this.el.cannedList.children;
    for (let i = 0; i < options.length; i++) {
      options[i].setAttribute("aria-selected", i === this.active ? "true" : "false");
    }
    const current = options[this.active];
    if (current) {
      this.el.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.el.input.removeAttribute("aria-activedescendant");
    }
  }

  close() {
    if (this.el.cannedMenu.hidden) {
      return;
    }
    this.el.cannedMenu.hidden = true;
    this.el.input.removeAttribute("aria-activedescendant");
    this.el.input.removeAttribute("aria-controls");
    this.el.cannedStatus.textContent = "";
    this.token = null;
  }

  _key(event) {
    if (!this.isOpen() || event.target !== this.el.input || event.isComposing) {
      return;
    }
    const count = this.shown.length;
    let handled = true;
    if (event.key === "ArrowDown" && count) {
      this.active = (this.active + 1) % count;
      this._markActive();
    } else if (event.key === "ArrowUp" && count) {
      this.active = (this.active - 1 + count) % count;
      this._markActive();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && count) {
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  // Put reply number `index` of the list in place of "/query".
  choose(index) {
    const reply = this.shown[index];
    const token = this.token;
    if (!reply || !token) {
      return;
    }
    const input = this.el.input;
    const values = Object.assign({ team_name: reply.team_name }, this.hooks.values());
    const text = fillPlaceholders(reply.body, values);
    const value = input.value;
    input.value = value.slice(0, token.start) + text + value.slice(token.end);
    const caret = token.start + text.length;
    input.setSelectionRange(caret, caret);
    this.close();
    input.dispatchEvent(new Event("input", { bubbles: true })); // counts, typing, drafts
    input.focus();
    if (reply.file) {
      this._attach(reply);
    }
    this.hooks.changed();
  }

  _attach(reply) {
    const thread = this.hooks.openId();
    this.dropFile();
    if (this.hooks.send({ type: "canned.attach", canned: reply.id }, thread)) {
      this.pending = { thread, canned: reply.id, name: reply.file.name, attachment: null };
    } else {
      this.hooks.notice(t("You are offline. Try again when the connection is back."));
    }
    this._renderFile();
  }

  _renderFile() {
    const p = this.pending;
    this.el.cannedFile.hidden = !p;
    if (p) {
      this.el.cannedFileName.textContent = p.attachment
        ? tf("With the file %(name)s", { name: p.name })
        : tf("Preparing the file %(name)s…", { name: p.name });
    }
  }

  // The operator sends `body` in `thread`: with this reply's file when one was
  // chosen there (once copied). True when `body` went (or waits) with it; with
  // other files (`withFiles`) the saved reply's goes alone, the body with those.
  sendBody(thread, body, withFiles) {
    const p = this.pending;
    if (!p || p.thread !== thread) {
      return false;
    }
    const text = withFiles ? "" : body;
    if (!p.attachment) {
      this.waiting = text;
    } else {
      this.pending = null;
      this._renderFile();
      this.hooks.sendWithFile(thread, text, p.attachment);
    }
    return !withFiles;
  }

  // No file any more; a body waiting for it goes without it.
  dropFile() {
    const waiting = this.waiting;
    const thread = this.pending ? this.pending.thread : null;
    this.pending = null;
    this.waiting = null;
    this._renderFile();
    if (waiting && thread !== null) {
      this.hooks.sendWithFile(thread, waiting, null);
    }
  }
}
