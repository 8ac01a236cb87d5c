/*
 * The connection line both pages show: what the connection is doing, in words, and
 * after a flood close (4429) the seconds until it reconnects, counted down on screen
 * and announced once.
 */
import { nt, tf } from "./i18n.js";

export function limitedText(seconds) {
  return tf(
    nt(
      "Too many messages at once. Sending again in %(seconds)s second.",
      "Too many messages at once. Sending again in %(seconds)s seconds.",
      seconds
    ),
    { seconds }
  );
}

// A status line that counts down to a time: `format(seconds)` is announced once (the
// region is polite), then the seconds change on screen only. -> {start(atMs), stop()}
export function countdownBanner(region, textEl, format) {
  let timer = null;
  function stop() {
    clearInterval(timer);
    timer = null;
    region.setAttribute("aria-live", "polite");
  }
  function start(at) {
    stop();
    const show = () => {
      textEl.textContent = format(Math.max(1, Math.ceil((at - Date.now()) / 1000)));
    };
    show();
    timer = setInterval(() => {
      region.setAttribute("aria-live", "off");
      show();
    }, 1000);
  }
  return { start, stop };
}
