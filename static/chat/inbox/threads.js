/*
 * The inbox's list of conversations (#thread-list): the threads the server sent
 * (`threads` pages, `thread` frames) kept up to date by live messages, filtered by
 * view (inbox/views.js), label and search, newest activity first ("Waiting longest":
 * the longest wait first), paged on as the operator scrolls (the requests:
 * inbox/paging.js). One Tab stop for the list; the arrows, Home and End move inside
 * it (inbox/roving.js).
 */
import { t } from "../lib/i18n.js";
import { ms, shortTime } from "../lib/format.js";
import { reconcile } from "../lib/dom.js";
import { isUserScroll, trackUserScroll } from "../lib/scroller.js";
import { PageRequests } from "./paging.js";
import { moveFocus, updateRovingStop, wireRoving } from "./roving.js";
import { buildRow, updateRow, updateWaiting } from "./rows.js";
import { viewsOf } from "./views.js";

/*
 * new ThreadList(el, {send(frame) -> bool, me() -> {id, name}, openId() -> id|null,
 *                     isOpenAndVisible(id), onOpen(id), chips(box, labelIds),
 *                     changed(before, th) (views.js), counts(counts), unknown()})
 */
export class ThreadList {
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.threads = new Map(); // id -> the latest known <thread>
    this._rows = new Map();
    this.view = "open";
    this.label = null; // a label id: only the conversations that carry it
    this.q = "";
    this.ids = new Set(); // shown under the current filter
    this.cursor = null; // `updated` of the last thread of the last page
    this.hasMore = false;
    this.loaded = false;
    this.requests = new PageRequests({
      send: (frame) => this.hooks.send(frame),
      filter: () => ({ view: this.view, label: this.label, q: this.q, cursor: this.cursor }),
      changed: () => this.renderChrome(),
    });
    this._wire();
  }

  get(id) {
    return this.threads.get(id) || null;
  }

  // Merge a <thread> (a page's, a frame's): the newer last message and time win.
  store(incoming) {
    let th = this.threads.get(incoming.id);
    if (!th) {
      th = {};
      this.threads.set(incoming.id, th);
    }
    const keepLast = th.last_message && incoming.last_message && th.last_message.id > incoming.last_message.id;
    const lastMessage = keepLast ? th.last_message : incoming.last_message || th.last_message || null;
    const updated = ms(th.updated) > ms(incoming.updated) ? th.updated : incoming.updated;
    const readUpTo = Math.max(th.visitor_read_up_to || 0, incoming.visitor_read_up_to || 0);
    Object.assign(th, incoming);
    th.last_message = lastMessage;
    th.updated = updated;
    th.visitor_read_up_to = readUpTo;
    th.unread = Math.max(0, Number(th.unread) || 0);
    return th;
  }

  // A thread's labels (`thread.labels`).
  setLabels(id, labels) {
    const th = this.store({ id, labels });
    this.place(th);
    this.render();
  }

  // A thread changed live: it joins or leaves the list under the current filter.
  place(th) {
    th._touchedAt = Date.now();
    if (!this.loaded || (!th.last_message && !this.ids.has(th.id))) {
      return; // the list shows threads with at least one message
    }
    if (this._matches(th)) {
      this.ids.add(th.id);
    } else {
      this.ids.delete(th.id);
    }
  }

  _matches(th) {
    const views = viewsOf(th, this.hooks.me());
    if (!views || !views[this.view]) {
      return false;
    }
    if (this.label != null && !(Array.isArray(th.labels) ? th.labels.includes(this.label) : this.ids.has(th.id))) {
      return false;
    }
    if (!this.q || this.ids.has(th.id)) {
      return true; // the server matched it (or there is no search)
    }
    const haystack = (th.visitor_name || "") + "\n" + (th.last_message ? th.last_message.body || "" : "");
    return haystack.toLowerCase().indexOf(this.q.toLowerCase()) >= 0;
  }

  /*
   * A frame about threads (threads, thread, read, presence), kept and shown. -> the
   * thread it is about (null: a page of them), undefined for any other frame.
   */
  apply(f) {
    if (f.type === "threads") {
      this.onPage(f);
      return null;
    }
    if (f.type === "thread" && f.thread && f.thread.id != null) {
      const before = viewsOf(this.threads.get(f.thread.id), this.hooks.me());
      const th = this.store(f.thread);
      this.hooks.changed(before, th);
      this.place(th);
      this.render();
      return th.id;
    }
    if (f.type === "read" && f.by === "visitor" && f.thread != null) {
      this.store({ id: f.thread, visitor_read_up_to: Number(f.up_to) || 0 });
      return f.thread;
    }
    if (f.type === "presence" && this.threads.has(f.thread)) {
      this.threads.get(f.thread).visitor_online = !!f.visitor_online;
      this.render();
      return f.thread;
    }
    return undefined;
  }

  // A message, live or ours: the row moves up and shows it.
  noteMessage(m, { unread }) {
    const th = this.threads.get(m.thread);
    if (!th || !th.status) {
      if (m.seq !== 1 && m.author !== "system") {
        this.hooks.unknown(); // it may wait, or no longer: the counts are not known
      }
      return null;
    }
    if (m.id > (th.last_message ? th.last_message.id : 0)) {
      const before = viewsOf(th, this.hooks.me());
      if (m.author === "visitor" && !th.waiting_since) {
        th.waiting_since = m.created;
      } else if (m.author === "operator") {
        th.waiting_since = null;
      }
      th.last_message = m;
      if (ms(m.created) > ms(th.updated)) {
        th.updated = m.created;
      }
      if (unread) {
        th.unread = (th.unread || 0) + 1;
      }
      this.hooks.changed(before, th);
    }
    this.place(th);
    return th;
  }

  totalUnread() {
    let total = 0;
    this.threads.forEach((th) => {
      total += th.unread || 0;
    });
    return total;
  }

  // ------------------------------------------------------------ paging
  request(reset) {
    this.requests.request(reset);
  }

  // The connection closed or said hello again: nothing is awaited any more.
  forgetRequests() {
    this.requests.forget();
  }

  onPage(frame) {
    const req = this.requests.answered();
    const items = Array.isArray(frame.threads) ? frame.threads : [];
    items.forEach((th) => this.store(th));
    if (frame.counts) {
      this.hooks.counts(frame.counts);
    }
    if (req && req.view === this.view && req.label === this.label && req.q === this.q) {
      if (req.reset) {
        this.ids = new Set();
      }
      items.forEach((th) => this.ids.add(th.id));
      if (items.length) {
        const last = items[items.length - 1];
        this.cursor = this.view === "waiting" ? last.waiting_since : last.updated;
      } else if (req.reset) {
        this.cursor = null;
      }
      this.hasMore = !!frame.has_more && items.length > 0;
      this.loaded = true;
      if (req.reset) {
        // Live changes that raced the answer still belong in the list.
        this.threads.forEach((th) => {
          if (th._touchedAt >= req.sentAt) {
            this.place(th);
          }
        });
      }
    }
    this.requests.next();
    this.render();
  }

  setView(view) {
    if (view === this.view) {
      return;
    }
    this.view = view;
    for (const b of this.el.filter.querySelectorAll("button[data-view]")) {
      b.setAttribute("aria-pressed", String(b.dataset.view === view));
    }
    this._reset();
  }

  setLabel(label) {
    if (label !== this.label) {
      this.label = label;
      this._reset();
    }
  }

  setSearch(q) {
    if (q !== this.q) {
      this.q = q;
      this._reset();
    }
  }

  _reset() {
    this.ids = new Set();
    this.loaded = false;
    this.hasMore = false;
    this.cursor = null;
    this.render();
    this.request(true);
  }

  // ------------------------------------------------------------ rendering
  render() {
    const items = [];
    this.ids.forEach((id) => {
      const th = this.threads.get(id);
      if (th) {
        items.push(th);
      }
    });
    if (this.view === "waiting") {
      items.sort((a, b) => ms(a.waiting_since) - ms(b.waiting_since) || a.id - b.id);
    } else {
      items.sort((a, b) => ms(b.updated) - ms(a.updated) || b.id - a.id);
    }
    const nodes = items.map((th) => {
      let row = this._rows.get(th.id);
      if (!row) {
        row = buildRow(th.id, () => this.hooks.onOpen(th.id));
        this._rows.set(th.id, row);
      }
      const unread = this.hooks.isOpenAndVisible(th.id) ? 0 : th.unread || 0;
      updateRow(row, th, {
        me: this.hooks.me(), unread, current: th.id === this.hooks.openId(), chips: this.hooks.chips,
      });
      return row;
    });
    reconcile(this.el.list, nodes);
    updateRovingStop(this.el.list);
    this.renderChrome();
  }

  renderChrome() {
    const el = this.el;
    const resetting = this.requests.resetting;
    const loading = !this.loaded || (resetting && this.ids.size === 0);
    el.list.setAttribute("aria-busy", loading || resetting ? "true" : "false");
    el.listLoading.hidden = !loading;
    el.listEmpty.hidden = loading || this.ids.size > 0;
    el.listEmpty.textContent = this.q ? t("No conversations match your search.") : t("No conversations here.");
    el.loadMore.hidden = !this.loaded || !this.hasMore;
    el.loadMore.disabled = this.requests.busy;
    el.loadMore.textContent = this.requests.loadingMore ? t("Loading…") : t("Load more");
  }

  refreshTimes() {
    this._rows.forEach((row, id) => {
      const th = this.threads.get(id);
      if (th && row.isConnected) {
        row.querySelector(".thread-time").textContent = shortTime(th.updated);
        updateWaiting(row, th);
      }
    });
  }

  row(id) {
    return this._rows.get(id) || null;
  }

  focusRow(step, edge) {
    moveFocus(this.el.list, step, edge);
  }

  _wire() {
    const el = this.el;
    wireRoving(el.list);
    el.loadMore.addEventListener("click", () => this.request(false));
    // Scrolling to the end pages on by itself, but only when a person scrolls: a
    // script that scrolls a button into view to click it must not load twice.
    const box = el.loadMore.parentNode;
    trackUserScroll(box);
    box.addEventListener("scroll", () => {
      if (isUserScroll(box) && this.loaded && this.hasMore && !this.requests.busy &&
          box.scrollHeight - box.scrollTop - box.clientHeight < 80) {
        this.request(false);
      }
    });
  }
}
