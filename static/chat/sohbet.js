/*
 * Sohbet shared client library (visitor page and admin inbox).
 *
 * Plain script, no modules, no build step: defines window.Sohbet. The connection
 * (Sohbet.Socket: reconnecting, paced under the server's limits) is in socket.js,
 * loaded after this file.
 *
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
 *   Sohbet.typingSender(send) -> {input(hasText, key), stop(), reset(), sent()}
 *       Typing notices: send(active, key) -> bool sends one typing frame (key: e.g. the thread,
 *       or nothing). input() repeats "active" every 3 s while there is text, stop() (also after
 *       5 s without input) sends "inactive" once; reset() forgets the state (socket closed);
 *       sent(): a message went, which ends the notice on the other side by itself (no frame);
 *       blur(): the box lost focus: stop() in a moment unless sent() comes first.
 *   Sohbet.TYPING_EXPIRE_MS              hide someone else's typing notice after this long
 *
 * DOM building (user data as text nodes and validated properties only):
 *   Sohbet.make(tag, className?, text?) -> Element
 *   Sohbet.button(className, text) -> <button type="button">
 *   Sohbet.reconcile(parent, nodes)      make parent's children exactly `nodes`, moving only what
 *                                        is out of place (focus, selection, live regions survive)
 *   Sohbet.isNearBottom(box, px) -> bool box is scrolled to within px of its end
 *   Sohbet.keepAtEnd(scroller, content, isPinned(), toEnd())  while content grows (media
 *                                        loading), back to the end if the reader was there
 *   Sohbet.setTime(timeEl, iso)          a <time>'s datetime and clock text
 *   Sohbet.daySeparator() -> <div class="day-separator" role="separator">
 *   Sohbet.groupsWith(prev, msg) -> bool msg continues prev's bubble group: same author (not
 *                                        system) and name, same day, within 5 minutes
 *   Sohbet.safeHttpUrl(raw) -> string|null   absolute http(s) URL (relative to the page) or null
 *   Sohbet.formatSize(bytes) -> string   "" unless a whole number > 0; "%(size)s B" / "%(size)s KB" /
 *       "%(size)s MB", translated
 *   Sohbet.attachmentName(att) -> att.name, or "Attachment" (translated)
 *   Sohbet.externalLink(url, className?) -> <a target="_blank" rel="noopener noreferrer">
 *   Sohbet.attachmentImage(url, alt) -> lazy <img>;  Sohbet.attachmentAudio(url, label) -> <audio>
 *   Sohbet.icon(name, size?) -> <svg aria-hidden>  paperclip mic file audio image close download
 *                                        broken upload send trash
 *   Sohbet.renderAttachment(att, {previewUrl?, local?})
 *       -> <div class="attachment attachment-KIND" data-attachment-kind=KIND>: image
 *       (a.attachment-open > img, width/height when known, opens the viewer), audio
 *       (audio[controls][preload=metadata] + .attachment-duration), file (a.attachment-link
 *       with icon, .attachment-name, .attachment-size, download). A file that fails to load
 *       (img/audio "error") or has no usable URL becomes .attachment-missing "File unavailable".
 *   Sohbet.attachmentSummary(att) -> "Photo" | "Voice message" | the file name (translated)
 *   Sohbet.formatDuration(seconds) -> "mm:ss" ("h:mm:ss" from an hour)
 *   Sohbet.openViewer({url, src?, name, local?}, opener), Sohbet.closeViewer()
 *       the full-size image dialog <dialog id="media-viewer"> (close button, Escape, a click
 *       outside the picture; a Download link); focus goes back to opener.
 *
 * Sending files (the server contract: docs/protocol.md, POST uploadUrl):
 *   Sohbet.uploadSettings(pageConfig) -> {url|null, csrfCookieName, maxUpload, types}
 *       from uploadUrl, csrfCookieName, maxUpload, uploadTypes; url null = no uploads.
 *   Sohbet.applyUploadLimits(settings, hello.limits)  max_upload / upload_types win
 *   Sohbet.readCookie(name), Sohbet.csrfToken(cookieName)   (cookie, else the form token)
 *   Sohbet.baseType(mime), Sohbet.fileType(file), Sohbet.kindOf(mime) -> image|audio|file
 *   Sohbet.checkFile(file, settings) -> null | translated reason (type, size, empty)
 *   Sohbet.upload(file, {settings, fields?, onProgress(percent), onDone(att), onError(detail,
 *       code)}) -> {abort()}   XMLHttpRequest multipart "file" (+ fields, e.g. thread) with
 *       X-CSRFToken; att is the server's answer, checked (Sohbet.normalizeAttachment).
 *       Errors carry the server's translated detail, or one of ours (network, 403, 413...).
 *   Sohbet.uploadProgress(name) -> .upload-status: <progress class="upload-progress"
 *       aria-valuenow>, .upload-percent, button.upload-cancel[data-action="cancel-upload"]
 *   Sohbet.setUploadProgress(statusEl, percent)
 *   Sohbet.filesFromTransfer(dataTransfer) -> File[]   (unnamed pasted images get a name)
 *   Sohbet.dropZone(target, {overlay, onFiles(files), enabled()})  drag and drop; the overlay
 *       shows while files are over target; drops elsewhere on the page are ignored
 *   Sohbet.pasteFiles(target, {onFiles(files), enabled()})  pasted files (not text pastes)
 *   Sohbet.stageFile(file) -> {key, file, name, size, type, kind, url: object URL|null}
 *   Sohbet.releaseStaged(item)   revokes its object URL
 *   new Sohbet.PreviewStrip(box, {check(file), max, onChange(n), onRemove()})
 *       the files chosen but not sent: .preview-item[data-key] with a thumbnail, an icon or a
 *       mini player, name, size and a .remove button.  .add(files) -> refusal reasons[],
 *       .remove(key), .count(), .take() -> items (caller owns them), .swap(items) -> old
 *       items, .clear()
 *
 * Voice notes:
 *   Sohbet.canRecord() -> bool    getUserMedia and MediaRecorder exist
 *   Sohbet.bindRecorder(el, {start, cancel, finish, abandon})
 *                                 shows the microphone button where recording works and
 *                                 wires it, the recorder panel (Escape cancels) and
 *                                 pagehide (abandon: the microphone never stays on)
 *   Sohbet.RECORD_TYPES, Sohbet.pickRecordingType() -> the first supported type or ""
 *   Sohbet.startRecording({maxSeconds, onStart(), onTick(seconds), onStop(file, seconds),
 *       onError(message)}) -> {stop(), cancel(), state(), elapsed()}
 *       file = File "voice-note.<webm|ogg|m4a>"; the microphone is released when it ends;
 *       a refusal or a missing microphone comes as a translated message.
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
  var TYPING_BLUR_MS = 1000;
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

    // Leaving the box (for the send button, say) stops the notice a moment later,
    // unless a message went meanwhile (sent), which said so already.
    function blur() {
      window.clearTimeout(idleTimer);
      if (active) {
        idleTimer = window.setTimeout(stop, TYPING_BLUR_MS);
      }
    }

    return { input: input, stop: stop, reset: reset, sent: reset, blur: blur };
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

  // Keep a conversation at its end while its content grows (a picture that loads, a
  // player that appears) if the reader was there: isPinned() says whether they were
  // (as of their last scroll), toEnd() takes them back.
  function keepAtEnd(scroller, content, isPinned, toEnd) {
    function check() {
      if (isPinned() && !isNearBottom(scroller, 1)) {
        toEnd();
      }
    }
    if (window.ResizeObserver) {
      var watch = new window.ResizeObserver(check);
      watch.observe(content);
      watch.observe(scroller);
    }
    // Media events do not bubble: caught on the way down.
    content.addEventListener("load", check, true);
    content.addEventListener("loadedmetadata", check, true);
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

  function formatSize(bytes) {
    if (!isInt(bytes) || bytes <= 0) {
      return "";
    }
    if (bytes < 1024) {
      return SIZE_UNITS.B(bytes);
    }
    if (bytes < 1024 * 1024) {
      return SIZE_UNITS.KB(Math.round(bytes / 1024));
    }
    return SIZE_UNITS.MB((bytes / (1024 * 1024)).toFixed(1));
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

  // ---------------------------------------------------------------- icons
  // Material Design paths (24 x 24), drawn with currentColor.
  var ICONS = {
    paperclip: [
      "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5Z",
    ],
    mic: [
      "M12 14c1.66 0 2.99-1.34 2.99-3L15 5c0-1.66-1.34-3-3-3S9 3.34 9 5v6c0 1.66 1.34 3 3 3Zm5.3-3c0 3-2.54 5.1-5.3 5.1S6.7 14 6.7 11H5c0 3.41 2.72 6.23 6 6.72V21h2v-3.28c3.28-.48 6-3.3 6-6.72h-1.7Z",
    ],
    file: [
      "M14 2H6c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6Zm2 16H8v-2h8v2Zm0-4H8v-2h8v2Zm-3-5V3.5L18.5 9H13Z",
    ],
    audio: [
      "M12 3v10.55c-.59-.34-1.27-.55-2-.55-2.21 0-4 1.79-4 4s1.79 4 4 4 4-1.79 4-4V7h4V3h-6Z",
    ],
    image: [
      "M21 19V5c0-1.1-.9-2-2-2H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2ZM8.5 13.5l2.5 3.01L14.5 12l4.5 6H5l3.5-4.5Z",
    ],
    close: [
      "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12Z",
    ],
    download: ["M19 9h-4V3H9v6H5l7 7 7-7ZM5 18v2h14v-2H5Z"],
    broken: [
      "M21 5v6.59l-3-3.01-4 4.01-4-4-4 4-3-3.01V5c0-1.1.9-2 2-2h14c1.1 0 2 .9 2 2Zm-3 6.42 3 3.01V19c0 1.1-.9 2-2 2H5c-1.1 0-2-.9-2-2v-6.58l3 2.99 4-4 4 4 4-3.99Z",
    ],
    upload: [
      "M19.35 10.04C18.67 6.59 15.64 4 12 4 9.11 4 6.6 5.64 5.35 8.04 2.34 8.36 0 10.91 0 14c0 3.31 2.69 6 6 6h13c2.76 0 5-2.24 5-5 0-2.64-2.05-4.78-4.65-4.96ZM14 13v4h-4v-4H7l5-5 5 5h-3Z",
    ],
    send: [
      "M3.4 20.4 21.85 12.5a.55.55 0 0 0 0-1L3.4 3.6a.55.55 0 0 0-.77.63L4.7 11 13 12l-8.3 1-2.07 6.77a.55.55 0 0 0 .77.63Z",
    ],
    trash: ["M6 19c0 1.1.9 2 2 2h8c1.1 0 2-.9 2-2V7H6v12ZM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4Z"],
  };

  function icon(name, size) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 20));
    svg.setAttribute("height", String(size || 20));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon icon-" + name);
    var paths = ICONS[name] || ICONS.file;
    for (var i = 0; i < paths.length; i++) {
      var p = document.createElementNS(ns, "path");
      p.setAttribute("d", paths[i]);
      p.setAttribute("fill", "currentColor");
      svg.appendChild(p);
    }
    return svg;
  }

  // ---------------------------------------------------------------- upload settings
  var DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024;
  var DEFAULT_UPLOAD_TYPES = [
    "image/jpeg", "image/png", "image/gif", "image/webp",
    "audio/ogg", "audio/webm", "audio/mp4", "audio/mpeg", "audio/wav",
    "video/webm", "application/pdf",
  ];
  // What browsers and operating systems call the same types.
  var TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/opus": "audio/ogg",
    "application/x-pdf": "application/pdf",
  };
  // Only for files the browser gives no type (some systems, some pickers).
  var EXTENSION_TYPES = {
    jpg: "image/jpeg", jpeg: "image/jpeg", jfif: "image/jpeg", png: "image/png",
    gif: "image/gif", webp: "image/webp", ogg: "audio/ogg", oga: "audio/ogg",
    opus: "audio/ogg", weba: "audio/webm", webm: "audio/webm", m4a: "audio/mp4",
    mp3: "audio/mpeg", wav: "audio/wav", pdf: "application/pdf",
  };

  function baseType(type) {
    var base = String(type || "").split(";")[0].replace(/^\s+|\s+$/g, "").toLowerCase();
    return TYPE_ALIASES[base] || base;
  }

  function applyUploadLimits(settings, limits) {
    if (!limits) {
      return settings;
    }
    if (isInt(limits.max_upload) && limits.max_upload > 0) {
      settings.maxUpload = limits.max_upload;
    }
    if (Array.isArray(limits.upload_types)) {
      var types = limits.upload_types.filter(function (x) {
        return typeof x === "string" && x;
      }).map(baseType);
      if (types.length) {
        settings.types = types;
      }
    }
    return settings;
  }

  function uploadSettings(config) {
    config = config || {};
    var settings = {
      url: typeof config.uploadUrl === "string" && config.uploadUrl ? config.uploadUrl : null,
      csrfCookieName:
        typeof config.csrfCookieName === "string" && config.csrfCookieName
          ? config.csrfCookieName
          : "csrftoken",
      maxUpload: DEFAULT_MAX_UPLOAD,
      types: DEFAULT_UPLOAD_TYPES.slice(),
    };
    return applyUploadLimits(settings, {
      max_upload: config.maxUpload,
      upload_types: config.uploadTypes,
    });
  }

  function readCookie(name) {
    var parts = String(document.cookie || "").split(";");
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].replace(/^\s+/, "");
      if (pair.slice(0, name.length + 1) === name + "=") {
        return decodeSafe(pair.slice(name.length + 1));
      }
    }
    return "";
  }

  // The CSRF cookie, or the token of a {% csrf_token %} on the page (an HttpOnly cookie).
  function csrfToken(cookieName) {
    var token = readCookie(cookieName || "csrftoken");
    if (token) {
      return token;
    }
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function fileType(file) {
    var type = baseType(file && file.type);
    if (type && type !== "application/octet-stream") {
      return type;
    }
    var match = /\.([A-Za-z0-9]+)$/.exec((file && file.name) || "");
    return match ? EXTENSION_TYPES[match[1].toLowerCase()] || type : type;
  }

  function kindOf(type) {
    type = baseType(type);
    if (/^image\//.test(type)) {
      return "image";
    }
    if (/^audio\//.test(type) || type === "video/webm") {
      return "audio";
    }
    return "file";
  }

  function checkFile(file, settings) {
    if (!file || typeof file.size !== "number") {
      return t("This file could not be read.");
    }
    var name = file.name || t("Attachment");
    var type = fileType(file);
    if (!type || settings.types.indexOf(type) === -1) {
      return tf(
        "“%(name)s” cannot be sent: only images (JPEG, PNG, GIF, WebP), audio and PDF files are accepted.",
        { name: name }
      );
    }
    if (file.size > settings.maxUpload) {
      var size = formatSize(file.size);
      var max = formatSize(settings.maxUpload);
      if (size === max) {
        return tf("“%(name)s” is too large. The limit is %(max)s.", { name: name, max: max });
      }
      return tf("“%(name)s” is too large (%(size)s). The limit is %(max)s.", {
        name: name,
        size: size,
        max: max,
      });
    }
    if (file.size === 0) {
      return tf("“%(name)s” is empty.", { name: name });
    }
    return null;
  }

  // ---------------------------------------------------------------- upload
  function normalizeAttachment(obj) {
    if (!obj || typeof obj !== "object" || !isInt(obj.id)) {
      return null;
    }
    var att = {
      id: obj.id,
      kind: obj.kind === "image" || obj.kind === "audio" ? obj.kind : "file",
      url: typeof obj.url === "string" ? obj.url : "",
      name: typeof obj.name === "string" ? obj.name : "",
      size: isInt(obj.size) && obj.size >= 0 ? obj.size : 0,
      content_type: typeof obj.content_type === "string" ? obj.content_type : "",
    };
    if (isInt(obj.width) && obj.width > 0 && isInt(obj.height) && obj.height > 0) {
      att.width = obj.width;
      att.height = obj.height;
    }
    if (typeof obj.duration === "number" && isFinite(obj.duration) && obj.duration >= 0) {
      att.duration = obj.duration;
    }
    return att;
  }

  function uploadErrorFor(status, body, settings) {
    var err = body && body.error;
    if (err && typeof err.detail === "string" && err.detail) {
      return { detail: err.detail, code: typeof err.code === "string" ? err.code : "invalid" };
    }
    if (status === 413) {
      return {
        detail: tf("This file is too large. The limit is %(max)s.", {
          max: formatSize(settings.maxUpload),
        }),
        code: "too_large",
      };
    }
    if (status === 415) {
      return { detail: t("This type of file cannot be sent."), code: "unsupported_type" };
    }
    if (status === 429) {
      return {
        detail: t("Too many uploads. Please wait a moment and try again."),
        code: "rate_limited",
      };
    }
    if (status === 401 || status === 403) {
      return {
        detail: t("Your session has expired. Reload the page and try again."),
        code: "forbidden",
      };
    }
    return { detail: t("The file could not be uploaded. Please try again."), code: "error" };
  }

  function upload(file, opts) {
    var settings = opts.settings;
    var xhr = new XMLHttpRequest();
    var finished = false;

    function finish(fn, a, b) {
      if (finished) {
        return;
      }
      finished = true;
      if (typeof fn === "function") {
        fn(a, b);
      }
    }

    function fail(detail, code) {
      finish(opts.onError, detail, code);
    }

    var form = new FormData();
    form.append("file", file, file.name || "file");
    var fields = opts.fields || {};
    Object.keys(fields).forEach(function (key) {
      form.append(key, String(fields[key]));
    });

    xhr.open("POST", settings.url, true);
    xhr.withCredentials = true;
    var token = csrfToken(settings.csrfCookieName);
    if (token) {
      xhr.setRequestHeader("X-CSRFToken", token);
    }
    xhr.setRequestHeader("Accept", "application/json");
    // Upload listeners must be in place before send().
    xhr.upload.addEventListener("progress", function (event) {
      if (!finished && event.lengthComputable && event.total > 0 && opts.onProgress) {
        opts.onProgress(Math.min(100, Math.floor((event.loaded * 100) / event.total)));
      }
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (err) {
        body = null;
      }
      if (xhr.status === 200 || xhr.status === 201) {
        var att = normalizeAttachment(body);
        if (att) {
          finish(opts.onDone, att);
        } else {
          fail(t("The file could not be uploaded. Please try again."), "error");
        }
        return;
      }
      var error = uploadErrorFor(xhr.status, body, settings);
      fail(error.detail, error.code);
    });
    xhr.addEventListener("error", function () {
      fail(t("The upload failed. Check your connection and try again."), "network");
    });
    xhr.addEventListener("timeout", function () {
      fail(t("The upload failed. Check your connection and try again."), "network");
    });
    xhr.addEventListener("abort", function () {
      finished = true;
    });
    if (opts.onProgress) {
      opts.onProgress(0);
    }
    try {
      xhr.send(form);
    } catch (err) {
      window.setTimeout(function () {
        fail(t("The file could not be uploaded. Please try again."), "error");
      }, 0);
    }
    return {
      abort: function () {
        if (!finished) {
          finished = true;
          try {
            xhr.abort();
          } catch (err) {
            /* already done */
          }
        }
      },
    };
  }

  // A progress row for a message whose file is uploading: <progress class="upload-progress">,
  // the percentage and a cancel button ([data-action="cancel-upload"]).
  function uploadProgress(name) {
    var box = make("div", "upload-status");
    var bar = make("progress", "upload-progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    bar.setAttribute("aria-label", tf("Uploading %(name)s", { name: name || t("Attachment") }));
    box.appendChild(bar);
    var label = make("span", "upload-percent");
    label.setAttribute("aria-hidden", "true");
    box.appendChild(label);
    var cancel = button("upload-cancel");
    cancel.setAttribute("data-action", "cancel-upload");
    cancel.setAttribute("aria-label", t("Cancel upload"));
    cancel.title = t("Cancel upload");
    cancel.appendChild(icon("close", 16));
    box.appendChild(cancel);
    setUploadProgress(box, 0);
    return box;
  }

  function formatPercent(n) {
    try {
      return new Intl.NumberFormat(locale(), { style: "percent" }).format(n / 100);
    } catch (err) {
      return n + "%";
    }
  }

  function setUploadProgress(box, percent) {
    var n = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
    var bar = box.querySelector(".upload-progress");
    if (bar.value !== n) {
      bar.value = n;
    }
    bar.setAttribute("aria-valuenow", String(n));
    // At 100 % the server is still checking (and re-encoding) the file.
    var text = n >= 100 ? t("Processing…") : formatPercent(n);
    bar.setAttribute("aria-valuetext", text);
    var label = box.querySelector(".upload-percent");
    if (label.textContent !== text) {
      label.textContent = text;
    }
  }

  // ---------------------------------------------------------------- getting files
  var PASTED_NAMES = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp" };

  function filesFromTransfer(dt) {
    var out = [];
    if (!dt) {
      return out;
    }
    var i;
    if (dt.files && dt.files.length) {
      for (i = 0; i < dt.files.length; i++) {
        out.push(dt.files[i]);
      }
    } else if (dt.items) {
      for (i = 0; i < dt.items.length; i++) {
        var item = dt.items[i];
        var f = item.kind === "file" && item.getAsFile ? item.getAsFile() : null;
        if (f) {
          out.push(f);
        }
      }
    }
    return out.map(function (f) {
      if (f.name) {
        return f;
      }
      var ext = PASTED_NAMES[baseType(f.type)] || "bin";
      try {
        return new File([f], "pasted-image." + ext, { type: f.type });
      } catch (err) {
        return f;
      }
    });
  }

  function isFileDrag(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  var pageDropGuard = false;

  // Files dragged onto target: overlay shown while over it, onFiles(files) on drop.
  // opts: {overlay, onFiles(files), enabled() -> bool}
  function dropZone(target, opts) {
    var depth = 0;
    var enabled = opts.enabled || function () {
      return true;
    };
    function show(on) {
      if (opts.overlay) {
        opts.overlay.hidden = !on;
      }
      target.classList.toggle("drag-over", on);
    }
    target.addEventListener("dragenter", function (event) {
      if (!isFileDrag(event) || !enabled()) {
        return;
      }
      event.preventDefault();
      depth++;
      show(true);
    });
    target.addEventListener("dragover", function (event) {
      if (!isFileDrag(event) || !enabled()) {
        return;
      }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      show(true);
    });
    target.addEventListener("dragleave", function (event) {
      if (!isFileDrag(event)) {
        return;
      }
      depth = Math.max(0, depth - 1);
      if (!depth) {
        show(false);
      }
    });
    target.addEventListener("drop", function (event) {
      if (!isFileDrag(event)) {
        return;
      }
      event.preventDefault();
      depth = 0;
      show(false);
      if (!enabled()) {
        return;
      }
      var files = filesFromTransfer(event.dataTransfer);
      if (files.length) {
        opts.onFiles(files);
      }
    });
    if (!pageDropGuard) {
      // A file dropped beside the zone must not replace the page with the file.
      pageDropGuard = true;
      window.addEventListener("dragover", function (event) {
        if (isFileDrag(event)) {
          event.preventDefault();
        }
      });
      window.addEventListener("drop", function (event) {
        if (isFileDrag(event)) {
          event.preventDefault();
        }
      });
    }
  }

  // Files pasted into target (an image copied or a screenshot). Text pastes are left alone,
  // also when the clipboard carries a picture of the text (office suites do).
  function pasteFiles(target, opts) {
    target.addEventListener("paste", function (event) {
      if (opts.enabled && !opts.enabled()) {
        return;
      }
      var data = event.clipboardData;
      if (!data) {
        return;
      }
      var text = "";
      try {
        text = data.getData("text/plain");
      } catch (err) {
        text = "";
      }
      if (text) {
        return;
      }
      var files = filesFromTransfer(data);
      if (files.length) {
        event.preventDefault();
        opts.onFiles(files);
      }
    });
  }

  // ---------------------------------------------------------------- preview strip
  // A file chosen but not sent yet: {key, file, name, size, type, kind, url (object URL of
  // an image or audio file, else null)}.
  function stageFile(file) {
    var type = fileType(file);
    var kind = kindOf(type);
    var url = null;
    if ((kind === "image" || kind === "audio") && window.URL && URL.createObjectURL) {
      try {
        url = URL.createObjectURL(file);
      } catch (err) {
        url = null;
      }
    }
    return {
      key: uuid4(),
      file: file,
      name: file.name || t("Attachment"),
      size: file.size,
      type: type,
      kind: kind,
      url: url,
    };
  }

  function releaseStaged(item) {
    if (item && item.url) {
      try {
        URL.revokeObjectURL(item.url);
      } catch (err) {
        /* ignore */
      }
      item.url = null;
    }
  }

  function PreviewStrip(box, opts) {
    this.box = box;
    this.opts = opts || {};
    this.items = [];
    var self = this;
    box.setAttribute("role", "list");
    box.setAttribute("aria-label", t("Files to send"));
    box.hidden = true;
    box.addEventListener("click", function (event) {
      var remove = event.target.closest ? event.target.closest(".remove") : null;
      var item = remove && remove.closest("[data-key]");
      if (item) {
        self.remove(item.getAttribute("data-key"));
      }
    });
  }

  // Adds files after checking them; returns the translated reasons for those refused.
  PreviewStrip.prototype.add = function (files) {
    var errors = [];
    var max = this.opts.max || 10;
    for (var i = 0; i < files.length; i++) {
      var reason = this.opts.check ? this.opts.check(files[i]) : null;
      if (!reason && this.items.length >= max) {
        reason = tf(
          nt("You can send up to %(count)s file at a time.", "You can send up to %(count)s files at a time.", max),
          { count: max }
        );
      }
      if (reason) {
        errors.push(reason);
        continue;
      }
      this.items.push(stageFile(files[i]));
    }
    this.render();
    return errors;
  };

  PreviewStrip.prototype.remove = function (key) {
    var kept = [];
    for (var i = 0; i < this.items.length; i++) {
      if (this.items[i].key === key) {
        releaseStaged(this.items[i]);
      } else {
        kept.push(this.items[i]);
      }
    }
    this.items = kept;
    this.render();
    if (this.opts.onRemove) {
      this.opts.onRemove();
    }
  };

  PreviewStrip.prototype.count = function () {
    return this.items.length;
  };

  // Hands the staged items over (their object URLs now belong to the caller).
  PreviewStrip.prototype.take = function () {
    var items = this.items;
    this.items = [];
    this.render();
    return items;
  };

  // Shows another set of items (the inbox keeps one set per conversation).
  PreviewStrip.prototype.swap = function (items) {
    var old = this.items;
    this.items = items || [];
    this.render();
    return old;
  };

  PreviewStrip.prototype.clear = function () {
    this.items.forEach(releaseStaged);
    this.items = [];
    this.render();
  };

  PreviewStrip.prototype.render = function () {
    var box = this.box;
    var cache = this._nodes || (this._nodes = {});
    var nodes = [];
    var used = {};
    for (var i = 0; i < this.items.length; i++) {
      var item = this.items[i];
      used[item.key] = true;
      if (!cache[item.key]) {
        cache[item.key] = buildPreviewItem(item);
      }
      nodes.push(cache[item.key]);
    }
    for (var key in cache) {
      if (!used[key]) {
        delete cache[key];
      }
    }
    reconcile(box, nodes);
    box.hidden = nodes.length === 0;
    if (this.opts.onChange) {
      this.opts.onChange(this.items.length);
    }
  };

  function buildPreviewItem(item) {
    var node = make("div", "preview-item preview-" + item.kind);
    node.setAttribute("role", "listitem");
    node.setAttribute("data-key", item.key);
    node.setAttribute("data-kind", item.kind);
    var size = formatSize(item.size);
    if (item.kind === "image" && item.url) {
      var img = make("img", "preview-thumb");
      img.src = item.url;
      img.alt = "";
      img.decoding = "async";
      node.appendChild(img);
    } else {
      var glyph = make("span", "preview-icon");
      glyph.appendChild(icon(item.kind === "audio" ? "audio" : "file", 24));
      node.appendChild(glyph);
    }
    var text = make("span", "preview-text");
    var name = make("span", "preview-name", item.name);
    name.title = item.name;
    text.appendChild(name);
    if (size) {
      text.appendChild(make("span", "preview-size", size));
    }
    if (item.kind === "audio" && item.url) {
      var audio = make("audio", "preview-audio");
      audio.controls = true;
      audio.preload = "metadata";
      audio.src = item.url;
      audio.setAttribute("aria-label", item.name);
      text.appendChild(audio);
    }
    node.appendChild(text);
    var remove = button("remove");
    remove.setAttribute("aria-label", tf("Remove %(name)s", { name: item.name }));
    remove.title = t("Remove");
    remove.appendChild(icon("close", 16));
    node.appendChild(remove);
    return node;
  }

  // ---------------------------------------------------------------- showing attachments
  function formatDuration(seconds) {
    var total = Math.max(0, Math.floor(Number(seconds) || 0));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var mm = (m < 10 ? "0" : "") + m;
    var ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function localUrl(raw) {
    return typeof raw === "string" && /^blob:/.test(raw) ? raw : null;
  }

  function showMissing(box) {
    if (box.classList.contains("attachment-missing")) {
      return;
    }
    box.classList.add("attachment-missing");
    box.textContent = "";
    box.appendChild(icon("broken", 20));
    box.appendChild(make("span", "attachment-missing-text", t("File unavailable")));
  }

  // Chrome does not know the length of a recorded WebM until it has read it to the end.
  function learnDuration(audio, onKnown) {
    var report = function () {
      if (isFinite(audio.duration) && audio.duration > 0) {
        onKnown(audio.duration);
      }
    };
    audio.addEventListener("durationchange", report);
    audio.addEventListener("loadedmetadata", function () {
      if (audio.duration !== Infinity) {
        report();
        return;
      }
      var back = function () {
        audio.removeEventListener("timeupdate", back);
        try {
          audio.currentTime = 0;
        } catch (err) {
          /* ignore */
        }
        report();
      };
      audio.addEventListener("timeupdate", back);
      try {
        audio.currentTime = 1e101;
      } catch (err) {
        audio.removeEventListener("timeupdate", back);
      }
    });
  }

  /*
   * renderAttachment(att, opts) -> <div class="attachment attachment-KIND" data-attachment-kind>
   *   image: a.attachment-open > img (opens the viewer; width/height when known)
   *   audio: audio[controls] + .attachment-duration
   *   file:  a.attachment-link (download) > icon, .attachment-name, .attachment-size
   *   a file that cannot be loaded (or an unusable URL): .attachment-missing, "File unavailable"
   * opts: {previewUrl: object URL shown instead of the image while it is ours,
   *        local: att.url is an object URL of a file not uploaded yet (no link)}
   */
  function renderAttachment(att, opts) {
    opts = opts || {};
    att = att || {};
    var kind = att.kind === "image" || att.kind === "audio" ? att.kind : "file";
    var box = make("div", "attachment attachment-" + kind);
    box.setAttribute("data-attachment-kind", kind);
    var name = attachmentName(att);
    var url = opts.local ? localUrl(att.url) : safeHttpUrl(att.url);
    var size = formatSize(att.size);

    if (kind === "file") {
      var row = url ? make("a", "attachment-link") : make("span", "attachment-link");
      if (url) {
        row.href = url;
        row.download = name;
        row.rel = "noopener";
        row.title = name;
      } else if (!opts.local) {
        showMissing(box);
        return box;
      }
      var glyph = make("span", "attachment-icon");
      glyph.appendChild(icon("file", 22));
      row.appendChild(glyph);
      var text = make("span", "attachment-text");
      text.appendChild(make("span", "attachment-name", name));
      if (size) {
        text.appendChild(make("span", "attachment-size", size));
      }
      row.appendChild(text);
      if (url) {
        var dl = make("span", "attachment-download");
        dl.appendChild(icon("download", 20));
        row.appendChild(dl);
      }
      box.appendChild(row);
      return box;
    }

    if (!url) {
      showMissing(box);
      return box;
    }

    if (kind === "image") {
      var src = localUrl(opts.previewUrl) || url;
      var img = attachmentImage(src, name);
      if (isInt(att.width) && isInt(att.height) && att.width > 0 && att.height > 0) {
        img.width = att.width;
        img.height = att.height;
      }
      img.addEventListener("error", function () {
        showMissing(box);
      });
      var open = make("a", "attachment-open");
      open.href = url;
      open.title = t("Open image");
      open.addEventListener("click", function (event) {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
          return; // a new tab or window, as the person asked
        }
        event.preventDefault();
        openViewer({ url: url, src: src, name: name, local: !!opts.local }, open);
      });
      open.appendChild(img);
      box.appendChild(open);
      return box;
    }

    var audio = attachmentAudio(url, name);
    audio.addEventListener("error", function () {
      showMissing(box);
    });
    box.appendChild(audio);
    // The length, from the server, until the player knows it and shows it itself.
    var duration = make("span", "attachment-duration");
    duration.setAttribute("aria-hidden", "true");
    if (typeof att.duration === "number" && att.duration > 0) {
      duration.textContent = formatDuration(att.duration);
    }
    learnDuration(audio, function (seconds) {
      duration.textContent = formatDuration(seconds);
      box.classList.add("duration-known");
    });
    box.appendChild(duration);
    return box;
  }

  // A one-line description of a message's attachment, for previews and notifications.
  function attachmentSummary(att) {
    if (!att) {
      return "";
    }
    if (att.kind === "image") {
      return t("Photo");
    }
    if (att.kind === "audio") {
      return t("Voice message");
    }
    return attachmentName(att);
  }

  // ---------------------------------------------------------------- viewer
  var viewer = null;

  function buildViewer() {
    var dialog = make("dialog", "media-viewer");
    dialog.id = "media-viewer";
    dialog.setAttribute("aria-labelledby", "media-viewer-title");
    var bar = make("div", "media-viewer-bar");
    var title = make("p", "media-viewer-title");
    title.id = "media-viewer-title";
    bar.appendChild(title);
    var download = make("a", "media-viewer-download");
    download.appendChild(icon("download", 20));
    download.appendChild(make("span", null, t("Download")));
    bar.appendChild(download);
    var close = button("media-viewer-close");
    close.setAttribute("aria-label", t("Close"));
    close.title = t("Close");
    close.appendChild(icon("close", 24));
    bar.appendChild(close);
    dialog.appendChild(bar);
    var stage = make("div", "media-viewer-stage");
    var img = make("img", "media-viewer-image");
    img.alt = "";
    stage.appendChild(img);
    var missing = make("p", "media-viewer-missing");
    missing.appendChild(icon("broken", 32));
    missing.appendChild(make("span", null, t("File unavailable")));
    missing.hidden = true;
    stage.appendChild(missing);
    dialog.appendChild(stage);

    close.addEventListener("click", closeViewer);
    dialog.addEventListener("click", function (event) {
      // Outside the picture and the buttons: the backdrop, the stage, the bar.
      if (event.target === dialog || event.target === stage || event.target === bar ||
          event.target === missing) {
        closeViewer();
      }
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeViewer();
      }
    });
    dialog.addEventListener("close", function () {
      finishClose();
    });
    img.addEventListener("error", function () {
      if (img.getAttribute("src")) {
        img.hidden = true;
        missing.hidden = false;
      }
    });
    document.body.appendChild(dialog);
    viewer = {
      dialog: dialog, title: title, download: download, close: close, img: img,
      missing: missing, opener: null,
    };
    return viewer;
  }

  // Opens #media-viewer on an image: item = {url, src?, name}; focus returns to opener.
  function openViewer(item, opener) {
    var v = viewer || buildViewer();
    v.opener = opener || document.activeElement;
    v.title.textContent = item.name || t("Attachment");
    v.img.hidden = false;
    v.missing.hidden = true;
    v.img.alt = item.name || "";
    v.img.src = item.src || item.url;
    v.download.href = item.url;
    v.download.download = item.name || "";
    v.download.hidden = !!item.local;
    document.documentElement.classList.add("media-viewer-open");
    if (!v.dialog.open) {
      if (typeof v.dialog.showModal === "function") {
        v.dialog.showModal();
      } else {
        v.dialog.setAttribute("open", "");
      }
    }
    v.close.focus();
  }

  function closeViewer() {
    if (!viewer || !viewer.dialog.open) {
      return;
    }
    if (typeof viewer.dialog.close === "function") {
      viewer.dialog.close(); // "close" event -> finishClose
    } else {
      viewer.dialog.removeAttribute("open");
      finishClose();
    }
  }

  function finishClose() {
    document.documentElement.classList.remove("media-viewer-open");
    viewer.img.removeAttribute("src");
    var opener = viewer.opener;
    viewer.opener = null;
    if (opener && opener.isConnected && typeof opener.focus === "function") {
      opener.focus();
    }
  }

  // ---------------------------------------------------------------- voice notes
  var RECORD_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
  var RECORD_EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a", "video/webm": "webm" };

  function bindRecorder(el, actions) {
    if (!canRecord()) {
      return;
    }
    el.record.hidden = false;
    el.record.setAttribute("aria-pressed", "false");
    el.record.addEventListener("click", actions.start);
    el.recorderCancel.addEventListener("click", actions.cancel);
    el.recorderSend.addEventListener("click", actions.finish);
    el.recorder.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        actions.cancel();
      }
    });
    window.addEventListener("pagehide", actions.abandon);
  }

  function canRecord() {
    var md = window.navigator.mediaDevices;
    return !!(md && typeof md.getUserMedia === "function" && typeof window.MediaRecorder === "function");
  }

  function pickRecordingType() {
    var MR = window.MediaRecorder;
    if (!MR || typeof MR.isTypeSupported !== "function") {
      return "";
    }
    for (var i = 0; i < RECORD_TYPES.length; i++) {
      try {
        if (MR.isTypeSupported(RECORD_TYPES[i])) {
          return RECORD_TYPES[i];
        }
      } catch (err) {
        /* next */
      }
    }
    return "";
  }

  function microphoneError(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") {
      return t(
        "Microphone access was refused. To record a voice note, allow the microphone for this site in your browser settings."
      );
    }
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
      return t("No microphone was found.");
    }
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
      return t("The microphone is in use by another app or cannot be started.");
    }
    return t("The voice note could not be recorded.");
  }

  /*
   * startRecording(opts) -> {stop(), cancel(), state()}
   *   Asks for the microphone, records with the first type of RECORD_TYPES the browser
   *   supports, and always releases the microphone at the end.
   *   opts: {maxSeconds (default 300: stops by itself), onStart(), onTick(seconds),
   *          onStop(file, seconds): file is a File "voice-note.<ext>",
   *          onError(translated message)}
   *   stop() finishes and calls onStop; cancel() throws the recording away.
   */
  function startRecording(opts) {
    var maxMs = (opts.maxSeconds || 300) * 1000;
    var stream = null;
    var recorder = null;
    var chunks = [];
    var startedAt = 0;
    var stoppedAt = 0;
    var timer = null;
    var limitTimer = null;
    var status = "starting"; // starting | recording | stopping | done | cancelled | failed

    function call(name, a, b) {
      if (typeof opts[name] === "function") {
        try {
          opts[name](a, b);
        } catch (err) {
          if (window.console) {
            window.console.error(err);
          }
        }
      }
    }

    function elapsed() {
      if (!startedAt) {
        return 0;
      }
      return ((stoppedAt || Date.now()) - startedAt) / 1000;
    }

    function release() {
      window.clearInterval(timer);
      window.clearTimeout(limitTimer);
      timer = limitTimer = null;
      if (stream) {
        stream.getTracks().forEach(function (track) {
          try {
            track.stop();
          } catch (err) {
            /* ignore */
          }
        });
        stream = null;
      }
    }

    function fail(message) {
      if (status === "cancelled" || status === "done" || status === "failed") {
        return;
      }
      status = "failed";
      if (recorder && recorder.state !== "inactive") {
        try {
          recorder.stop();
        } catch (err) {
          /* ignore */
        }
      }
      release();
      call("onError", message);
    }

    function finished(type) {
      var seconds = elapsed();
      release();
      if (status !== "stopping" && status !== "recording") {
        return; // cancelled or failed
      }
      status = "done";
      var mime = baseType((recorder && recorder.mimeType) || type) || "audio/webm";
      var blob = new Blob(chunks, { type: mime });
      chunks = [];
      if (!blob.size) {
        call("onError", t("Nothing was recorded. Please try again."));
        return;
      }
      var fileName = "voice-note." + (RECORD_EXTENSIONS[mime] || "webm");
      var file;
      try {
        file = new File([blob], fileName, { type: mime });
      } catch (err) {
        file = blob;
        file.name = fileName;
      }
      call("onStop", file, seconds);
    }

    var ctl = {
      stop: function () {
        if (status === "starting") {
          ctl.cancel();
          return;
        }
        if (status !== "recording") {
          return;
        }
        status = "stopping";
        stoppedAt = Date.now();
        try {
          recorder.stop(); // dataavailable, then stop -> finished()
        } catch (err) {
          fail(microphoneError(err));
        }
      },
      cancel: function () {
        if (status === "done" || status === "cancelled" || status === "failed") {
          return;
        }
        status = "cancelled";
        chunks = [];
        if (recorder && recorder.state !== "inactive") {
          try {
            recorder.stop();
          } catch (err) {
            /* ignore */
          }
        }
        release();
      },
      state: function () {
        return status;
      },
      elapsed: elapsed,
    };

    if (!canRecord()) {
      window.setTimeout(function () {
        fail(t("This browser cannot record voice notes."));
      }, 0);
      return ctl;
    }

    var request;
    try {
      request = window.navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      request = Promise.reject(err);
    }
    request.then(function (s) {
      if (status !== "starting") {
        s.getTracks().forEach(function (track) {
          track.stop(); // cancelled while the browser asked
        });
        return;
      }
      stream = s;
      var type = pickRecordingType();
      try {
        var options = { audioBitsPerSecond: 48000 };
        if (type) {
          options.mimeType = type;
        }
        recorder = new window.MediaRecorder(s, options);
      } catch (err) {
        fail(microphoneError(err));
        return;
      }
      recorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size && status !== "cancelled") {
          chunks.push(event.data);
        }
      });
      recorder.addEventListener("stop", function () {
        finished(type);
      });
      recorder.addEventListener("error", function (event) {
        fail(microphoneError(event && event.error));
      });
      try {
        recorder.start(1000);
      } catch (err) {
        fail(microphoneError(err));
        return;
      }
      status = "recording";
      startedAt = Date.now();
      call("onStart");
      call("onTick", 0);
      timer = window.setInterval(function () {
        call("onTick", elapsed());
      }, 250);
      limitTimer = window.setTimeout(ctl.stop, maxMs);
      // The microphone unplugged or taken away.
      s.getTracks().forEach(function (track) {
        track.addEventListener("ended", function () {
          ctl.stop();
        });
      });
    }, function (err) {
      fail(microphoneError(err));
    });
    return ctl;
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
    keepAtEnd: keepAtEnd,
    setTime: setTime,
    daySeparator: daySeparator,
    groupsWith: groupsWith,
    safeHttpUrl: safeHttpUrl,
    formatSize: formatSize,
    attachmentName: attachmentName,
    externalLink: externalLink,
    attachmentImage: attachmentImage,
    attachmentAudio: attachmentAudio,
    icon: icon,
    DEFAULT_UPLOAD_TYPES: DEFAULT_UPLOAD_TYPES.slice(),
    uploadSettings: uploadSettings,
    applyUploadLimits: applyUploadLimits,
    readCookie: readCookie,
    csrfToken: csrfToken,
    baseType: baseType,
    fileType: fileType,
    kindOf: kindOf,
    checkFile: checkFile,
    normalizeAttachment: normalizeAttachment,
    upload: upload,
    uploadProgress: uploadProgress,
    setUploadProgress: setUploadProgress,
    filesFromTransfer: filesFromTransfer,
    dropZone: dropZone,
    pasteFiles: pasteFiles,
    stageFile: stageFile,
    releaseStaged: releaseStaged,
    PreviewStrip: PreviewStrip,
    formatDuration: formatDuration,
    renderAttachment: renderAttachment,
    attachmentSummary: attachmentSummary,
    openViewer: openViewer,
    closeViewer: closeViewer,
    RECORD_TYPES: RECORD_TYPES.slice(),
    canRecord: canRecord,
    bindRecorder: bindRecorder,
    pickRecordingType: pickRecordingType,
    startRecording: startRecording,
  };
})(window, document);
