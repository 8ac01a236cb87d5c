/*
 * When the connection (connection.js) tries again after a close (docs/protocol.md,
 * "close codes"): one capped, jittered back-off for every page; at once, spread over a
 * second, when the server restarts (1001/1012), and "Reconnecting…" rather than
 * "Offline" while the restart lasts; not before FLOOD_WAIT_MS after 4429; never after
 * 4401/4403. No DOM, no timers: the connection keeps those.
 *
 *   new Backoff()
 *     .afterClose(code, now) -> the wait before the next try (ms)
 *     .failedToOpen() -> the wait after a socket that could not even be made
 *     .wait(delay, now) -> delay, or longer while the 4429 penalty lasts
 *     .isRestarting(now); .endRestart(): it is over (open again, or offline)
 *     .resetAttempts(): the next failure waits the least again
 *     .jitter(): a wait of under a second, to spread thousands of pages
 */

// Back-off: the first retry after 1-2 s, doubling, at most 10 s ("equal jitter":
// between half the ceiling and the ceiling, so that thousands of pages spread).
const BACKOFF_FIRST_MS = 2000;
const BACKOFF_CAP_MS = 10000;
export const RESTART_CODES = Object.freeze({ 1001: true, 1012: true });
export const NO_RETRY_CODES = Object.freeze({ 4401: true, 4403: true });
const RESTART_JITTER_MS = 1000;
// A restart takes a few seconds: "Reconnecting…", not "Offline", while it lasts.
const RESTART_GRACE_MS = 30000;
const FLOOD_WAIT_MS = 30000;

// The wait before retry number `attempt` (0, 1, ...), in ms.
export function retryDelay(attempt, random) {
  const r = typeof random === "number" ? random : Math.random();
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.max(0, attempt)));
  return ceiling / 2 + r * (ceiling / 2);
}

export class Backoff {
  constructor() {
    this.attempt = 0;
    this.notBefore = 0; // no reconnect before this time (after 4429)
    this.restartUntil = 0; // a restart is under way until then
  }

  afterClose(code, now) {
    let delay;
    if (RESTART_CODES[code]) {
      // The server restarts (or hands over): back at once, spread over a second.
      this.restartUntil = now + RESTART_GRACE_MS;
      this.attempt = 0;
      delay = this.jitter();
    } else {
      delay = retryDelay(this.attempt);
      this.attempt = Math.min(this.attempt + 1, 16);
    }
    if (code === 4429) {
      this.restartUntil = 0;
      this.notBefore = now + FLOOD_WAIT_MS;
    }
    return delay;
  }

  failedToOpen() {
    return retryDelay(this.attempt++);
  }

  wait(delay, now) {
    return Math.max(delay, this.notBefore - now, 0);
  }

  isRestarting(now) {
    return now < this.restartUntil;
  }

  endRestart() {
    this.restartUntil = 0;
  }

  resetAttempts() {
    this.attempt = 0;
  }

  jitter() {
    return Math.random() * RESTART_JITTER_MS;
  }
}
