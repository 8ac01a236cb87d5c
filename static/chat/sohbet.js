/*
 * Sohbet shared client library (visitor page and admin inbox).
 *
 * Plain script, no modules, no build step: defines window.Sohbet.
 *
 *   Sohbet.Socket(path, {onOpen, onFrame, onClose, onStateChange})
 *       Reconnecting JSON WebSocket. state: 'connecting' | 'open' | 'offline' | 'denied'.
 *       .send(obj) -> bool, .close(), .reconnectNow()
 *   Sohbet.linkify(text) -> DocumentFragment   (text nodes, <a> and <br> only)
 *   Sohbet.uuid4() -> string
 *   Sohbet.formatTime(iso), Sohbet.formatDay(iso), Sohbet.isSameDay(isoA, isoB)
 *   Sohbet.dayKey(iso) -> "YYYY-M-D" (local day, month from 1; a missing or bad date is today)
 *   Sohbet.locale() -> the page's <html lang> (undefined when unset)
 *   Sohbet.playChime()
 *   Sohbet.TitleBadge.set(n)
 *   Sohbet.t(msgid), Sohbet.tf(fmt, obj), Sohbet.nt(singular, plural, n)
 *
 * Page plumbing:
 *   Sohbet.readConfig(id) -> object      JSON of <script type="application/json" id=id>, {} if absent/bad
 *   Sohbet.makeStore(area) -> {get(key, fallback), set(key, value), remove(key)}
 *       JSON values in window[area] ("localStorage" | "sessionStorage"); never throws, and
 *       keeps an in-memory copy when the storage is full or disabled.
 *   Sohbet.isInt(n) -> bool              a finite whole number (not a numeric string)
 *   Sohbet.debounce(fn, ms) -> run       run() calls fn() ms after the last call; run.cancel()
 *   Sohbet.coalesce(fn, ms) -> run       the first run() calls fn() ms later; calls in between
 *                                        are folded into that one
 *   Sohbet.isSendKey(keydownEvent)       Enter without Shift, outside an IME composition
 *   Sohbet.bodyLength(text) -> n         message length as the server counts it (code points,
 *                                        surrounding white space ignored)
 *   Sohbet.typingSender(send) -> {input(hasText, key), stop(), reset()}
 *       Typing notices: send(active, key) -> bool sends one typing frame (key: e.g. the thread,
 *       or nothing). input() repeats "active" every 3 s while there is text, stop() (also after
 *       5 s without input) sends "inactive" once; reset() forgets the state (socket closed).
 *   Sohbet.TYPING_EXPIRE_MS              hide someone else's typing notice after this long
 *
 * DOM building (user data as text nodes and validated properties only):
 *   Sohbet.make(tag, className?, text?) -> Element
 *   Sohbet.button(className, text) -> <button type="button">
 *   Sohbet.reconcile(parent, nodes)      make parent's children exactly `nodes`, moving only what
 *                                        is out of place (focus, selection, live regions survive)
 *   Sohbet.isNearBottom(box, px) -> bool box is scrolled to within px of its end
 *   Sohbet.setTime(timeEl, iso)          a <time>'s datetime and clock text
 *   Sohbet.daySeparator() -> <div class="day-separator" role="separator">
 *   Sohbet.groupsWith(prev, msg) -> bool msg continues prev's bubble group: same author (not
 *                                        system) and name, same day, within 5 minutes
 *   Sohbet.safeHttpUrl(raw) -> string|null   absolute http(s) URL (relative to the page) or null
 *   Sohbet.formatSize(bytes, units?) -> string   "" unless a whole number > 0; units = {B, KB, MB},
 *       functions (n) -> translated text, default "%(size)s B" / "%(size)s KB" / "%(size)s MB"
 *   Sohbet.attachmentName(att) -> att.name, or "Attachment" (translated)
 *   Sohbet.externalLink(url, className?) -> <a target="_blank" rel="noopener noreferrer">
 *   Sohbet.attachmentImage(url, alt) -> lazy <img>;  Sohbet.attachmentAudio(url, label) -> <audio>
 *
 * User data only ever reaches the DOM as text nodes or validated DOM properties.
 */
