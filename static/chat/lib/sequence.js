/*
 * Which messages of a thread a client holds. `seq` numbers them 1, 2, 3… with no
 * gaps (docs/protocol.md): a jump means live delivery dropped something (a full or
 * restarted channel layer) and the client asks `sync` from the last seq it holds
 * without a hole. One tracker per thread, on every page; pure, tested in Node.
 */
import { isInt } from "./util.js";

export class SeqTracker {
  constructor() {
    this.last = 0; // every seq up to here is held (from where the client started)
    this.known = false; // `last` is a baseline: a seq beyond last + 1 is a gap
    this._ahead = new Set(); // seqs held beyond last
  }

  // Everything up to `seq` is accounted for: the newest of a first history page, the
  // seq before a cached run, 0 for a thread read from its start.
  start(seq) {
    this.known = true;
    this.last = Math.max(0, isInt(seq) ? seq : 0);
    this._advance();
  }

  // Never trust more than `seq` (a lazily written cache): what lies after it is asked
  // for again.
  limit(seq) {
    if (isInt(seq) && seq >= 0 && seq < this.last) {
      this.last = seq;
      this._ahead.clear();
    }
  }

  // A message is held. True when a gap remains after `last`.
  note(seq) {
    if (isInt(seq) && seq > this.last) {
      this._ahead.add(seq);
      this._advance();
    }
    return this.hasGap();
  }

  hasGap() {
    return this.known && this._ahead.size > 0;
  }

  // Would holding this seq leave a gap? (An ack for a message the client does not
  // show: another tab's.)
  isBeyond(seq) {
    return this.known && isInt(seq) && seq > this.last + 1;
  }

  // The newest seq held.
  newest() {
    let top = this.last;
    for (const seq of this._ahead) {
      top = Math.max(top, seq);
    }
    return top;
  }

  // Go on past a hole the server did not fill (a sync page cut by size, or nothing
  // there).
  skipTo(seq) {
    if (isInt(seq) && seq > this.last) {
      this.last = seq;
      this._advance();
    }
  }

  _advance() {
    for (const seq of Array.from(this._ahead)) {
      if (seq <= this.last) {
        this._ahead.delete(seq);
      }
    }
    if (!this.known) {
      return;
    }
    while (this._ahead.has(this.last + 1)) {
      this._ahead.delete(this.last + 1);
      this.last++;
    }
  }
}
