/*
 * Typing notices (docs/protocol.md): "active" repeated every 3 s while there is text,
 * "inactive" once when the text goes, after 5 s without input, or a moment after the
 * box loses focus; a message sent ends the notice on the other side by itself.
 */

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 5000;
const TYPING_BLUR_MS = 1000;
// Someone else's notice is hidden after this long; longer than the repeat, so that a
// live notice never flickers off.
export const TYPING_EXPIRE_MS = 6000;

/*
 * typingSender(send(active, key) -> bool) -> {input(hasText, key), stop(), reset(),
 * sent(), blur()}; key: the thread (inbox) or nothing. reset(): the socket closed.
 */
export function typingSender(send) {
  let active = false;
  let key = null;
  let sentAt = 0;
  let idleTimer = null;

  function reset() {
    clearTimeout(idleTimer);
    active = false;
    key = null;
    sentAt = 0;
  }

  function stop() {
    const was = active;
    const wasKey = key;
    reset();
    if (was) {
      send(false, wasKey);
    }
  }

  function input(hasText, forKey) {
    clearTimeout(idleTimer);
    if (!hasText) {
      stop();
      return;
    }
    const now = Date.now();
    if (!active || key !== forKey || now - sentAt >= TYPING_REPEAT_MS) {
      if (send(true, forKey)) {
        active = true;
        key = forKey;
        sentAt = now;
      }
    }
    idleTimer = setTimeout(stop, TYPING_IDLE_MS);
  }

  // Leaving the box (for the send button, say) stops the notice a moment later,
  // unless a message went meanwhile, which said so already.
  function blur() {
    clearTimeout(idleTimer);
    if (active) {
      idleTimer = setTimeout(stop, TYPING_BLUR_MS);
    }
  }

  return { input, stop, reset, sent: reset, blur };
}
