/*
 * The rating at the end of a conversation (#rating, templates/chat/visitor.html):
 * asked when the conversation is closed, once per closing; 1 to 5 stars and an
 * optional comment (`thread.rate`), changeable until the server's changeable_until.
 *
 *   ratingPanel(el, {send(frame) -> bool, toast})
 *   -> {hello(rating, status), status(status), frame(f), error(f) -> bool}
 */
import { t } from "../lib/i18n.js";

export function ratingPanel(el, opts) {
  const state = { enabled: false, status: "open", current: null, score: 0 };
  const labels = Array.from(el.rating.querySelectorAll(".rating-star"));
  const inputs = Array.from(el.rating.querySelectorAll("input[name=score]"));
  let timer = null;

  function changeable() {
    const until = state.current && Date.parse(state.current.changeable_until);
    return !state.current || !(until < Date.now());
  }

  function paintStars(score) {
    labels.forEach((label, i) => label.classList.toggle("on", i < score));
  }

  function update() {
    el.rating.hidden = !(state.enabled && state.status === "closed");
    const rated = !!state.current;
    const open = changeable();
    el.ratingThanks.hidden = !rated;
    el.ratingComment.disabled = !open;
    el.ratingSend.hidden = !open;
    inputs.forEach((input) => { input.disabled = !open; });
    el.ratingSend.textContent = rated ? t("Change my rating") : t("Send");
    paintStars(state.score);
    clearTimeout(timer);
    if (rated && open) {
      const left = Date.parse(state.current.changeable_until) - Date.now();
      timer = setTimeout(update, Math.min(Math.max(left, 0) + 50, 2147483647));
    }
  }

  function take(rating) {
    state.current = rating && typeof rating === "object" ? rating : null;
    if (state.current) {
      state.score = state.current.score;
      inputs.forEach((input) => { input.checked = Number(input.value) === state.score; });
      el.ratingComment.value = state.current.comment || "";
    }
  }

  inputs.forEach((input) => {
    input.addEventListener("change", () => {
      state.score = Number(input.value);
      paintStars(state.score);
    });
  });
  el.rating.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.score) {
      opts.toast.show(t("Choose from one to five stars."));
      return;
    }
    const frame = { type: "thread.rate", score: state.score, comment: el.ratingComment.value.trim() };
    if (!opts.send(frame)) {
      opts.toast.show(t("Not connected. Please try again in a moment."));
    }
  });

  return {
    hello(rating, status) {
      state.enabled = !!(rating && rating.enabled);
      take(rating && rating.current);
      state.status = status;
      update();
    },
    status(status) {
      if (status !== state.status) {
        state.status = status;
        if (status === "closed") { // a new closing: asked again
          take(null);
          state.score = 0;
          inputs.forEach((input) => { input.checked = false; });
          el.ratingComment.value = "";
        }
        update();
      }
    },
    frame(f) {
      take(f.rating);
      update();
    },
    error(f) {
      if (f.frame !== "thread.rate") {
        return false;
      }
      opts.toast.show(typeof f.detail === "string" && f.detail ? f.detail : t("Something went wrong. Please try again."));
      return true;
    },
  };
}
