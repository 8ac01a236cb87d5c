/*
 * The one connection of a page: a JSON WebSocket that reconnects by itself and paces
 * what it sends under the server's limits (docs/protocol.md, "close codes" and
 * "limits"). It knows frames, not messages: the client (client.js) says what to send.
 *
 *   new Connection(path, {onOpen, onFrame(obj), onClose(code), onStateChange(state), onRoom},
 *                  {token, httpPath})
 *     state: connecting | open | reconnecting (1001/1012: the server restarts, back
 *       within a second or so) | offline (retrying with back-off) | limited (4429:
 *       .retryAt says when) | denied (4401/4403: never retried)
 *     .reconnectNow(): skip the back-off; .renew(): a new socket now, whatever the
 *       state (the identity changed)
 *     .send(obj) -> bool: false when not sent (not open, or a message.send or typing
 *       frame the limits refuse now; onRoom says when to try again). Other frames wait
 *       in order for room and are dropped if the socket closes first.
 *     token: the widget's visitor token, or a function that gives the current one (it
 *       changes when the session is rotated); a subprotocol on the socket, a header
 *       on HTTP.
 *     httpPath: the HTTP fallback's (default: path with /ws/ -> /http/), used when
 *       WebSockets do not get through (transport.js decides).
 */
import { frameLimit, sendLimit } from "./pacing.js";
import { HttpSocket } from "./http-socket.js";
import { makeStore } from "./store.js";
import { Prober, TransportChoice } from "./transport.js";

// Back-off: the first retry after 1-2 s, doubling, at most 10 s ("equal jitter":
// between half the ceiling and the ceiling, so that thousands of pages spread).
const BACKOFF_FIRST_MS = 2000;
const BACKOFF_CAP_MS = 10000;
export const RESTART_CODES = Object.freeze({ 1001: true, 1012: true });
const RESTART_JITTER_MS = 1000;
// A restart takes a few seconds: "Reconnecting…", not "Offline", while it lasts.
const RESTART_GRACE_MS = 30000;
const STABLE_AFTER_MS = 10000;
const PING_EVERY_MS = 25000;
// No frame at all (not even a pong) for this long: the socket is dead.
const SILENCE_LIMIT_MS = 2 * PING_EVERY_MS + 10000;
const FLOOD_WAIT_MS = 30000;
// Open, but not a frame (the server's hello comes at once) for this long: something
// on the way passes the handshake and nothing else (transport.js counts it).
const FIRST_FRAME_MS = 15000;
const NO_RETRY_CODES = { 4401: true, 4403: true };
// Messages leave this many frames of the bucket to the rest (reads, syncs, pings);
// typing notices give way at half of it.
const FRAME_RESERVE = 4;
const MAX_WAITING = 200;

// The wait before retry number `attempt` (0, 1, ...), in ms.
export function retryDelay(attempt, random) {
  const r = typeof random === "number" ? random : Math.random();
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.max(0, attempt)));
  return ceiling / 2 + r * (ceiling / 2);
}

function quietly(ws, code) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  try {
    ws.close(code);
  } catch (err) {
    /* already closing */
  }
}

export class Connection {
  constructor(path, handlers, options) {
    const opts = options || {};
    this.path = path;
    this.httpPath = opts.httpPath || path.replace(/^\/ws\//, "/http/");
    // The widget's visitor token (no cookies there), read at each connection: it
    // changes when the session is rotated (identify).
    const token = opts.token;
    this._token = typeof token === "function" ? token : () => token;
    this.handlers = handlers || {};
    this._choice = new TransportChoice(makeStore("localStorage"));
    this.transport = "ws"; // of the current (or last) connection: ws | http
    this._heard = false; // the current connection delivered a frame
    this._prober = new Prober(this._choice, {
      open: () => this._newWebSocket(),
      wanted: () => !this._stopped && this.transport === "http" && this.isOpen(),
      adopt: (ws, hello) => this._adopt(ws, hello),
      close: (ws) => quietly(ws, 1000),
    });
    this.state = "connecting";
    this.retryAt = 0;
    this._ws = null;
    this._attempt = 0;
    this._stopped = false;
    this._retryTimer = null;
    this._stableTimer = null;
    this._pingTimer = null;
    this._roomTimer = null;
    this._firstFrameTimer = null;
    this._lastFrameAt = 0;
    this._notBefore = 0; // no reconnect before this time (after 4429)
    this._restartUntil = 0; // a restart is under way until then
    this._frames = frameLimit(null);
    this._sends = sendLimit(null);
    this._waiting = []; // frames waiting for room, in order
    this._onOnline = () => this._reconnectSoon();
    this._onVisible = () => {
      if (document.visibilityState === "visible") {
        this._reconnectSoon();
      }
    };
    // The browser knows the network is gone long before TCP does: drop the socket at
    // once, so that the page says "offline" and keeps new messages for later.
    this._onOffline = () => {
      this._restartUntil = 0;
      if (this._ws) {
        this._drop(1006, 4000);
      } else if (this.state === "reconnecting") {
        this._setState("offline");
      }
    };
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
    document.addEventListener("visibilitychange", this._onVisible);
    this._notified = false;
    this._connect();
    // The initial state, once the constructor has returned.
    Promise.resolve().then(() => {
      if (!this._notified) {
        this._notified = true;
        this._call("onStateChange", this.state);
      }
    });
  }

  get token() {
    const value = this._token();
    return typeof value === "string" ? value : "";
  }

  _url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + this.path;
  }

