/*
 * The thread list's `threads` requests (inbox/threads.js): one in flight at a time,
 * answered by a page or given up after REQUEST_TIMEOUT_MS; the next one waits (a
 * reset takes the place of whatever waits) and goes with the list's filter as it is
 * by then.
 *
 *   new PageRequests({send(frame) -> bool, filter() -> {view, label, q, cursor},
 *                     changed() (a request went, waits or ended)})
 *     .request(reset); .answered() -> the request a page answers (null: none was
 *     awaited); .next(): the waiting one goes; .forget()
 *     .resetting, .busy, .loadingMore: what the list shows meanwhile
 */

const PAGE_SIZE = 30;
const REQUEST_TIMEOUT_MS = 10000;

export class PageRequests {
  constructor(hooks) {
    this.hooks = hooks;
    this.inFlight = null; // the one `threads` request awaiting its answer
    this.queued = null;
  }

  get resetting() {
    return this.inFlight ? this.inFlight.reset : this.queued ? this.queued.reset : false;
  }

  get busy() {
    return !!this.inFlight;
  }

  get loadingMore() {
    return !!this.inFlight && !this.inFlight.reset;
  }

  request(reset) {
    const f = this.hooks.filter();
    const req = { reset, view: f.view, label: f.label, q: f.q, before: reset ? null : f.cursor };
    if (this.inFlight) {
      if (reset || !this.queued) {
        this.queued = req;
      }
      this.hooks.changed();
      return;
    }
    this._send(req);
  }

  _send(req) {
    const frame = { type: "threads", view: req.view, q: req.q, before: req.before, limit: PAGE_SIZE };
    if (req.label != null) {
      frame.label = req.label;
    }
    if (this.hooks.send(frame)) {
      req.sentAt = Date.now();
      this.inFlight = req;
      req.timer = setTimeout(() => {
        if (this.inFlight === req) {
          this.inFlight = null;
          this.next();
          this.hooks.changed();
        }
      }, REQUEST_TIMEOUT_MS);
    }
    this.hooks.changed();
  }

  next() {
    const next = this.queued;
    this.queued = null;
    if (next) {
      const f = this.hooks.filter();
      next.view = f.view;
      next.label = f.label;
      next.q = f.q;
      if (!next.reset) {
        next.before = f.cursor;
      }
      this._send(next);
    }
  }

  answered() {
    const req = this.inFlight;
    this.inFlight = null;
    if (req) {
      clearTimeout(req.timer);
    }
    return req;
  }

  // The connection closed or said hello again: nothing is awaited any more.
  forget() {
    if (this.inFlight) {
      clearTimeout(this.inFlight.timer);
    }
    this.inFlight = null;
    this.queued = null;
  }
}
