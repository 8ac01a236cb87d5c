/*
 * The open conversation of the inbox (#conversation): its header (the visitor, their
 * presence, status, assignee, Close/Reopen, Details), who is typing, and its messages
 * (one LogView per thread, kept while the operator looks at others), with "Seen"
 * under the last reply the visitor has read.
 */
import { t, tf } from "../lib/i18n.js";
import { LogView } from "../lib/render.js";
import { TYPING_EXPIRE_MS } from "../lib/typing.js";
import { buildBubble, updateBubble } from "./bubbles.js";
import { threadName } from "./rows.js";

const ACTION_TIMEOUT_MS = 10000;

function detailsUrl(template, id) {
  const tpl = String(template || "");
  const at = tpl.lastIndexOf("/0/");
  return at >= 0 ? tpl.slice(0, at) + "/" + id + "/" + tpl.slice(at + 3) : tpl;
}

/*
 * new ConversationPane(el, {client, threads (ThreadList), config, me() -> {id, name},
 *                           openId() -> id|null, focus() (the reply box)})
 */
export class ConversationPane {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    this._views = new Map(); // thread id -> LogView
    this.visitorTyping = new Map(); // thread id -> until (ms)
    this.operatorTyping = new Map(); // thread id -> {name, until}
    this._build = buildBubble({ retry: (node) => this._retry(node), discard: (node) => this._discard(node) });
    el.messages.addEventListener("click", (event) => {
      const cancel = event.target.closest("[data-action='cancel-upload']");
      const entry = cancel && this._entry(cancel.closest(".msg"));
      if (entry && entry.upload) {
        this.deps.client.uploader.drop(entry);
        this.deps.focus();
      }
    });
  }

  // An unsent reply's outbox entry, from its bubble.
  _entry(node) {
    return node ? this.deps.client.outbox.find(node.dataset.clientId) : null;
  }

  // Retry: upload the file again, or send now.
  _retry(node) {
    const entry = this._entry(node);
    if (entry && entry.upload) {
      this.deps.client.uploader.start(entry);
    } else if (entry) {
      this.deps.client.outbox.retry(entry);
    }
  }

  // Discard (Remove for a file): never sent.
  _discard(node) {
    const entry = this._entry(node);
    if (entry && entry.upload) {
      this.deps.client.uploader.drop(entry);
    } else if (entry && (entry.status === "failed" || entry.code)) {
      this.deps.client.outbox.remove(entry);
    }
  }

  view(id) {
    let view = this._views.get(id);
    if (!view) {
      view = new LogView(this.el.messages, { build: this._build, update: () => {} });
      this._views.set(id, view);
    }
    return view;
  }

  buildAssignOptions(operators) {
    const el = this.el;
    const me = this.deps.me();
    el.assign.replaceChildren(new Option(t("Unassigned"), ""));
    for (const op of operators) {
      const label = op.id === me.id ? tf("%(name)s (you)", { name: op.name }) : op.name;
      el.assign.appendChild(new Option(label, String(op.id)));
    }
  }

  renderHeader() {
    const el = this.el;
    const id = this.deps.openId();
    el.root.classList.toggle("has-thread", id != null);
    el.conversation.dataset.threadId = id == null ? "" : String(id);
    el.empty.hidden = id != null;
    el.header.hidden = id == null;
    el.scroll.hidden = id == null;
    el.footer.hidden = id == null;
    if (id == null) {
      el.jump.hidden = true;
      return;
    }
    const th = this.deps.threads.get(id);
    const known = !!(th && th.status);
    el.title.textContent = threadName(th, id);
    const online = !!(th && th.visitor_online);
    el.presence.hidden = !known;
    el.presence.dataset.online = String(online);
    el.presence.textContent = online ? t("Online") : t("Offline");
    el.status.hidden = !known;
    el.status.dataset.status = known ? th.status : "";
    el.status.textContent = known && th.status === "closed" ? t("Closed") : t("Open");
    el.close.hidden = !known || th.status !== "open";
    el.reopen.hidden = !known || th.status !== "closed";
    el.close.disabled = false;
    el.reopen.disabled = false;
    el.closedNote.hidden = !known || th.status !== "closed";
    el.details.href = detailsUrl(this.deps.config.threadAdminUrl, id);
    const assigned = th && th.assigned_to ? String(Number(th.assigned_to.id)) : "";
    if (assigned && !el.assign.querySelector('option[value="' + assigned + '"]')) {
      el.assign.appendChild(new Option(th.assigned_to.name || assigned, assigned));
    }
    el.assign.value = assigned;
    el.assign.disabled = !known;
  }

  // A typing frame; -> whether it is about the open thread.
  noteTyping(f) {
    const until = Date.now() + TYPING_EXPIRE_MS;
    if (f.author === "visitor") {
      if (f.active) {
        this.visitorTyping.set(f.thread, until);
      } else {
        this.visitorTyping.delete(f.thread);
      }
    } else if (f.author === "operator") {
      if (f.active && f.name !== this.deps.me().name) {
        this.operatorTyping.set(f.thread, { name: f.name || "", until });
      } else {
        this.operatorTyping.delete(f.thread);
      }
    }
    if (f.thread === this.deps.openId()) {
      this.renderTyping();
      setTimeout(() => this.renderTyping(), TYPING_EXPIRE_MS + 50);
    }
  }

  // A message from someone ends their typing notice.
  typingEnded(thread, author) {
    (author === "visitor" ? this.visitorTyping : this.operatorTyping).delete(thread);
  }

  clearTyping() {
    this.visitorTyping.clear();
    this.operatorTyping.clear();
    this.renderTyping();
  }

  renderTyping() {
    const id = this.deps.openId();
    const now = Date.now();
    let text = "";
    if (id != null) {
      const until = this.visitorTyping.get(id);
      const op = this.operatorTyping.get(id);
      if (until && until > now) {
        text = t("Visitor is typing…");
      } else if (op && op.until > now) {
        text = tf("%(name)s is replying…", { name: op.name || t("Another operator") });
      }
    }
    if (this.el.typing.textContent !== text) {
      this.el.typing.textContent = text;
    }
  }

  // The open thread's messages, stored then unsent; "Seen" under the last reply the
  // visitor has read.
  renderMessages() {
    const el = this.el;
    const id = this.deps.openId();
    const client = this.deps.client;
    if (id == null) {
      el.messages.replaceChildren();
      this.renderLoadEarlier();
      return;
    }
    const log = client.log(id);
    const th = this.deps.threads.get(id);
    const stored = log.messages.concat(client.pending(log));
    // Private notes among them (inbox/notes.js).
    const items = this.deps.merge ? this.deps.merge(id, stored, log.hasEarlier()) : stored;
    const readUpTo = th ? th.visitor_read_up_to || 0 : 0;
    let lastReply = null;
    for (let i = items.length - 1; i >= 0 && !lastReply; i--) {
      if (items[i].author === "operator") {
        lastReply = items[i];
      }
    }
    const seen = lastReply && lastReply.id != null && lastReply.id <= readUpTo ? lastReply : null;
    const view = this.view(id);
    const shown = {
      myName: this.deps.me().name,
      visitorName: threadName(th, id),
      online: client.state === "open",
    };
    view.bubbles.update = (item, node) => updateBubble(item, node, Object.assign({ seen: item === seen }, shown));
    view.render(items);
    this.renderLoadEarlier();
  }

  renderLoadEarlier() {
    const id = this.deps.openId();
    const log = id != null ? this.deps.client.log(id) : null;
    this.el.loadEarlier.hidden = !log || !log.ready || !log.hasEarlier();
    this.el.loadEarlier.disabled = !!(log && log.awaiting("history"));
  }

  // Close or reopen: the button waits for the thread frame that confirms it.
  threadAction(type, buttonEl, notice) {
    const id = this.deps.openId();
    if (id == null) {
      return;
    }
    if (this.deps.client.send({ type }, id)) {
      buttonEl.disabled = true;
      setTimeout(() => {
        buttonEl.disabled = false;
      }, ACTION_TIMEOUT_MS);
    } else {
      notice(t("You are offline. Try again when the connection is back."));
    }
  }

  assign(notice) {
    const id = this.deps.openId();
    if (id == null) {
      return;
    }
    const value = this.el.assign.value;
    const frame = { type: "thread.assign", operator: value ? Number(value) : null };
    if (!this.deps.client.send(frame, id)) {
      notice(t("You are offline. Try again when the connection is back."));
      this.renderHeader();
    }
  }
}
