/*
 * The inbox's views (#thread-filter: Mine, Unassigned, Open, Waiting longest,
 * Closed, All) and their counts. The server counts on each first page of `threads`
 * and on `views`; in between the counts follow the thread frames and messages the
 * inbox hears, by what each changed, and a change the inbox cannot place (a thread
 * it never saw) asks the server again, at most once a second.
 */
export const VIEWS = ["mine", "unassigned", "open", "waiting", "closed", "all"];
const RECOUNT_MS = 1000;

// The views a thread is in, for the operator `me` (null: the list does not show it).
export function viewsOf(th, me) {
  if (!th || !th.status || !th.last_message) {
    return null;
  }
  const open = th.status === "open";
  const mine = !!(open && th.assigned_to && me && th.assigned_to.id === me.id);
  return {
    mine,
    unassigned: open && !th.assigned_to,
    open,
    waiting: open && !!th.waiting_since,
    closed: th.status === "closed",
    all: true,
  };
}

// A new conversation: its first message is the one the inbox knows.
function isNew(th) {
  return !!(th && th.last_message && th.last_message.seq === 1);
}

/*
 * new Views(el, {send(frame) -> bool, me() -> {id, name}, select(view)})
 */
export class Views {
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.counts = null;
    this._recount = null;
    el.filter.addEventListener("click", (event) => {
      const b = event.target.closest("button[data-view]");
      if (b) {
        hooks.select(b.dataset.view);
      }
    });
  }

  setCounts(counts) {
    if (counts && typeof counts === "object") {
      this.counts = {};
      VIEWS.forEach((v) => {
        this.counts[v] = Math.max(0, Number(counts[v]) || 0);
      });
      this.render();
    }
  }

  // A thread changed from `before` (viewsOf, or null: not known) to `th`.
  changed(before, th) {
    if (!this.counts) {
      return;
    }
    const after = viewsOf(th, this.hooks.me());
    if (!before && !(after && isNew(th))) {
      if (after || th.status) {
        this.recountSoon(); // a thread the inbox never saw: its views are not known
      }
      return;
    }
    VIEWS.forEach((v) => {
      const delta = (after && after[v] ? 1 : 0) - (before && before[v] ? 1 : 0);
      this.counts[v] = Math.max(0, this.counts[v] + delta);
    });
    this.render();
  }

  recountSoon() {
    if (this._recount) {
      return;
    }
    this._recount = setTimeout(() => {
      this._recount = null;
      this.hooks.send({ type: "views" });
    }, RECOUNT_MS);
  }

  render() {
    for (const b of this.el.filter.querySelectorAll("button[data-view]")) {
      const count = b.querySelector(".view-count");
      const n = this.counts ? this.counts[b.dataset.view] : null;
      if (count) {
        count.textContent = n == null ? "" : String(n);
        count.hidden = n == null;
      }
    }
  }
}
