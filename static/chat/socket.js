/*
 * Sohbet shared client library: the connection. Loaded after sohbet.js and limits.js
 * (the pacing it keeps); adds to window.Sohbet:
 *
 *   Sohbet.Socket(path, {onOpen, onFrame, onClose(code), onStateChange(state), onRoom})
 *       Reconnecting JSON WebSocket, paced under the server's limits.
 *       state: 'connecting' | 'open' | 'reconnecting' | 'offline' | 'limited' | 'denied'
 *         reconnecting  the server restarted (close 1001 or 1012): back within a second
 *                       or so; stays so while the restart lasts (RESTART_GRACE_MS)
 *         offline       the network or the server is unreachable: retrying with back-off
 *         limited       closed for flooding (4429): .retryAt says when it reconnects
 *         denied        no identity or permission (4401, 4403): never retried
 *       .send(obj) -> bool   false when not sent: not open, or a message.send or typing
 *                            frame that would break the server's limits now (onRoom
 *                            says when to try again). Other frames wait in order for
 *                            room (true), and are dropped if the socket closes first.
 *       .close(), .reconnectNow(), .retryAt (ms timestamp or 0)
 *   Sohbet.retryDelay(attempt, random?) -> ms   the back-off before retry `attempt` (0, 1..)
 *   Sohbet.RESTART_CODES                        {1001: true, 1012: true}
 *
 * The limits come from the server's hello (`limits.frame_rate`, `limits.send_rate`:
 * {count, seconds}; docs/protocol.md); until then the server's defaults are assumed.
 */
