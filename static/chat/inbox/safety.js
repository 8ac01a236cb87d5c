/*
 * A conversation's block and rating in the inbox (templates/admin/chat/inbox.html):
 * the header's Block / Unblock, the dialog asking for a reason (and whether to
 * block the visitor's network too), a line saying who blocked them and why, and
 * the visitor's rating. Fed by `thread.extra` frames (with each opened thread, and
 * live); sends `visitor.block` and `visitor.unblock`.
 *
 *   new ThreadSafety(el, {send(frame, thread) -> bool, openId() -> id, notice(text)})
 *   .apply(frame) -> whether it was one of its frames; .render()
 */
import { t, tf } from "../lib/i18n.js";

export class ThreadSafety {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    this.extras = new Map(); // thread id -> {blocked, rating}
    el.blockVisitor.addEventListener("click", () => this._ask());
    el.unblockVisitor.addEventListener("click", () => {
      const id = deps.openId();
      if (id != null && !deps.send({ type: "visitor.unblock", thread: id }, id)) {
        deps.notice(t("Not connected. Please try again in a moment."));
      }
    });
    el.blockForm.addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.value === "cancel") {
        return; // the dialog closes by itself (method="dialog")
      }
      const id = deps.openId();
      const frame = {
        type: "visitor.block",
        thread: id,
        reason: el.blockReason.value.trim(),
        network: el.blockNetwork.checked,
      };
      if (id == null || !deps.send(frame, id)) {
        event.preventDefault();
        deps.notice(t("Not connected. Please try again in a moment."));
      }
    });
  }

  _ask() {
    this.el.blockReason.value = "";
    this.el.blockNetwork.checked = false;
    this.el.blockDialog.showModal();
    this.el.blockReason.focus();
  }

  apply(f) {
    if (f.type !== "thread.extra" || typeof f.thread !== "number") {
      return false;
    }
    this.extras.set(f.thread, { blocked: f.blocked || null, rating: f.rating || null });
    if (f.thread === this.deps.openId()) {
      this.render();
    }
    return true;
  }

  render() {
    const el = this.el;
    const id = this.deps.openId();
    const extra = (id != null && this.extras.get(id)) || null;
    const blocked = extra && extra.blocked;
    el.blockVisitor.hidden = id == null || !extra || !!blocked;
    el.unblockVisitor.hidden = !blocked;
    el.blockedNote.hidden = !blocked;
    if (blocked) {
      const who = blocked.by || t("someone");
      el.blockedNote.textContent = blocked.reason
        ? tf("Blocked by %(name)s: %(reason)s. Nothing they send is stored.", { name: who, reason: blocked.reason })
        : tf("Blocked by %(name)s. Nothing they send is stored.", { name: who });
    }
    const rating = extra && extra.rating;
    el.ratingNote.hidden = !rating;
    if (rating) {
      const stars = "★".repeat(rating.score) + "☆".repeat(5 - rating.score);
      el.ratingNote.textContent = rating.comment
        ? tf("Rated %(stars)s %(score)s/5: %(comment)s", { stars, score: rating.score, comment: rating.comment })
        : tf("Rated %(stars)s %(score)s/5", { stars, score: rating.score });
    }
  }
}
