/*
 * What the server allows, kept on the client so that a person typing or pasting fast
 * never meets `rate_limited` (docs/protocol.md, "limits"). The server counts frames
 * per connection with a token bucket and messages per sender in fixed windows; the
 * connection keeps the same bucket and a sliding window, each with one frame and a
 * second of slack for delays on the way. Pure: no DOM, no timers.
 */
import { isInt } from "./util.js";

// The server's defaults (SOHBET_WS_RATE, SOHBET_SEND_RATE).
export const DEFAULT_RATE = { count: 30, seconds: 10 };
const SLACK_MS = 1000;

// At most `count` in any `ms`.
export class RateWindow {
  constructor(count, ms) {
    this.count = Math.max(1, count);
    this.ms = ms;
    this.stamps = [];
  }

  _trim(now) {
    while (this.stamps.length && now - this.stamps[0] >= this.ms) {
      this.stamps.shift();
    }
  }

  // How many may go now.
  room(now) {
    this._trim(now);
    return this.count - this.stamps.length;
  }

  add(now) {
    this.stamps.push(now);
  }

  // When the room will be more than `keep` (now, if it is).
  freeAt(now, keep) {
    this._trim(now);
    const expire = this.stamps.length - (this.count - (keep || 0) - 1);
    return expire <= 0 ? now : this.stamps[expire - 1] + this.ms;
  }
}

// `count` at once, refilled at `count` per `ms`: frames flow on steadily after a burst.
export class TokenBucket {
  constructor(count, ms) {
    this.count = Math.max(1, count);
    this.perMs = this.count / ms;
    this.tokens = this.count;
    this.stamp = null;
  }

  _refill(now) {
    if (this.stamp !== null) {
      this.tokens = Math.min(this.count, this.tokens + (now - this.stamp) * this.perMs);
    }
    this.stamp = now;
  }

  room(now) {
    this._refill(now);
    return Math.floor(this.tokens);
  }

  add(now) {
    this._refill(now);
    this.tokens -= 1;
  }

  freeAt(now, keep) {
    this._refill(now);
    const short = (keep || 0) + 1 - this.tokens;
    return short <= 0 ? now : now + Math.ceil(short / this.perMs);
  }
}

function parseRate(rate) {
  const ok = rate && isInt(rate.count) && rate.count > 0 &&
    typeof rate.seconds === "number" && rate.seconds > 0;
  return ok ? rate : DEFAULT_RATE;
}

// Frames per connection (hello.limits.frame_rate): the server's bucket, one frame and
// a second less.
export function frameLimit(rate) {
  const r = parseRate(rate);
  return new TokenBucket(r.count - 1, r.seconds * 1000 + SLACK_MS);
}

// Messages per sender (hello.limits.send_rate): a sliding window of the server's
// length never holds more than any of its fixed windows.
export function sendLimit(rate) {
  const r = parseRate(rate);
  return new RateWindow(r.count - 1, r.seconds * 1000 + SLACK_MS);
}