(function (window, document) {
  "use strict";

  var S = window.Sohbet;

  // Back-off: the first retry after 1-2 s, doubling, at most 10 s ("equal jitter":
  // between half the ceiling and the ceiling, so that thousands of pages spread).
  var BACKOFF_FIRST_MS = 2000;
  var BACKOFF_CAP_MS = 10000;
  var RESTART_CODES = { 1001: true, 1012: true };
  var RESTART_JITTER_MS = 1000;
  // A restart takes a few seconds: the page says "Reconnecting…", not "Offline", while
  // it lasts.
  var RESTART_GRACE_MS = 30000;
  var STABLE_AFTER_MS = 10000;
  var PING_EVERY_MS = 25000;
  // No frame at all (not even a pong) for this long: treat the socket as dead.
  var SILENCE_LIMIT_MS = 2 * PING_EVERY_MS + 10000;
  var FLOOD_WAIT_MS = 30000;
  var NO_RETRY_CODES = { 4401: true, 4403: true };

  // Pacing. The server counts frames per connection (a token bucket: `count` at once,
  // refilled over `seconds`) and messages per sender (fixed windows of `seconds`).
  // The socket keeps the same bucket and a sliding window, each with one frame and a
  // second of slack for delays on the way. Messages leave FRAME_RESERVE frames for
  // the rest (reads, syncs, pings); typing notices give way at half the bucket.
  var FRAME_RESERVE = 4;
  var MAX_WAITING = 200;

  function retryDelay(attempt, random) {
    var r = typeof random === "number" ? random : Math.random();
    var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.max(0, attempt)));
    return ceiling / 2 + r * (ceiling / 2);
  }

  // ---------------------------------------------------------------- Socket
  function Socket(path, handlers) {
    this.path = path;
    this.handlers = handlers || {};
    this.state = "connecting";
    this.retryAt = 0;
    this._ws = null;
    this._attempt = 0;
    this._stopped = false;
    this._retryTimer = null;
    this._stableTimer = null;
    this._pingTimer = null;
    this._roomTimer = null;
    this._lastFrameAt = 0;
    this._notBefore = 0; // no reconnect before this time (after 4429)
    this._restartUntil = 0; // a restart is under way until then
    this._frames = S.frameLimit(null);
    this._sends = S.sendLimit(null);
    this._waiting = []; // frames waiting for room, in order

    var self = this;
    this._onOnline = function () {
      self._reconnectSoon();
    };
    this._onVisible = function () {
      if (document.visibilityState === "visible") {
        self._reconnectSoon();
      }
    };
    // The browser knows the network is gone long before TCP does: drop the socket
    // at once so the page says "offline" and keeps new messages for later.
    this._onOffline = function () {
      self._restartUntil = 0;
      var ws = self._ws;
      if (!ws) {
        if (self.state === "reconnecting") {
          self._setState("offline");
        }
        return;
      }
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000);
      } catch (err) {
        /* ignore */
      }
      self._handleClose(1006);
    };
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
    document.addEventListener("visibilitychange", this._onVisible);
    this._notified = false;
    this._connect();
    // Report the initial state once the constructor has returned.
    Promise.resolve().then(function () {
      if (!self._notified) {
        self._notified = true;
        self._call("onStateChange", self.state);
      }
    });
  }

  Socket.prototype._url = function () {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + this.path;
  };

  Socket.prototype._setState = function (state) {
    if (this.state === state) {
      return;
    }
    this.state = state;
    this._notified = true;
    this._call("onStateChange", state);
  };

  Socket.prototype._call = function (name, arg) {
    var fn = this.handlers[name];
    if (typeof fn !== "function") {
      return;
    }
    try {
      fn(arg);
    } catch (err) {
      // A handler bug must not kill the connection machinery.
      if (window.console) {
        window.console.error(err);
      }
    }
  };

  Socket.prototype._connect = function () {
    if (this._stopped || this.state === "denied") {
      return;
    }
    this._clearRetry();
    this.retryAt = 0;
    var ws;
    try {
      ws = new WebSocket(this._url());
    } catch (err) {
      this._setState("offline");
      this._scheduleRetry(retryDelay(this._attempt++));
      return;
    }
    this._ws = ws;
    if (this.state !== "reconnecting") {
      this._setState("connecting");
    }
    var self = this;
    ws.onopen = function () {
      if (self._ws !== ws) {
        return;
      }
      self._lastFrameAt = Date.now();
      self._restartUntil = 0;
      self._setState("open");
      self._stableTimer = window.setTimeout(function () {
        self._attempt = 0;
      }, STABLE_AFTER_MS);
      self._pingTimer = window.setInterval(function () {
        self._heartbeat();
      }, PING_EVERY_MS);
      self._call("onOpen");
    };
    ws.onmessage = function (event) {
      if (self._ws !== ws) {
        return;
      }
      self._lastFrameAt = Date.now();
      if (typeof event.data !== "string") {
        return;
      }
      var obj;
      try {
        obj = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (obj && typeof obj === "object" && typeof obj.type === "string") {
        if (obj.type === "hello") {
          self._applyLimits(obj.limits);
        }
        self._call("onFrame", obj);
      }
    };
    ws.onclose = function (event) {
      if (self._ws !== ws) {
        return;
      }
      self._handleClose(event.code);
    };
    ws.onerror = function () {
      // onclose follows; nothing to do here.
    };
  };

  Socket.prototype._applyLimits = function (limits) {
    limits = limits || {};
    // A new connection starts with a full bucket on the server; the messages sent
    // still count against the sender.
    var sends = S.sendLimit(limits.send_rate);
    sends.stamps = this._sends.stamps.slice(-sends.count);
    this._frames = S.frameLimit(limits.frame_rate);
    this._sends = sends;
  };

  Socket.prototype._heartbeat = function () {
    if (Date.now() - this._lastFrameAt > SILENCE_LIMIT_MS) {
      this._drop(1006);
      return;
    }
    if (this._frames.room(Date.now()) > 0) {
      this.send({ type: "ping" });
    }
  };

  // Forget the current socket at once (a half-open socket may take minutes to close).
  Socket.prototype._drop = function (code) {
    var ws = this._ws;
    if (!ws) {
      return;
    }
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch (err) {
      /* already closing */
    }
    this._handleClose(code);
  };

  Socket.prototype._stopTimers = function () {
    window.clearTimeout(this._stableTimer);
    window.clearInterval(this._pingTimer);
    window.clearTimeout(this._roomTimer);
    this._stableTimer = null;
    this._pingTimer = null;
    this._roomTimer = null;
  };

  Socket.prototype._handleClose = function (code) {
    this._ws = null;
    this._waiting = [];
    this._stopTimers();
    if (NO_RETRY_CODES[code]) {
      this._setState("denied");
      this._call("onClose", code);
      return;
    }
    var now = Date.now();
    var delay;
    if (RESTART_CODES[code]) {
      // The server is restarting (or handing over): back at once, spread over a second.
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
    var restarting = now < this._restartUntil && window.navigator.onLine !== false;
    if (!this._stopped) {
      this._scheduleRetry(delay); // sets retryAt, which the state change may show
    }
    this._setState(code === 4429 ? "limited" : restarting ? "reconnecting" : "offline");
    this._call("onClose", code);
  };

  Socket.prototype._scheduleRetry = function (delay) {
    this._clearRetry();
    var wait = Math.max(delay, this._notBefore - Date.now(), 0);
    this.retryAt = Date.now() + wait;
    var self = this;
    this._retryTimer = window.setTimeout(function () {
      self._retryTimer = null;
      self._connect();
    }, wait);
  };

  Socket.prototype._clearRetry = function () {
    if (this._retryTimer !== null) {
      window.clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  };

  // Skip the back-off (the network is back, or the page became visible);
  // the 4429 penalty still applies.
  Socket.prototype._reconnectSoon = function () {
    if (this._stopped || this._ws || this.state === "denied" || this.state === "open") {
      return;
    }
    this._scheduleRetry(0);
  };

  Socket.prototype.reconnectNow = Socket.prototype._reconnectSoon;

  Socket.prototype._isOpen = function () {
    var ws = this._ws;
    return !!ws && ws.readyState === 1 && this.state === "open";
  };

  Socket.prototype._write = function (obj, now) {
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
  };

  Socket.prototype.send = function (obj) {
    if (!this._isOpen()) {
      return false;
    }
    var now = Date.now();
    var room = this._frames.room(now) - this._waiting.length;
    if (obj.type === "message.send") {
      if (room <= FRAME_RESERVE || this._sends.room(now) <= 0) {
        this._wantRoom(now);
        return false;
      }
      return this._write(obj, now);
    }
    if (obj.type === "typing" || obj.type === "ping") {
      // State that the next one repeats: typing gives way to messages early.
      var keep = obj.type === "typing" ? this._frames.count / 2 : 0;
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
  };

  // Send what waits, then tell the page there is room (its outbox goes on).
  Socket.prototype._wantRoom = function (now) {
    if (this._roomTimer !== null) {
      return;
    }
    var at = this._waiting.length
      ? this._frames.freeAt(now, 0)
      : Math.max(this._frames.freeAt(now, FRAME_RESERVE), this._sends.freeAt(now, 0));
    var self = this;
    this._roomTimer = window.setTimeout(function () {
      self._roomTimer = null;
      if (!self._isOpen()) {
        return;
      }
      var t = Date.now();
      while (self._waiting.length && self._frames.room(t) > 0) {
        self._write(self._waiting.shift(), t);
      }
      if (self._waiting.length) {
        self._wantRoom(t);
        return;
      }
      self._call("onRoom");
    }, Math.max(0, at - now) + 10);
  };

  Socket.prototype.close = function () {
    this._stopped = true;
    this._clearRetry();
    window.removeEventListener("online", this._onOnline);
    window.removeEventListener("offline", this._onOffline);
    document.removeEventListener("visibilitychange", this._onVisible);
    var ws = this._ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000);
      } catch (err) {
        /* ignore */
      }
    }
    this._ws = null;
    this._waiting = [];
    this._stopTimers();
    if (this.state !== "denied") {
      this._setState("offline");
    }
  };

  S.Socket = Socket;
  S.retryDelay = retryDelay;
  S.RESTART_CODES = RESTART_CODES;
})(window, document);
