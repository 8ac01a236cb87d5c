/*
 * Private notes in the inbox (docs/protocol.md, "Private notes"): the composer's
 * Reply / Note switch (#composer-mode; note mode marks #conversation-footer
 * .note-mode), the notes of each thread merged with its messages in time order,
 * "@" suggestions of colleagues (#mention-suggest), alerts of mentions
 * (#mention-alerts > .mention-alert) and the transfer dialog (#transfer-dialog).
 * A note is never a message: it goes as `note.add`, never through the outbox.
 */
import { t, tf } from "../lib/i18n.js";
import { button, make } from "../lib/dom.js";
import { playChime } from "../lib/alerts.js";
import { uuid4 } from "../lib/util.js";
import { mergeNotes } from "./note-order.js";

// The lock that marks a note (its bubble, the composer's switch).
export const LOCK_ICON = "M18 8h-1V6c0-2.76-2.24-5-5-5S7 3.24 7 6v2H6c-1.1 0-2 .9-2 2v10c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V10c0-1.1-.9-2-2-2Zm-6 9c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2Zm3.1-9H8.9V6c0-1.71 1.39-3.1 3.1-3.1 1.71 0 3.1 1.39 3.1 3.1v2Z";
const MAX_ALERTS = 5;
const MAX_SUGGESTIONS = 6;
const MENTION_AT_CARET = /(^|[^\w@])@([\p{L}\p{N}_.-]*)$/u;

/*
 * new Notes(el, {send(frame, thread) -> bool, me() -> {id}, openId() -> id|null,
 *   onOpen(threadId), repaint(threadId), notice(text), composer, operators: [{id,
 *   name, username}]})
 */
