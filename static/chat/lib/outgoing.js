/*
 * What the connection (connection.js) sends, paced under the server's limits
 * (pacing.js; docs/protocol.md, "limits"): messages leave FRAME_RESERVE frames of the
 * bucket to the rest (reads, syncs, pings), typing notices give way at half of it,
 * and other frames wait in order for room. The connection says when the socket is
 * open; what waits is dropped when it closes (clear()).
 *
 *   new Outgoing({write(text) (the socket's send; may throw), isOpen() -> bool, onRoom()})
 *     .send(obj) -> bool: false when not sent (a message.send or typing frame the
 *       limits refuse now; onRoom says when to try again, once what waits has gone)
 *     .applyLimits(limits): hello's; .room(now): frames that may go now; .clear()
 */
import { frameLimit, sendLimit } from "./pacing.js";

// Messages leave this many frames of the bucket to the rest (reads, syncs, pings);
// typing notices give way at half of it.
const FRAME_RESERVE = 4;
const MAX_WAITING = 200;

export class Outgoing {
  constructor(hooks) {
    this.hooks = hooks;
    this._frames = frameLimit(null);
    this._sends = sendLimit(null);
    this._waiting = []; // frames waiting for room, in order
    this._roomTimer = null;
  }

  applyLimits(limits) {
    const l = limits || {};
    // A new connection starts with a full bucket on the server; the messages sent
    // still count against the sender.
    const sends = sendLimit(l.send_rate);
    sends.stamps = this._sends.stamps.slice(-sends.count);
    this._frames = frameLimit(l.frame_rate);
    this._sends = sends;
  }

  room(now) {
    return this._frames.room(now);
  }

  // The socket closed (or made way for another): what waits is not sent.
  clear() {
    this._waiting = [];
    clearTimeout(this._roomTimer);
    this._roomTimer = null;
  }

  _write(obj, now) {
    try {
      this.hooks.write(JSON.stringify(obj));
    } catch (err) {
      return false;
    }
    this._frames.add(now);
    if (obj.type === "message.send") {
      this._sends.add(now);
    }
    return true;
  }

  send(obj) {
    const now = Date.now();
    const room = this._frames.room(now) - this._waiting.length;
    if (obj.type === "message.send") {
      if (room <= FRAME_RESERVE || this._sends.room(now) <= 0) {
        this._wantRoom(now);
        return false;
      }
      return this._write(obj, now);
    }
    if (obj.type === "typing" || obj.type === "ping") {
      // State that the next one repeats: typing gives way to messages early.
      const keep = obj.type === "typing" ? this._frames.count / 2 : 0;
      return room > keep && this._write(obj, now);
    }
    if (room > 0) {
      return this._write(obj, now);
    }
    if (this._waiting.length >= MAX_WAITING) {
      return false;
    }
    this._waiting.push(obj);
    this._wantRoom(now);
    return true;
  }

  // Send what waits, then tell the page there is room (its outbox goes on).
  _wantRoom(now) {
    if (this._roomTimer !== null) {
      return;
    }
    const at = this._waiting.length
      ? this._frames.freeAt(now, 0)
      : Math.max(this._frames.freeAt(now, FRAME_RESERVE), this._sends.freeAt(now, 0));
    this._roomTimer = setTimeout(() => {
      this._roomTimer = null;
      if (!this.hooks.isOpen()) {
        return;
      }
      const t = Date.now();
      while (this._waiting.length && this._frames.room(t) > 0) {
        this._write(this._waiting.shift(), t);
      }
      if (this._waiting.length) {
        this._wantRoom(t);
        return;
      }
      this.hooks.onRoom();
    }, Math.max(0, at - now) + 10);
  }
}