  _setState(state) {
    if (this.state === state) {
      return;
    }
    this.state = state;
    this._notified = true;
    this._call("onStateChange", state);
  }

  _call(name, arg) {
    const fn = this.handlers[name];
    if (typeof fn !== "function") {
      return;
    }
    try {
      fn(arg);
    } catch (err) {
      console.error(err); // a handler's bug must not stop the connection
    }
  }

  _newWebSocket() {
    return this.token
      ? new WebSocket(this._url(), ["sohbet", "sohbet.token." + this.token])
      : new WebSocket(this._url());
  }

  _connect() {
    if (this._stopped || this.state === "denied") {
      return;
    }
    this._clearRetry();
    this.retryAt = 0;
    this.transport = this._choice.current();
    let ws;
    try {
      ws = this.transport === "http"
        ? new HttpSocket(this.httpPath, { token: this.token })
        : this._newWebSocket();
    } catch (err) {
      this._setState("offline");
      this._scheduleRetry(retryDelay(this._attempt++));
      return;
    }
    this._ws = ws;
    this._heard = false;
    if (this.state !== "reconnecting") {
      this._setState("connecting");
    }
    this._attach(ws);
  }

  _attach(ws) {
    ws.onopen = () => {
      if (this._ws !== ws) {
        return;
      }
      this._lastFrameAt = Date.now();
      this._restartUntil = 0;
      this._setState("open");
      this._stableTimer = setTimeout(() => {
        this._attempt = 0;
      }, STABLE_AFTER_MS);
      this._pingTimer = setInterval(() => this._heartbeat(), PING_EVERY_MS);
      this._firstFrameTimer = setTimeout(() => this._heard || this._drop(1006), FIRST_FRAME_MS);
      if (this.transport === "http") {
        this._prober.schedule();
      }
      this._call("onOpen");
    };
    ws.onmessage = (event) => {
      if (this._ws !== ws) {
        return;
      }
      this._lastFrameAt = Date.now();
      this._heard = true;
      this._choice.heard(this.transport);
      if (typeof event.data !== "string") {
        return;
      }
      let obj;
      try {
        obj = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (obj && typeof obj === "object" && typeof obj.type === "string") {
        if (obj.type === "hello") {
          this._applyLimits(obj.limits);
        }
        this._call("onFrame", obj);
      }
    };
    ws.onclose = (event) => {
      if (this._ws === ws) {
        this._handleClose(event.code);
      }
    };
    ws.onerror = () => {}; // onclose follows
  }

  _applyLimits(limits) {
    const l = limits || {};
    // A new connection starts with a full bucket on the server; the messages sent
    // still count against the sender.
    const sends = sendLimit(l.send_rate);
    sends.stamps = this._sends.stamps.slice(-sends.count);
    this._frames = frameLimit(l.frame_rate);
    this._sends = sends;
  }

  _heartbeat() {
    if (Date.now() - this._lastFrameAt > SILENCE_LIMIT_MS) {
      this._drop(1006);
      return;
    }
    if (this._frames.room(Date.now()) > 0) {
      this.send({ type: "ping" });
    }
  }

  // Forget the current socket at once (a half-open one may take minutes to close).
  _drop(code, closeWith) {
    const ws = this._ws;
    if (!ws) {
      return;
    }
    quietly(ws, closeWith);
    this._handleClose(code);
  }

  _stopTimers() {
    clearTimeout(this._stableTimer);
    clearInterval(this._pingTimer);
    clearTimeout(this._roomTimer);
    clearTimeout(this._firstFrameTimer);
    this._stableTimer = this._pingTimer = this._roomTimer = this._firstFrameTimer = null;
    this._prober.stop();
  }

  // While on HTTP, once the choice expires: a probe socket (transport.js), which
  // becomes the connection if it says hello (its hello, as after any reconnect,
  // resends and syncs).
  _adopt(ws, hello) {
    this._choice.forgetHttp();
    quietly(this._ws, 1000);
    this._stopTimers();
    this._waiting = [];
    this._call("onClose", 1000); // the client forgets what was in flight on HTTP
    this.transport = "ws";
    this._ws = ws;
    this._heard = false;
    this._attach(ws);
    ws.onopen();
    ws.onmessage(hello);
  }

  _handleClose(code) {
    this._ws = null;
    this._waiting = [];
    this._stopTimers();
    // Failures while a restart is under way say nothing of the network.
    const toHttp = Date.now() >= this._restartUntil
      && this._choice.closed(this.transport, code, this._heard, window.navigator.onLine);
    if (NO_RETRY_CODES[code]) {
      this._setState("denied");
      this._call("onClose", code);
      return;
    }
    const now = Date.now();
    let delay;
    if (RESTART_CODES[code]) {
      // The server restarts (or hands over): back at once, spread over a second.
      this._restartUntil = now + RESTART_GRACE_MS;
      this._attempt = 0;
      delay = Math.random() * RESTART_JITTER_MS;
    } else {
      delay = retryDelay(this._attempt);
      this._attempt = Math.min(this._attempt + 1, 16);
    }
    if (code === 4429) {
      this._restartUntil = 0;
      this._notBefore = now + FLOOD_WAIT_MS;
    }
    const restarting = now < this._restartUntil && window.navigator.onLine !== false;
    if (toHttp) {
      delay = Math.random() * RESTART_JITTER_MS;
    }
    if (!this._stopped) {
      this._scheduleRetry(delay); // sets retryAt, which the state change may show
    }
    const state = code === 4429 ? "limited" : restarting ? "reconnecting" : "offline";
    this._setState(toHttp ? "connecting" : state); // HTTP next, at once
    this._call("onClose", code);
  }

  _scheduleRetry(delay) {
    this._clearRetry();
    const wait = Math.max(delay, this._notBefore - Date.now(), 0);
    this.retryAt = Date.now() + wait;
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._connect();
    }, wait);
  }

  _clearRetry() {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  // Skip the back-off (the network is back, the page became visible); the 4429
  // penalty still applies.
  _reconnectSoon() {
    if (this._stopped || this._ws || this.state === "denied" || this.state === "open") {
      return;
    }
    this._scheduleRetry(0);
  }

  reconnectNow() {
    this._reconnectSoon();
  }

  // The page's identity changed (a device code, a sign-out): the socket opened
  // before it, or refused with the old one (4401), makes way for a new one at once.
  renew() {
    if (this._stopped) {
      return;
    }
    const ws = this._ws;
    if (ws) {
      this._ws = null;
      this._waiting = [];
      this._stopTimers();
      quietly(ws, 1000);
      this._call("onClose", 1000);
    }
    this._attempt = 0;
    this._setState("reconnecting");
    this._scheduleRetry(0);
  }

  isOpen() {
    const ws = this._ws;
    return !!ws && ws.readyState === 1 && this.state === "open";
  }

  _write(obj, now) {
    try {
      this._ws.send(JSON.stringify(obj));
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
    if (!this.isOpen()) {
      return false;
    }
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
      if (!this.isOpen()) {
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
      this._call("onRoom");
    }, Math.max(0, at - now) + 10);
  }

  close() {
    this._stopped = true;
    this._clearRetry();
    window.removeEventListener("online", this._onOnline);
    window.removeEventListener("offline", this._onOffline);
    document.removeEventListener("visibilitychange", this._onVisible);
    if (this._ws) {
      quietly(this._ws, 1000);
    }
    this._ws = null;
    this._waiting = [];
    this._stopTimers();
    if (this.state !== "denied") {
      this._setState("offline");
    }
  }
}
