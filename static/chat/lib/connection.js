/*
 * The one connection of a page: a JSON WebSocket that reconnects by itself (when:
 * backoff.js) and paces what it sends under the server's limits (outgoing.js)
 * (docs/protocol.md, "close codes" and "limits"). It knows frames, not messages: the
 * client (client.js) says what to send.
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
import { Backoff, NO_RETRY_CODES } from "./backoff.js";
import { HttpSocket } from "./http-socket.js";
import { Outgoing } from "./outgoing.js";
import { makeStore } from "./store.js";
import { Prober, TransportChoice } from "./transport.js";

// What a close means and how long the next try waits, as the connection's users
// (and tests/js/connection.test.js) know them.
export { RESTART_CODES, retryDelay } from "./backoff.js";

const STABLE_AFTER_MS = 10000;
const PING_EVERY_MS = 25000;
// No frame at all (not even a pong) for this long: the socket is dead.
const SILENCE_LIMIT_MS = 2 * PING_EVERY_MS + 10000;
// Open, but not a frame (the server's hello comes at once) for this long: something
// on the way passes the handshake and nothing else (transport.js counts it).
const FIRST_FRAME_MS = 15000;

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
    this._backoff = new Backoff();
    this._stopped = false;
    this._retryTimer = null;
    this._stableTimer = null;
    this._pingTimer = null;
    this._firstFrameTimer = null;
    this._lastFrameAt = 0;
    this._outgoing = new Outgoing({
      write: (text) => this._ws.send(text),
      isOpen: () => this.isOpen(),
      onRoom: () => this._call("onRoom"),
    });
    this._onOnline = () => this._reconnectSoon();
    this._onVisible = () => {
      if (document.visibilityState === "visible") {
        this._reconnectSoon();
      }
    };
    // The browser knows the network is gone long before TCP does: drop the socket at
    // once, so that the page says "offline" and keeps new messages for later.
    this._onOffline = () => {
      this._backoff.endRestart();
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
      this._scheduleRetry(this._backoff.failedToOpen());
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
      this._backoff.endRestart();
      this._setState("open");
      this._stableTimer = setTimeout(() => this._backoff.resetAttempts(), STABLE_AFTER_MS);
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
          this._outgoing.applyLimits(obj.limits);
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

  _heartbeat() {
    if (Date.now() - this._lastFrameAt > SILENCE_LIMIT_MS) {
      this._drop(1006);
      return;
    }
    if (this._outgoing.room(Date.now()) > 0) {
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

  // The socket is gone (or makes way for another): what waits to be sent goes too.
  _stopTimers() {
    clearTimeout(this._stableTimer);
    clearInterval(this._pingTimer);
    this._outgoing.clear();
    clearTimeout(this._firstFrameTimer);
    this._stableTimer = this._pingTimer = this._firstFrameTimer = null;
    this._prober.stop();
  }

  // While on HTTP, once the choice expires: a probe socket (transport.js), which
  // becomes the connection if it says hello (its hello, as after any reconnect,
  // resends and syncs).
  _adopt(ws, hello) {
    this._choice.forgetHttp();
    quietly(this._ws, 1000);
    this._stopTimers();
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
    this._stopTimers();
    // Failures while a restart is under way say nothing of the network.
    const toHttp = !this._backoff.isRestarting(Date.now())
      && this._choice.closed(this.transport, code, this._heard, window.navigator.onLine);
    if (NO_RETRY_CODES[code]) {
      this._setState("denied");
      this._call("onClose", code);
      return;
    }
    const now = Date.now();
    let delay = this._backoff.afterClose(code, now);
    const restarting = this._backoff.isRestarting(now) && window.navigator.onLine !== false;
    if (toHttp) {
      delay = this._backoff.jitter();
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
    const wait = this._backoff.wait(delay, Date.now());
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
      this._stopTimers();
      quietly(ws, 1000);
      this._call("onClose", 1000);
    }
    this._backoff.resetAttempts();
    this._setState("reconnecting");
    this._scheduleRetry(0);
  }

  isOpen() {
    const ws = this._ws;
    return !!ws && ws.readyState === 1 && this.state === "open";
  }

  send(obj) {
    if (!this.isOpen()) {
      return false;
    }
    return this._outgoing.send(obj);
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
    this._stopTimers();
    if (this.state !== "denied") {
      this._setState("offline");
    }
  }
}