(function (window, document) {
  "use strict";

  // ---------------------------------------------------------------- i18n
  function t(msgid) {
    return typeof window.gettext === "function" ? window.gettext(msgid) : msgid;
  }

  function interpolateNamed(fmt, obj) {
    return String(fmt).replace(/%\(([A-Za-z0-9_]+)\)s/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(obj, key) ? String(obj[key]) : whole;
    });
  }

  function tf(fmt, obj) {
    var translated = t(fmt);
    if (typeof window.interpolate === "function") {
      return window.interpolate(translated, obj || {}, true);
    }
    return interpolateNamed(translated, obj || {});
  }

  function nt(singular, plural, n) {
    if (typeof window.ngettext === "function") {
      return window.ngettext(singular, plural, n);
    }
    return n === 1 ? singular : plural;
  }

  // ---------------------------------------------------------------- Socket
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_CAP_MS = 30000;
  var STABLE_AFTER_MS = 10000;
  var PING_EVERY_MS = 25000;
  // No frame at all (not even a pong) for this long: treat the socket as dead.
  var SILENCE_LIMIT_MS = 2 * PING_EVERY_MS + 10000;
  var FLOOD_WAIT_MS = 30000;
  var NO_RETRY_CODES = { 4401: true, 4403: true };

  function Socket(path, handlers) {
    this.path = path;
    this.handlers = handlers || {};
    this.state = "connecting";
    this._ws = null;
    this._attempt = 0;
    this._stopped = false;
    this._retryTimer = null;
    this._stableTimer = null;
    this._pingTimer = null;
    this._lastFrameAt = 0;
    this._notBefore = 0; // no reconnect before this time (after 4429)

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
      var ws = self._ws;
      if (!ws) {
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
    var ws;
    try {
      ws = new WebSocket(this._url());
    } catch (err) {
      this._setState("offline");
      this._scheduleRetry(0);
      return;
    }
    this._ws = ws;
    this._setState("connecting");
    var self = this;
    ws.onopen = function () {
      if (self._ws !== ws) {
        return;
      }
      self._lastFrameAt = Date.now();
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

  Socket.prototype._heartbeat = function () {
    if (Date.now() - this._lastFrameAt > SILENCE_LIMIT_MS) {
      this._drop(1006);
      return;
    }
    this.send({ type: "ping" });
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
    this._stableTimer = null;
    this._pingTimer = null;
  };

  Socket.prototype._handleClose = function (code) {
    this._ws = null;
    this._stopTimers();
    if (NO_RETRY_CODES[code]) {
      this._setState("denied");
      this._call("onClose", code);
      return;
    }
    this._setState("offline");
    this._call("onClose", code);
    if (this._stopped) {
      return;
    }
    if (code === 4429) {
      this._notBefore = Date.now() + FLOOD_WAIT_MS;
    }
    this._scheduleRetry(this._backoffDelay());
  };

  Socket.prototype._backoffDelay = function () {
    var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, this._attempt));
    this._attempt = Math.min(this._attempt + 1, 16);
    return Math.random() * ceiling; // full jitter
  };

  Socket.prototype._scheduleRetry = function (delay) {
    this._clearRetry();
    var wait = Math.max(delay, this._notBefore - Date.now(), 0);
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
    if (this._stopped || this.state !== "offline") {
      return;
    }
    this._scheduleRetry(0);
  };

  Socket.prototype.reconnectNow = Socket.prototype._reconnectSoon;

  Socket.prototype.send = function (obj) {
    var ws = this._ws;
    if (!ws || ws.readyState !== 1 || this.state !== "open") {
      return false;
    }
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (err) {
      return false;
    }
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
    this._stopTimers();
    if (this.state !== "denied") {
      this._setState("offline");
    }
  };

  // ---------------------------------------------------------------- linkify
  var LINK_START = /(?:https?:\/\/|mailto:)/gi;
  var LINK_TOKEN = /^[^\s<>"\u00a0\u2028\u2029]+/;
  var TRAILING = ".,!?;:'\"*\u2019\u201d\u00bb\u2026";
  var PAIRS = { ")": "(", "]": "[", "}": "{", ">": "<" };
  var ALLOWED_PROTOCOLS = { "http:": true, "https:": true, "mailto:": true };
  var LINK_REL = "noopener noreferrer nofollow ugc";

  function count(str, ch) {
    var n = 0;
    for (var i = 0; i < str.length; i++) {
      if (str.charAt(i) === ch) {
        n++;
      }
    }
    return n;
  }

  function trimLink(candidate) {
    var s = candidate;
    for (;;) {
      var last = s.charAt(s.length - 1);
      if (TRAILING.indexOf(last) !== -1) {
        s = s.slice(0, -1);
      } else if (PAIRS[last] && count(s, PAIRS[last]) < count(s, last)) {
        s = s.slice(0, -1); // an unbalanced closing bracket belongs to the sentence
      } else {
        return s;
      }
    }
  }

  function safeUrl(text) {
    var url;
    try {
      url = new URL(text);
    } catch (err) {
      return null;
    }
    if (!ALLOWED_PROTOCOLS[url.protocol]) {
      return null;
    }
    if (url.protocol === "mailto:") {
      return /^[^@\s/]+@[^@\s/]+$/.test(decodeSafe(url.pathname)) ? url : null;
    }
    return url.hostname ? url : null;
  }

  function decodeSafe(s) {
    try {
      return decodeURIComponent(s);
    } catch (err) {
      return s;
    }
  }

  function appendText(fragment, text) {
    var lines = text.split(/\r\n|\r|\n/);
    for (var i = 0; i < lines.length; i++) {
      if (i > 0) {
        fragment.appendChild(document.createElement("br"));
      }
      if (lines[i]) {
        fragment.appendChild(document.createTextNode(lines[i]));
      }
    }
  }

  function linkify(text) {
    var fragment = document.createDocumentFragment();
    text = text == null ? "" : String(text);
    var cursor = 0;
    var match;
    LINK_START.lastIndex = 0;
    while ((match = LINK_START.exec(text)) !== null) {
      var start = match.index;
      // Only at a word boundary: "xhttp://" is not a link.
      if (start > 0 && /[A-Za-z0-9_]/.test(text.charAt(start - 1))) {
        continue;
      }
      var token = LINK_TOKEN.exec(text.slice(start));
      var candidate = token ? trimLink(token[0]) : "";
      var url = candidate.length > match[0].length ? safeUrl(candidate) : null;
      if (!url) {
        LINK_START.lastIndex = start + match[0].length;
        continue;
      }
      appendText(fragment, text.slice(cursor, start));
      var a = document.createElement("a");
      a.href = url.href;
      a.target = "_blank";
      a.rel = LINK_REL;
      a.textContent = candidate;
      fragment.appendChild(a);
      cursor = start + candidate.length;
      LINK_START.lastIndex = cursor;
    }
    appendText(fragment, text.slice(cursor));
    return fragment;
  }

  // ---------------------------------------------------------------- uuid4
  function uuid4() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      return c.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = [];
    for (var j = 0; j < 16; j++) {
      hex.push((bytes[j] + 0x100).toString(16).slice(1));
    }
    return (
      hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" +
      hex.slice(6, 8).join("") + "-" + hex.slice(8, 10).join("") + "-" +
      hex.slice(10, 16).join("")
    );
  }

  // ---------------------------------------------------------------- dates
  function locale() {
    return document.documentElement.lang || undefined;
  }

  function toDate(iso) {
    var d = iso instanceof Date ? iso : new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  function formatTime(iso) {
    var d = toDate(iso);
    if (!d) {
      return "";
    }
    try {
      return d.toLocaleTimeString(locale(), { hour: "numeric", minute: "2-digit" });
    } catch (err) {
      return d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    }
  }

  function keyOfDate(d) {
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }

  // A message without a usable date belongs to today.
  function dayKey(iso) {
    return keyOfDate((iso ? toDate(iso) : null) || new Date());
  }

  function isSameDay(a, b) {
    var da = toDate(a);
    var db = toDate(b);
    return !!(da && db && keyOfDate(da) === keyOfDate(db));
  }

  function formatDay(iso) {
    var d = toDate(iso);
    if (!d) {
      return "";
    }
    var now = new Date();
    if (keyOfDate(d) === keyOfDate(now)) {
      return t("Today");
    }
    var yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (keyOfDate(d) === keyOfDate(yesterday)) {
      return t("Yesterday");
    }
    var opts = { weekday: "long", day: "numeric", month: "long" };
    if (d.getFullYear() !== now.getFullYear()) {
      opts.year = "numeric";
    }
    try {
      return d.toLocaleDateString(locale(), opts);
    } catch (err) {
      return d.toLocaleDateString([], opts);
    }
  }

  // ---------------------------------------------------------------- page plumbing
  function readConfig(id) {
    var node = document.getElementById(id);
    if (!node) {
      return {};
    }
    try {
      return JSON.parse(node.textContent) || {};
    } catch (err) {
      return {};
    }
  }

  function makeStore(area) {
    var memory = {};
    var ls = null;
    try {
      ls = window[area];
      ls.setItem("sohbet.probe", "1");
      ls.removeItem("sohbet.probe");
    } catch (err) {
      ls = null;
    }
    return {
      get: function (key, fallback) {
        var raw;
        try {
          raw = ls ? ls.getItem(key) : memory[key];
        } catch (err) {
          raw = memory[key];
        }
        if (raw == null) {
          return fallback;
        }
        try {
          return JSON.parse(raw);
        } catch (err) {
          return fallback;
        }
      },
      set: function (key, value) {
        var raw = JSON.stringify(value);
        memory[key] = raw;
        if (ls) {
          try {
            ls.setItem(key, raw);
          } catch (err) {
            /* quota: the in-memory copy still works for this page */
          }
        }
      },
      remove: function (key) {
        delete memory[key];
        if (ls) {
          try {
            ls.removeItem(key);
          } catch (err) {
            /* ignore */
          }
        }
      },
    };
  }

  function isInt(n) {
    return typeof n === "number" && isFinite(n) && Math.floor(n) === n;
  }

  function debounce(fn, wait) {
    var timer = null;
    var run = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        timer = null;
        fn();
      }, wait);
    };
    run.cancel = function () {
      window.clearTimeout(timer);
      timer = null;
    };
    return run;
  }

  function coalesce(fn, wait) {
    var timer = null;
    return function () {
      if (timer === null) {
        timer = window.setTimeout(function () {
          timer = null;
          fn();
        }, wait);
      }
    };
  }

  function isSendKey(event) {
    return event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229;
  }

  function bodyLength(text) {
    var str = String(text == null ? "" : text).replace(/^\s+|\s+$/g, "");
    var n = 0;
    for (var i = 0; i < str.length; i++) {
      var c = str.charCodeAt(i);
      if (c < 0xd800 || c > 0xdbff) {
        n++; // a high surrogate and its low one count once
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- typing notices
  var TYPING_REPEAT_MS = 3000;
  var TYPING_IDLE_MS = 5000;
  // Longer than TYPING_REPEAT_MS, so that a live notice never flickers off.
  var TYPING_EXPIRE_MS = 6000;

  function typingSender(send) {
    var active = false;
    var key = null;
    var sentAt = 0;
    var idleTimer = null;

    function reset() {
      window.clearTimeout(idleTimer);
      active = false;
      key = null;
      sentAt = 0;
    }

    function stop() {
      var was = active;
      var wasKey = key;
      reset();
      if (was) {
        send(false, wasKey);
      }
    }

    function input(hasText, forKey) {
      window.clearTimeout(idleTimer);
      if (!hasText) {
        stop();
        return;
      }
      var now = Date.now();
      if (!active || key !== forKey || now - sentAt >= TYPING_REPEAT_MS) {
        if (send(true, forKey)) {
          active = true;
          key = forKey;
          sentAt = now;
        }
      }
      idleTimer = window.setTimeout(stop, TYPING_IDLE_MS);
    }

    return { input: input, stop: stop, reset: reset };
  }

  // ---------------------------------------------------------------- DOM building
  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text != null) {
      node.textContent = text;
    }
    return node;
  }

  function button(className, text) {
    var node = make("button", className, text);
    node.type = "button";
    return node;
  }

  function reconcile(parent, nodes) {
    for (var i = 0; i < nodes.length; i++) {
      var current = parent.childNodes[i];
      if (current !== nodes[i]) {
        parent.insertBefore(nodes[i], current || null);
      }
    }
    while (parent.childNodes.length > nodes.length) {
      parent.removeChild(parent.lastChild);
    }
  }

  function isNearBottom(box, px) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < px;
  }

  function setTime(node, iso) {
    node.dateTime = iso || "";
    node.textContent = formatTime(iso);
  }

  function daySeparator() {
    var sep = make("div", "day-separator");
    sep.setAttribute("role", "separator");
    return sep;
  }

  var GROUP_WINDOW_MS = 5 * 60 * 1000;

  function groupsWith(prev, msg) {
    return !!(
      prev &&
      msg &&
      prev.author === msg.author &&
      msg.author !== "system" &&
      (prev.author_name || "") === (msg.author_name || "") &&
      dayKey(prev.created) === dayKey(msg.created) &&
      Math.abs(Date.parse(msg.created) - Date.parse(prev.created)) < GROUP_WINDOW_MS
    );
  }

  // ---------------------------------------------------------------- attachments
  function safeHttpUrl(raw) {
    if (typeof raw !== "string" || !raw) {
      return null;
    }
    try {
      var url = new URL(raw, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  var SIZE_UNITS = {
    B: function (n) {
      return tf("%(size)s B", { size: n });
    },
    KB: function (n) {
      return tf("%(size)s KB", { size: n });
    },
    MB: function (n) {
      return tf("%(size)s MB", { size: n });
    },
  };

  function formatSize(bytes, units) {
    units = units || SIZE_UNITS;
    if (!isInt(bytes) || bytes <= 0) {
      return "";
    }
    if (bytes < 1024) {
      return units.B(bytes);
    }
    if (bytes < 1024 * 1024) {
      return units.KB(Math.round(bytes / 1024));
    }
    return units.MB((bytes / (1024 * 1024)).toFixed(1));
  }

  function attachmentName(att) {
    return att && typeof att.name === "string" && att.name ? att.name : t("Attachment");
  }

  function externalLink(url, className) {
    var a = make("a", className);
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function attachmentImage(url, alt) {
    var img = make("img");
    img.src = url;
    img.alt = alt;
    img.loading = "lazy";
    img.decoding = "async";
    return img;
  }

  function attachmentAudio(url, label) {
    var audio = make("audio");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = url;
    audio.setAttribute("aria-label", label);
    return audio;
  }

  // ---------------------------------------------------------------- chime
  var audioCtx = null;

  function getAudio() {
    if (audioCtx) {
      return audioCtx;
    }
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) {
      return null;
    }
    try {
      audioCtx = new Ctx();
    } catch (err) {
      audioCtx = null;
    }
    return audioCtx;
  }

  // Browsers only let audio start after a user gesture: unlock on the first one.
  function unlockAudio() {
    window.removeEventListener("pointerdown", unlockAudio, true);
    window.removeEventListener("keydown", unlockAudio, true);
    var ctx = getAudio();
    if (ctx && ctx.state === "suspended") {
      ctx.resume().catch(function () {});
    }
  }
  window.addEventListener("pointerdown", unlockAudio, true);
  window.addEventListener("keydown", unlockAudio, true);

  function tone(ctx, freq, startAt, length) {
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(freq, startAt);
    gain.gain.setValueAtTime(0.0001, startAt);
    gain.gain.exponentialRampToValueAtTime(0.18, startAt + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, startAt + length);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(startAt);
    osc.stop(startAt + length + 0.02);
  }

  function playChime() {
    try {
      var ctx = getAudio();
      if (!ctx) {
        return;
      }
      var play = function () {
        if (ctx.state !== "running") {
          return;
        }
        var now = ctx.currentTime + 0.01;
        tone(ctx, 659.25, now, 0.22); // E5
        tone(ctx, 987.77, now + 0.12, 0.35); // B5
      };
      if (ctx.state === "suspended") {
        ctx.resume().then(play, function () {});
      } else {
        play();
      }
    } catch (err) {
      /* audio blocked or unavailable: stay silent */
    }
  }

  // ---------------------------------------------------------------- title badge
  var TitleBadge = (function () {
    var base = null;
    return {
      set: function (n) {
        n = Math.max(0, Math.floor(Number(n) || 0));
        if (n > 0) {
          if (base === null) {
            base = document.title;
          }
          document.title = "(" + n + ") " + base;
        } else if (base !== null) {
          document.title = base;
          base = null;
        }
      },
    };
  })();

  window.Sohbet = {
    Socket: Socket,
    linkify: linkify,
    uuid4: uuid4,
    formatTime: formatTime,
    formatDay: formatDay,
    isSameDay: isSameDay,
    dayKey: dayKey,
    locale: locale,
    playChime: playChime,
    TitleBadge: TitleBadge,
    t: t,
    tf: tf,
    nt: nt,
    readConfig: readConfig,
    makeStore: makeStore,
    isInt: isInt,
    debounce: debounce,
    coalesce: coalesce,
    isSendKey: isSendKey,
    bodyLength: bodyLength,
    typingSender: typingSender,
    TYPING_EXPIRE_MS: TYPING_EXPIRE_MS,
    make: make,
    button: button,
    reconcile: reconcile,
    isNearBottom: isNearBottom,
    setTime: setTime,
    daySeparator: daySeparator,
    groupsWith: groupsWith,
    safeHttpUrl: safeHttpUrl,
    formatSize: formatSize,
    attachmentName: attachmentName,
    externalLink: externalLink,
    attachmentImage: attachmentImage,
    attachmentAudio: attachmentAudio,
  };
})(window, document);