export class Notes {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    this.noteMode = false;
    this._notes = new Map(); // thread -> Map(id -> note)
    this._asked = new Set(); // threads whose notes were asked for on this connection
    this._choices = [];
    this._choice = 0;
    el.modeReply.addEventListener("click", () => this.setMode(false, true));
    el.modeNote.addEventListener("click", () => this.setMode(true, true));
    el.input.addEventListener("input", () => this._suggest());
    // Away from the box (not back in it since: a blur before typing must not hide
    // what is suggested after).
    el.input.addEventListener("blur", () =>
      setTimeout(() => {
        if (document.activeElement !== el.input) {
          this._hideSuggestions();
        }
      }, 150),
    );
    // Capture: before the composer's Enter sends.
    el.form.addEventListener("keydown", (event) => this._suggestKey(event), true);
    el.suggest.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[data-index]");
      if (option) {
        event.preventDefault();
        this._pick(Number(option.dataset.index));
      }
    });
    // No colleague to transfer to: no button.
    el.transfer.hidden = !deps.operators.some((op) => op.id !== deps.me().id);
    el.transfer.addEventListener("click", () => this._openTransfer());
    el.transferForm.addEventListener("submit", (event) => this._transfer(event));
    el.transferCancel.addEventListener("click", () => el.transferDialog.close());
  }

  isNoteMode() {
    return this.noteMode;
  }

  setMode(note, focus) {
    const el = this.el;
    this.noteMode = !!note;
    el.footer.classList.toggle("note-mode", this.noteMode);
    el.modeReply.setAttribute("aria-pressed", String(!this.noteMode));
    el.modeNote.setAttribute("aria-pressed", String(this.noteMode));
    el.input.placeholder = this.noteMode
      ? t("Write a private note… @ mentions a colleague")
      : t("Write a reply…");
    el.send.textContent = this.noteMode ? t("Add note") : t("Send");
    this._hideSuggestions();
    if (focus) {
      this.deps.composer.focus();
    }
  }

  // The composer's text in note mode: -> whether it was taken.
  send(thread, body, files) {
    if (files.length) {
      this.deps.notice(t("A private note cannot carry files."));
      return false;
    }
    const frame = { type: "note.add", client_id: uuid4(), body };
    if (!this.deps.send(frame, thread)) {
      this.deps.notice(t("You are offline. Try again when the connection is back."));
      return false;
    }
    return true;
  }

  // Connected (again): notes are asked for afresh.
  hello() {
    this._asked.clear();
    const id = this.deps.openId();
    if (id != null) {
      this.load(id);
    }
  }

  load(thread) {
    if (!this._asked.has(thread) && this.deps.send({ type: "notes" }, thread)) {
      this._asked.add(thread);
    }
  }

  // A frame this module owns: handled, true.
  apply(f) {
    if (f.type === "notes") {
      // With those heard live meanwhile (notes are never taken back).
      const notes = this._notes.get(f.thread) || new Map();
      (Array.isArray(f.notes) ? f.notes : []).forEach((n) => notes.set(n.id, n));
      this._notes.set(f.thread, notes);
      this.deps.repaint(f.thread);
      return true;
    }
    if (f.type === "note" && f.note) {
      this._add(f.note);
      return true;
    }
    if (f.type === "mention" && f.note) {
      this._add(f.note);
      this._alert(f);
      return true;
    }
    return f.type === "note.ack";
  }

  _add(note) {
    let notes = this._notes.get(note.thread);
    if (!notes) {
      if (!this._asked.has(note.thread)) {
        return; // loaded with the rest when the thread is opened
      }
      notes = new Map();
      this._notes.set(note.thread, notes);
    }
    notes.set(note.id, note);
    this.deps.repaint(note.thread);
  }

  merge(thread, items, hasEarlier) {
    const notes = this._notes.get(thread);
    return notes && notes.size ? mergeNotes(Array.from(notes.values()), items, hasEarlier) : items;
  }

  // ------------------------------------------------------------ mention alerts
  _alert(f) {
    const note = f.note;
    const box = this.el.mentions;
    const alert = make("div", "mention-alert");
    alert.setAttribute("role", "status");
    alert.dataset.thread = String(note.thread);
    const who = f.visitor_name || tf("Conversation #%(id)s", { id: note.thread });
    alert.appendChild(
      make("p", "mention-alert-title", tf("%(name)s mentioned you · %(who)s", { name: note.author_name, who })),
    );
    alert.appendChild(make("p", "mention-alert-body", note.body));
    const open = button("button mention-alert-open", t("Open"));
    open.addEventListener("click", () => {
      alert.remove();
      this.deps.onOpen(note.thread);
    });
    const dismiss = button("mention-alert-dismiss", "×");
    dismiss.setAttribute("aria-label", t("Dismiss"));
    dismiss.addEventListener("click", () => alert.remove());
    alert.append(open, dismiss);
    box.prepend(alert);
    while (box.children.length > MAX_ALERTS) {
      box.lastChild.remove();
    }
    playChime();
    if ("Notification" in window && window.Notification.permission === "granted" && document.visibilityState !== "visible") {
      try {
        const shown = new window.Notification(tf("%(name)s mentioned you", { name: note.author_name }), {
          body: note.body,
          tag: "thread-" + note.thread, // the push's tag: one, not two
        });
        shown.onclick = () => {
          window.focus();
          this.deps.onOpen(note.thread);
        };
      } catch (err) {
        /* notifications are a nicety */
      }
    }
  }

  // ------------------------------------------------------------ "@" suggestions
  _suggest() {
    const input = this.el.input;
    const match = this.noteMode ? MENTION_AT_CARET.exec(input.value.slice(0, input.selectionStart)) : null;
    if (!match) {
      this._hideSuggestions();
      return;
    }
    const typed = match[2].toLowerCase();
    const me = this.deps.me();
    this._choices = this.deps.operators
      .filter((op) => op.id !== me.id && op.username)
      .filter((op) => op.username.toLowerCase().startsWith(typed) || op.name.toLowerCase().startsWith(typed))
      .slice(0, MAX_SUGGESTIONS);
    this._typedLength = match[2].length;
    this._choice = 0;
    this._renderSuggestions();
  }

  _renderSuggestions() {
    const el = this.el;
    el.suggest.replaceChildren();
    el.suggest.hidden = !this._choices.length;
    this._choices.forEach((op, i) => {
      const option = make("li", "mention-option", op.name + " · @" + op.username);
      option.id = "mention-option-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(i === this._choice));
      option.dataset.index = String(i);
      el.suggest.appendChild(option);
    });
    if (this._choices.length) {
      el.input.setAttribute("aria-activedescendant", "mention-option-" + this._choice);
    } else if ((el.input.getAttribute("aria-activedescendant") || "").startsWith("mention-option-")) {
      el.input.removeAttribute("aria-activedescendant"); // only ours: the saved replies' list shares the box
    }
  }

  _hideSuggestions() {
    this._choices = [];
    this._renderSuggestions();
  }

  _suggestKey(event) {
    if (event.target !== this.el.input || !this._choices.length) {
      return;
    }
    const count = this._choices.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this._choice = (this._choice + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      this._renderSuggestions();
    } else if (event.key === "Enter" || event.key === "Tab") {
      this._pick(this._choice);
    } else if (event.key === "Escape") {
      this._hideSuggestions();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  _pick(index) {
    const op = this._choices[index];
    const input = this.el.input;
    if (!op) {
      return;
    }
    const caret = input.selectionStart;
    const start = caret - this._typedLength;
    const text = input.value.slice(0, start) + op.username + " " + input.value.slice(caret);
    this.deps.composer.setText(text);
    input.selectionStart = input.selectionEnd = start + op.username.length + 1;
    this._hideSuggestions();
    input.focus();
  }

  // ------------------------------------------------------------ transfer
  _openTransfer() {
    const el = this.el;
    const me = this.deps.me();
    el.transferOperator.replaceChildren();
    for (const op of this.deps.operators) {
      if (op.id !== me.id) {
        el.transferOperator.appendChild(new Option(op.name, String(op.id)));
      }
    }
    el.transferNote.value = "";
    el.transferDialog.showModal();
    el.transferOperator.focus();
  }

  _transfer(event) {
    event.preventDefault();
    const el = this.el;
    const id = this.deps.openId();
    const operator = Number(el.transferOperator.value);
    if (id == null || !operator) {
      el.transferDialog.close();
      return;
    }
    const frame = { type: "thread.transfer", operator, note: el.transferNote.value };
    if (!this.deps.send(frame, id)) {
      this.deps.notice(t("You are offline. Try again when the connection is back."));
    }
    el.transferDialog.close();
  }
}
