/*
 * Keeping a conversation where the reader wants it: at the end while they are there
 * (also while pictures load and the box grows), where they were when older messages
 * come in above, and a "New messages" button when something arrives while they read
 * back. Older pages load when a person scrolls near the top, never when a script does.
 */

const USER_SCROLL_MS = 1500;
const SCROLLBAR_DRAG_MS = 10000;

export function isNearBottom(box, px) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < px;
}

// Marks a box's scrolling as a person's: wheel, touch and keys for a moment, a press
// on the box itself (its scrollbar, not a button inside) for as long as a drag lasts.
export function trackUserScroll(box) {
  const mark = (ms) => {
    box.sohbetUserScrollUntil = Date.now() + ms;
  };
  for (const type of ["wheel", "touchmove", "keydown"]) {
    box.addEventListener(type, () => mark(USER_SCROLL_MS), { passive: true });
  }
  box.addEventListener("pointerdown", (event) => {
    if (event.target === box) {
      mark(SCROLLBAR_DRAG_MS);
    }
  }, { passive: true });
}

export function isUserScroll(box) {
  return Date.now() < (box.sohbetUserScrollUntil || 0);
}

function reducedMotion() {
  return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
}

/*
 * new Scroller(box, {content, jump, render(), nearPx, nearTopPx, onNearTop(), active()})
 *   box scrolls, content grows inside it; jump: the "New messages" button; render:
 *   the page's drawing of the conversation (paint() calls it); active(): whether
 *   there is a conversation to keep (the inbox may show none).
 */
export class Scroller {
  constructor(box, opts) {
    this.box = box;
    this.jump = opts.jump;
    this.render = opts.render;
    this._planned = null;
    this.nearPx = opts.nearPx || 80;
    this.nearTopPx = opts.nearTopPx || 60;
    this.onNearTop = opts.onNearTop || (() => {});
    this.active = opts.active || (() => true);
    this.pinned = true; // at the end, as of the last scroll
    this._smoothUntil = 0;
    trackUserScroll(box);
    box.addEventListener("scroll", () => {
      this.pinned = this.atEnd();
      if (this.pinned && !this.jump.hidden) {
        this.jump.hidden = true;
      }
      if (isUserScroll(box) && box.scrollTop < this.nearTopPx) {
        this.onNearTop();
      }
    }, { passive: true });
    this.jump.addEventListener("click", () => this.toEnd(true));
    this._keepAtEnd(opts.content);
  }

  // At the end now (a smooth scroll on its way there counts).
  atEnd() {
    return Date.now() < this._smoothUntil || isNearBottom(this.box, this.nearPx);
  }

  toEnd(smooth) {
    const box = this.box;
    if (smooth && !reducedMotion() && typeof box.scrollTo === "function") {
      this._smoothUntil = Date.now() + 800;
      box.scrollTo({ top: box.scrollHeight, behavior: "smooth" });
    } else {
      box.scrollTop = box.scrollHeight;
    }
    this.pinned = true;
    this.jump.hidden = true;
  }

  /*
   * Render once, after the frames of this task (a burst of them paints once), and
   * place the reader. opts, merged over the calls before the paint:
   *   force: to the end anyway (the reader's own message); smooth;
   *   notify: "New messages" if they read back; keep: they stay where they were
   *   (older messages come in above).
   */
  paint(opts) {
    const o = opts || {};
    let p = this._planned;
    if (!p) {
      const box = this.box;
      p = this._planned = {
        wasAtEnd: this.pinned || this.atEnd(),
        fromBottom: box.scrollHeight - box.scrollTop,
        force: false, smooth: false, notify: false, keep: false,
      };
      queueMicrotask(() => this._paint());
    }
    p.force = p.force || !!o.force;
    p.smooth = p.smooth || !!o.smooth;
    p.notify = p.notify || !!o.notify;
    p.keep = p.keep || !!o.keep;
  }

  _paint() {
    const p = this._planned;
    this._planned = null;
    this.render();
    if (p.force || (p.wasAtEnd && !p.keep)) {
      this.toEnd(p.smooth);
    } else if (p.keep) {
      this.box.scrollTop = this.box.scrollHeight - p.fromBottom;
    } else if (p.notify) {
      this.jump.hidden = false;
    }
  }

  // A picture that loads (or a player that appears) must not push the latest message
  // away while the reader is at the end, not even during a smooth scroll there.
  _keepAtEnd(content) {
    const check = () => {
      if (this.pinned && this.active() && !isNearBottom(this.box, 1)) {
        this.toEnd(false);
      }
    };
    if (window.ResizeObserver) {
      const watch = new window.ResizeObserver(check);
      watch.observe(content);
      watch.observe(this.box);
    }
    // Media events do not bubble: caught on the way down.
    content.addEventListener("load", check, true);
    content.addEventListener("loadedmetadata", check, true);
  }
}
