/*
 * Which transport the connection (connection.js) opens: the WebSocket first; when
 * one fails to open (or closes before its first frame) WS_FAILURES_BEFORE_HTTP times
 * in a row, the HTTP fallback (http-socket.js), remembered in this browser for
 * HTTP_FOR_MS; then a probe socket tries again (probeSocket) and takes over once it
 * hears hello.
 *
 *   new TransportChoice(store, now?)
 *     .current() -> "ws" | "http"
 *     .heard(transport): the connection delivered a frame
 *     .closed(transport, code, heard, online) -> true when HTTP takes over now
 *     .preferHttp() / .forgetHttp() / .probeIn() (ms until a probe is due)
 *   new Prober(choice, {open() -> WebSocket, wanted() -> bool, adopt(ws, hello), close(ws)})
 *     .schedule(): a probe when the choice expires (again later if it fails); .stop()
 */

export const WS_FAILURES_BEFORE_HTTP = 2;
export const HTTP_FOR_MS = 10 * 60 * 1000;
const KEY = "sohbet.transport";
const RESTARTS = { 1001: true, 1012: true };

export class TransportChoice {
  constructor(store, now) {
    this.store = store;
    this.now = now || (() => Date.now());
    this.httpUntil = Number((store.get(KEY, {}) || {}).http_until) || 0;
    this.failures = 0;
  }

  current() {
    return this.now() < this.httpUntil ? "http" : "ws";
  }

  heard(transport) {
    if (transport === "ws") {
      this.failures = 0;
    }
  }

  // A socket that closed before its first frame, neither by the server's choice (a
  // 4xxx code) nor for a restart, while the browser is online, counts as a failure.
  closed(transport, code, heard, online) {
    if (transport !== "ws" || heard || code >= 4000 || RESTARTS[code] || online === false) {
      return false;
    }
    this.failures += 1;
    if (this.failures < WS_FAILURES_BEFORE_HTTP) {
      return false;
    }
    this.failures = 0;
    this.preferHttp();
    return true;
  }

  preferHttp() {
    this.httpUntil = this.now() + HTTP_FOR_MS;
    this.store.set(KEY, { http_until: this.httpUntil });
  }

  forgetHttp() {
    this.httpUntil = 0;
    this.store.remove(KEY);
  }

  probeIn() {
    return Math.max(this.httpUntil - this.now(), 0);
  }
}

const PROBE_TIMEOUT_MS = 15000;

export class Prober {
  constructor(choice, hooks) {
    this.choice = choice;
    this.hooks = hooks;
    this.timer = null;
    this.ws = null;
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._start(), this.choice.probeIn() + 1000);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.hooks.close(ws);
    }
  }

  _start() {
    this.timer = null;
    if (this.ws || !this.hooks.wanted()) {
      return;
    }
    let ws;
    try {
      ws = this.hooks.open();
    } catch (err) {
      this._failed();
      return;
    }
    this.ws = ws;
    probeSocket(ws, PROBE_TIMEOUT_MS, (hello) => {
      if (this.ws === ws && this.hooks.wanted()) {
        this.ws = null; // the connection's now
        this.hooks.adopt(ws, hello);
      } else {
        this._failed();
      }
    }, () => this._failed());
  }

  _failed() {
    this.stop();
    this.choice.preferHttp();
    if (this.hooks.wanted()) {
      this.schedule();
    }
  }
}

// Watch a probe WebSocket: onHello(event) when its first frame is a hello, else
// onFail() (another frame, a close, or nothing within timeoutMs).
export function probeSocket(ws, timeoutMs, onHello, onFail) {
  let done = false;
  const finish = (fn, arg) => {
    if (!done) {
      done = true;
      clearTimeout(timer);
      fn(arg);
    }
  };
  const timer = setTimeout(() => finish(onFail), timeoutMs);
  ws.onmessage = (event) => {
    let obj = null;
    try {
      obj = JSON.parse(event.data);
    } catch (err) {
      /* not a hello */
    }
    if (obj && obj.type === "hello") {
      finish(onHello, event);
    } else {
      finish(onFail);
    }
  };
  ws.onclose = ws.onerror = () => finish(onFail);
}
