/*
 * Sohbet visitor page. Needs static/chat/sohbet.js (window.Sohbet) and the
 * Django JS catalog; reads its settings from <script id="sohbet-config">.
 *
 * DOM hooks (stable, used by the browser tests):
 *   #messages               role="log"; children are .day-separator and .message elements.
 *     .message              data-id (stored id, "" while pending), data-client-id,
 *                           data-seq, data-status = pending|sent|delivered|read|failed
 *                           (operator/system messages: "sent"),
 *                           class author-visitor | author-operator | author-system;
 *       .body               the message text (linkified, text nodes only)
 *       .tick               status icon with aria-label (visitor messages): a clock, one
 *                           check (sent), two (delivered), two on a disc (read)
 *       .message-error      the failure detail; [data-action="remove"|"edit"] buttons
 *   #composer               the form; textarea #composer-input; button #send-button
 *   #char-counter           shown near the body limit
 *   #connection-state       data-state = connecting|open|reconnecting|offline|limited|denied
 *                           (hidden when open; "limited" counts down to the retry)
 *   #availability           data-online = true|false; text in #availability-text
 *   #typing-indicator       hidden unless an operator is typing
 *   #load-earlier           asks for older messages (history)
 *   #menu-button, #name-panel, #name-input   the optional visitor name
 *   #thread-note            shown while the conversation is closed (live: `thread` frames)
 *   #toast                  role="status", transient errors
 *   #welcome                shown while the conversation is empty
 *
 * Attachments (Sohbet.renderAttachment, Sohbet.upload, Sohbet.startRecording):
 *   .message[data-attachment-kind=image|audio|file]   a message that carries a file
 *       .attachment-image img, .attachment-audio audio, .attachment-file a   the file shown
 *       .attachment-missing   a file that cannot be loaded ("File unavailable")
 *   .message[data-status="uploading"]   its file is uploading (not queued yet):
 *       .upload-progress      <progress> 0-100 with aria-valuenow; .upload-cancel cancels
 *       failed uploads: data-status="failed", .message-error with the server's detail and
 *       [data-action="retry"|"remove"]
 *   #attach-button          opens #file-input (hidden, multiple)
 *   #attachment-preview     the files chosen but not sent (.preview-item, .remove each);
 *                           the composer text becomes the caption of the first one
 *   #drop-overlay           shown while files are dragged over the page; paste works too
 *   #record-button          voice note (only where getUserMedia and MediaRecorder exist)
 *   #recorder               the recording panel: #recorder-time (mm:ss), #recorder-cancel,
 *                           #recorder-send (stops and sends)
 *   #media-viewer           the full-size image dialog (built on first use)
 *
 * localStorage: "sohbet.outbox" (unacked messages, shared by the visitor's tabs; a message
 * with a file has its upload's id in `attachment` and the server's description in `att`),
 * "sohbet.lastSeq" ({thread, seq}), "sohbet.messages" ({thread, messages, read, delivered}).
 */
(function (window, document) {
  "use strict";

  var S = window.Sohbet;
  var t = S.t;
  var tf = S.tf;
  var nt = S.nt;
  var make = S.make;
  var isInt = S.isInt;

  var config = S.readConfig("sohbet-config");
  var WS_PATH = config.wsPath || "/ws/chat/";

  var KEY_OUTBOX = "sohbet.outbox";
  var KEY_LAST_SEQ = "sohbet.lastSeq";
  var KEY_MESSAGES = "sohbet.messages";
  var CACHE_LIMIT = 200;
  var HISTORY_LIMIT = 50;
  var SYNC_PAGE = 200;
  var MAX_IN_FLIGHT = 10; // stay well under the server's frame rate limit
  var ACK_TIMEOUT_MS = 15000;
  var RETRY_MIN_MS = 3000;
  var READ_DEBOUNCE_MS = 500;
  var NEAR_BOTTOM_PX = 120;
  var COUNTER_FROM = 500; // show the counter this many characters before the limit
  var FAIL_CODES = { invalid: true, too_long: true, forbidden: true, not_found: true };
  var MAX_STAGED = 10; // files in the preview strip
  var RECORD_MAX_SECONDS = 300;

  // ------------------------------------------------------------------ elements
  var el = {
    app: byId("app"),
    messages: byId("messages"),
    conversation: byId("conversation"),
    composer: byId("composer"),
    input: byId("composer-input"),
    send: byId("send-button"),
    counter: byId("char-counter"),
    connection: byId("connection-state"),
    connectionText: byId("connection-text"),
    connectionRetry: byId("connection-retry"),
    availability: byId("availability"),
    availabilityText: byId("availability-text"),
    typing: byId("typing-indicator"),
    typingText: byId("typing-text"),
    loadEarlier: byId("load-earlier"),
    welcome: byId("welcome"),
    jump: byId("jump-latest"),
    toast: byId("toast"),
    threadNote: byId("thread-note"),
    menuButton: byId("menu-button"),
    namePanel: byId("name-panel"),
    nameInput: byId("name-input"),
    composerArea: document.querySelector(".composer-area"),
    attach: byId("attach-button"),
    fileInput: byId("file-input"),
    preview: byId("attachment-preview"),
    dropOverlay: byId("drop-overlay"),
    record: byId("record-button"),
    recorder: byId("recorder"),
    recorderTime: byId("recorder-time"),
    recorderCancel: byId("recorder-cancel"),
    recorderSend: byId("recorder-send"),
  };

  // ------------------------------------------------------------------ state
  var state = {
    threadId: null,
    lastSeq: 0,
    knownSeqs: {},
    records: [], // every rendered message, unordered; see sortedRecords()
    byId: {},
    byClientId: {},
    localOrder: 0,
    readUpTo: 0, // by an operator, for the ticks
    deliveredUpTo: 0,
    maxBody: 4000,
    operatorsOnline: false,
    helloSeen: false,
    syncing: false,
    historyLoading: false,
    noEarlier: false,
    inFlight: {}, // client_id -> time sent on this connection
    retryTimer: null,
    lastReadSent: 0,
    unseen: 0,
    pendingName: null,
    toastTimer: null,
    recording: null, // the Sohbet.startRecording controller while recording
  };

  var uploads = S.uploadSettings(config); // url null: this server takes no files

  var store = S.makeStore("localStorage");
  var socket = null;
  var typing = S.typingSender(function (active) {
    return !!socket && socket.send({ type: "typing", active: active });
  });
  var scheduleRead = S.debounce(sendRead, READ_DEBOUNCE_MS);
  var saveCacheSoon = S.coalesce(saveCache, 300);
  var expireTyping = S.debounce(hideTyping, S.TYPING_EXPIRE_MS);

  // ------------------------------------------------------------------ helpers
  function byId(id) {
    return document.getElementById(id);
  }

  function svgIcon(paths, size) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 16));
    svg.setAttribute("height", String(size || 16));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (var i = 0; i < paths.length; i++) {
      var p = document.createElementNS(ns, "path");
      p.setAttribute("d", paths[i]);
      p.setAttribute("fill", "currentColor");
      svg.appendChild(p);
    }
    return svg;
  }

  var ICON_CLOCK = [
    "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm.75-13h-1.5v5.6l4.3 2.6.75-1.25-3.55-2.1Z",
  ];
  var ICON_CHECK = ["M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4Z"];
  var ICON_DOUBLE_CHECK = [
    "M18 7l-1.41-1.41-6.34 6.34 1.41 1.41L18 7Zm4.24-1.41L11.66 16.17 7.48 12l-1.41 1.41L11.66 19l12-12-1.42-1.41ZM.41 13.41 6 19l1.41-1.41L1.83 12 .41 13.41Z",
  ];
  var ICON_ALERT = [
    "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm1 15h-2v-2h2Zm0-4h-2V7h2Z",
  ];

  // ------------------------------------------------------------------ records
  // A record: {id, seq, client_id, author, author_name, body, created, attachment,
  //            failed, error, order, el}
  function keyOf(rec) {
    return rec.id != null ? "i" + rec.id : "c" + rec.client_id;
  }

  function findRecord(msg) {
    if (msg.id != null && state.byId[msg.id]) {
      return state.byId[msg.id];
    }
    if (msg.client_id && state.byClientId[msg.client_id]) {
      return state.byClientId[msg.client_id];
    }
    return null;
  }

  function indexRecord(rec) {
    if (rec.id != null) {
      state.byId[rec.id] = rec;
    }
    if (rec.client_id) {
      state.byClientId[rec.client_id] = rec;
    }
  }

  function noteSeq(seq) {
    if (!isInt(seq) || seq <= 0) {
      return;
    }
    state.knownSeqs[seq] = true;
    var before = state.lastSeq;
    while (state.knownSeqs[state.lastSeq + 1]) {
      state.lastSeq++;
    }
    if (state.lastSeq !== before) {
      saveLastSeq();
    }
  }

  // Add or merge a stored message (from message/sync/history/cache frames).
  // Returns {rec, isNew}.
  function upsertStored(msg) {
    if (!msg || !isInt(msg.id)) {
      return null;
    }
    var rec = findRecord(msg);
    var isNew = !rec;
    if (!rec) {
      rec = { order: ++state.localOrder };
      state.records.push(rec);
    }
    rec.id = msg.id;
    rec.seq = isInt(msg.seq) ? msg.seq : rec.seq;
    rec.client_id = msg.client_id || rec.client_id || null;
    rec.author = msg.author || rec.author || "system";
    rec.author_name = msg.author_name != null ? msg.author_name : rec.author_name || "";
    rec.body = msg.body != null ? msg.body : rec.body || "";
    rec.created = msg.created || rec.created;
    rec.attachment = msg.attachment || null;
    rec.failed = false;
    rec.error = null;
    indexRecord(rec);
    if (rec.client_id) {
      removeFromOutbox(rec.client_id);
    }
    noteSeq(rec.seq);
    return { rec: rec, isNew: isNew };
  }

  function addPending(entry) {
    var rec = state.byClientId[entry.client_id];
    if (rec) {
      if (rec.id == null) {
        rec.failed = !!entry.failed;
        rec.error = entry.error || null;
      }
      return rec;
    }
    rec = {
      id: null,
      seq: null,
      client_id: entry.client_id,
      author: "visitor",
      author_name: "",
      body: entry.body,
      created: entry.created,
      attachment: entry.att || null,
      failed: !!entry.failed,
      error: entry.error || null,
      order: ++state.localOrder,
    };
    state.records.push(rec);
    indexRecord(rec);
    return rec;
  }

  function removeRecord(rec) {
    if (rec.upload && rec.upload.handle) {
      rec.upload.handle.abort();
    }
    rec.upload = null;
    if (rec.previewUrl) {
      S.releaseStaged({ url: rec.previewUrl });
      rec.previewUrl = null;
    }
    state.records = state.records.filter(function (r) {
      return r !== rec;
    });
    if (rec.client_id && state.byClientId[rec.client_id] === rec) {
      delete state.byClientId[rec.client_id];
    }
    if (rec.id != null && state.byId[rec.id] === rec) {
      delete state.byId[rec.id];
    }
    if (rec.el && rec.el.parentNode) {
      rec.el.parentNode.removeChild(rec.el);
    }
  }

  function sortedRecords() {
    return state.records.slice().sort(function (a, b) {
      var sa = a.seq != null;
      var sb = b.seq != null;
      if (sa && sb) {
        return a.seq - b.seq || a.id - b.id;
      }
      if (sa !== sb) {
        return sa ? -1 : 1; // pending messages go last
      }
      return a.order - b.order;
    });
  }

  function statusOf(rec) {
    if (rec.author !== "visitor") {
      return "sent";
    }
    if (rec.upload && rec.upload.state === "uploading") {
      return "uploading";
    }
    if (rec.failed) {
      return "failed";
    }
    if (rec.id == null) {
      return "pending";
    }
    if (rec.id <= state.readUpTo) {
      return "read";
    }
    if (rec.id <= state.deliveredUpTo) {
      return "delivered";
    }
    return "sent";
  }

  function resetConversation() {
    for (var i = 0; i < state.records.length; i++) {
      var r = state.records[i];
      if (r.el && r.el.parentNode) {
        r.el.parentNode.removeChild(r.el);
      }
    }
    state.records = [];
    state.byId = {};
    state.byClientId = {};
    state.knownSeqs = {};
    state.lastSeq = 0;
    state.readUpTo = 0;
    state.deliveredUpTo = 0;
    state.lastReadSent = 0;
    state.noEarlier = false;
    el.messages.textContent = "";
  }

  // ------------------------------------------------------------------ outbox
  function readOutbox() {
    var box = store.get(KEY_OUTBOX, []);
    return Array.isArray(box) ? box.filter(validEntry) : [];
  }

  function validEntry(e) {
    return e && typeof e.client_id === "string" && typeof e.body === "string";
  }

  function writeOutbox(box) {
    if (box.length) {
      store.set(KEY_OUTBOX, box);
    } else {
      store.remove(KEY_OUTBOX);
    }
  }

  function addToOutbox(entry) {
    var box = readOutbox();
    box.push(entry);
    writeOutbox(box);
  }

  // A message whose file has just uploaded goes before the ones written after it.
  function insertIntoOutbox(entry, order) {
    var box = readOutbox();
    var at = box.length;
    for (var i = 0; i < box.length; i++) {
      var r = state.byClientId[box[i].client_id];
      if (r && r.order > order) {
        at = i;
        break;
      }
    }
    box.splice(at, 0, entry);
    writeOutbox(box);
  }

  // The oldest message still uploading: what comes after it waits, to keep the order.
  function uploadBarrier() {
    var min = null;
    for (var i = 0; i < state.records.length; i++) {
      var r = state.records[i];
      if (r.upload && r.upload.state === "uploading" && (min === null || r.order < min)) {
        min = r.order;
      }
    }
    return min;
  }

  function removeFromOutbox(clientId) {
    delete state.inFlight[clientId];
    var box = readOutbox();
    var kept = box.filter(function (e) {
      return e.client_id !== clientId;
    });
    if (kept.length !== box.length) {
      writeOutbox(kept);
    }
  }

  function markOutboxFailed(clientId, detail) {
    var box = readOutbox();
    for (var i = 0; i < box.length; i++) {
      if (box[i].client_id === clientId) {
        box[i].failed = true;
        box[i].error = detail;
      }
    }
    writeOutbox(box);
  }

  // Send unacked messages in order, a few at a time (acks pull the next ones).
  // A message another open tab has just queued is left to that tab for a while;
  // on connect (all = true) everything is sent.
  function flushOutbox(all) {
    if (!socket || socket.state !== "open" || !state.helloSeen) {
      return;
    }
    var box = readOutbox();
    var now = Date.now();
    var inFlight = 0;
    var id;
    for (id in state.inFlight) {
      if (now - state.inFlight[id] < ACK_TIMEOUT_MS) {
        inFlight++;
      }
    }
    var changed = false;
    var barrier = uploadBarrier();
    for (var i = 0; i < box.length && inFlight < MAX_IN_FLIGHT; i++) {
      var entry = box[i];
      if (entry.failed) {
        continue;
      }
      var own = state.byClientId[entry.client_id];
      if (barrier !== null && own && own.order > barrier) {
        break;
      }
      var sentAt = state.inFlight[entry.client_id];
      if (sentAt && now - sentAt < ACK_TIMEOUT_MS) {
        continue;
      }
      var queuedAt = Date.parse(entry.queued || entry.created) || 0;
      if (all !== true && !state.byClientId[entry.client_id] && now - queuedAt < ACK_TIMEOUT_MS) {
        continue;
      }
      if (!state.byClientId[entry.client_id]) {
        addPending(entry); // queued by another tab of this visitor
        changed = true;
      }
      var ok = socket.send({
        type: "message.send",
        client_id: entry.client_id,
        body: entry.body,
        attachment: entry.attachment || null,
      });
      if (!ok) {
        break;
      }
      state.inFlight[entry.client_id] = now;
      inFlight++;
    }
    if (changed) {
      render();
    }
  }

  function scheduleRetry(delay) {
    if (state.retryTimer !== null) {
      return;
    }
    state.retryTimer = window.setTimeout(function () {
      state.retryTimer = null;
      flushOutbox(true);
    }, delay);
  }

  // ------------------------------------------------------------------ cache
  function saveLastSeq() {
    if (state.threadId != null) {
      store.set(KEY_LAST_SEQ, { thread: state.threadId, seq: state.lastSeq });
    }
  }

  function saveCache() {
    if (state.threadId == null) {
      return;
    }
    var stored = sortedRecords().filter(function (r) {
      return r.id != null;
    });
    var messages = stored.slice(-CACHE_LIMIT).map(function (r) {
      return {
        id: r.id,
        thread: state.threadId,
        seq: r.seq,
        client_id: r.client_id,
        author: r.author,
        author_name: r.author_name,
        body: r.body,
        created: r.created,
        attachment: r.attachment,
      };
    });
    store.set(KEY_MESSAGES, {
      thread: state.threadId,
      messages: messages,
      read: state.readUpTo,
      delivered: state.deliveredUpTo,
      readSent: state.lastReadSent,
    });
  }

  function loadCache() {
    var cache = store.get(KEY_MESSAGES, null);
    var seqInfo = store.get(KEY_LAST_SEQ, null);
    if (cache && isInt(cache.thread) && Array.isArray(cache.messages)) {
      state.threadId = cache.thread;
      state.readUpTo = isInt(cache.read) ? cache.read : 0;
      state.deliveredUpTo = isInt(cache.delivered) ? cache.delivered : 0;
      state.lastReadSent = isInt(cache.readSent) ? cache.readSent : 0;
      for (var i = 0; i < cache.messages.length; i++) {
        upsertStored(cache.messages[i]);
      }
      // The cache may start mid-thread: the contiguous run starts at its first seq.
      var seqs = Object.keys(state.knownSeqs).map(Number).sort(function (a, b) {
        return a - b;
      });
      if (seqs.length) {
        state.lastSeq = seqs[0] - 1;
        noteSeq(seqs[0]);
      }
    }
    // The cache is written lazily; never trust it beyond the eagerly saved lastSeq.
    if (seqInfo && isInt(seqInfo.seq) && seqInfo.thread === state.threadId) {
      state.lastSeq = Math.min(state.lastSeq, seqInfo.seq);
    }
    var box = readOutbox();
    for (var j = 0; j < box.length; j++) {
      addPending(box[j]);
    }
  }

  // ------------------------------------------------------------------ rendering
  function tickFor(status) {
    var icon;
    var label;
    if (status === "pending") {
      icon = ICON_CLOCK;
      label = t("Sending");
    } else if (status === "uploading") {
      icon = ICON_CLOCK;
      label = t("Uploading");
    } else if (status === "sent") {
      icon = ICON_CHECK;
      label = t("Sent");
    } else if (status === "delivered") {
      icon = ICON_DOUBLE_CHECK;
      label = t("Delivered");
    } else if (status === "read") {
      icon = null; // a disc, not only another colour: readTick()
      label = t("Read");
    } else {
      icon = ICON_ALERT;
      label = t("Not sent");
    }
    var span = make("span", "tick tick-" + status);
    span.setAttribute("role", "img");
    span.setAttribute("aria-label", label);
    span.title = label;
    span.appendChild(icon ? svgIcon(icon, status === "delivered" ? 18 : 15) : readTick(16));
    return span;
  }

  // "Read" differs from "Delivered" in shape, not in hue alone: the double check on a
  // filled disc (the check drawn in the bubble's colour, .tick-mark).
  function readTick(size) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = svgIcon([], size);
    var disc = document.createElementNS(ns, "circle");
    disc.setAttribute("cx", "12");
    disc.setAttribute("cy", "12");
    disc.setAttribute("r", "12");
    disc.setAttribute("fill", "currentColor");
    svg.appendChild(disc);
    var mark = document.createElementNS(ns, "path");
    mark.setAttribute("d", ICON_DOUBLE_CHECK[0]);
    mark.setAttribute("class", "tick-mark");
    mark.setAttribute("transform", "translate(4 4.4) scale(0.66)");
    svg.appendChild(mark);
    return svg;
  }

  // What a message shows of its file: the server's attachment, or while the file is still
  // ours (uploading, or refused) the file itself.
  function attachmentOf(rec) {
    if (rec.upload) {
      var up = rec.upload;
      return {
        key: "local:" + rec.client_id,
        att: { kind: up.kind, name: up.name, size: up.size, url: rec.previewUrl },
        local: true,
      };
    }
    if (rec.attachment) {
      return {
        key: "a:" + rec.attachment.id + ":" + rec.attachment.url,
        att: rec.attachment,
        local: false,
      };
    }
    return null;
  }

  function buildMessage(rec) {
    var node = make("div");
    var bubble = make("div", "bubble");
    node.appendChild(bubble);
    bubble.appendChild(make("span", "author"));

    var body = make("div", "body");
    body.appendChild(S.linkify(rec.body));
    bubble.appendChild(body);

    var meta = make("div", "meta");
    meta.appendChild(make("time"));
    bubble.appendChild(meta);

    rec.el = node;
    rec.rendered = {
      body: rec.body, status: null, created: null, name: null, error: null, att: null,
    };
    updateMessage(rec);
    return node;
  }

  function updateAttachment(rec, bubble) {
    var r = rec.rendered;
    var shown = attachmentOf(rec);
    var key = shown ? shown.key : null;
    if (r.att !== key) {
      var old = bubble.querySelector(".attachment");
      var fresh = shown
        ? S.renderAttachment(shown.att, {
            local: shown.local,
            previewUrl: rec.previewUrl,
          })
        : null;
      if (old && fresh) {
        bubble.replaceChild(fresh, old);
      } else if (old) {
        bubble.removeChild(old);
      } else if (fresh) {
        bubble.insertBefore(fresh, bubble.querySelector(".body"));
      }
      r.att = key;
    }
    var kind = shown ? shown.att.kind || "file" : null;
    if (kind) {
      rec.el.setAttribute("data-attachment-kind", kind === "image" || kind === "audio" ? kind : "file");
    } else {
      rec.el.removeAttribute("data-attachment-kind");
    }
    bubble.classList.toggle("media-only", kind === "image" && !rec.body);
    bubble.classList.toggle("has-attachment", !!kind);

    var progress = bubble.querySelector(".upload-status");
    if (rec.upload && rec.upload.state === "uploading") {
      if (!progress) {
        progress = S.uploadProgress(rec.upload.name);
        bubble.insertBefore(progress, bubble.querySelector(".body"));
      }
      S.setUploadProgress(progress, rec.upload.percent);
    } else if (progress) {
      bubble.removeChild(progress);
    }
  }

  function updateMessage(rec) {
    var node = rec.el;
    var status = statusOf(rec);
    var r = rec.rendered;
    node.className = "message author-" + rec.author;
    node.setAttribute("data-id", rec.id != null ? String(rec.id) : "");
    node.setAttribute("data-client-id", rec.client_id || "");
    node.setAttribute("data-seq", rec.seq != null ? String(rec.seq) : "");
    node.setAttribute("data-status", status);

    var bubble = node.firstChild;
    var who = bubble.querySelector(".author");
    var name;
    if (rec.author === "visitor") {
      name = t("You");
    } else if (rec.author === "operator") {
      name = rec.author_name || t("Operator");
    } else {
      name = "";
    }
    if (r.name !== name) {
      who.textContent = name;
      r.name = name;
    }

    if (r.body !== rec.body) {
      var body = bubble.querySelector(".body");
      body.textContent = "";
      body.appendChild(S.linkify(rec.body));
      r.body = rec.body;
    }

    updateAttachment(rec, bubble);

    if (r.created !== rec.created) {
      S.setTime(bubble.querySelector("time"), rec.created);
      r.created = rec.created;
    }

    if (rec.author === "visitor" && r.status !== status) {
      var meta = bubble.querySelector(".meta");
      var old = meta.querySelector(".tick");
      var tick = tickFor(status);
      if (old) {
        meta.replaceChild(tick, old);
      } else {
        meta.appendChild(tick);
      }
      r.status = status;
    }

    var errorText = status === "failed" ? rec.error || t("This message could not be sent.") : null;
    var errorKey = errorText === null ? null : (rec.upload ? "upload:" : "send:") + errorText;
    if (r.error !== errorKey) {
      var existing = node.querySelector(".message-error");
      if (existing) {
        node.removeChild(existing);
      }
      if (errorText) {
        node.appendChild(buildFailure(rec, errorText));
      }
      r.error = errorKey;
    }
  }

  // Under a message that was not sent: what went wrong and what can be done.
  // A file that did not upload: Retry, Remove. A text: Edit, Remove.
  function buildFailure(rec, text) {
    var box = make("div", "message-error");
    box.setAttribute("role", "alert");
    box.appendChild(make("span", "message-error-text", text));
    if (rec.upload) {
      var again = S.button("link-button", t("Retry"));
      again.setAttribute("data-action", "retry");
      box.appendChild(again);
    } else if (!rec.attachment) {
      var edit = S.button("link-button", t("Edit"));
      edit.setAttribute("data-action", "edit");
      box.appendChild(edit);
    }
    var remove = S.button("link-button", t("Remove"));
    remove.setAttribute("data-action", "remove");
    box.appendChild(remove);
    return box;
  }

  function daySeparator(iso, key) {
    var sep = S.daySeparator();
    sep.setAttribute("data-day", key);
    var label = make("span", null, S.formatDay(iso));
    sep.appendChild(label);
    sep.setAttribute("aria-label", label.textContent);
    return sep;
  }

  var separators = {}; // day key -> element, reused across renders

  // Bring #messages in line with the records, touching only what changed so that
  // the live region announces only new messages.
  function render() {
    var list = sortedRecords();
    var wanted = [];
    var usedDays = {};
    var prev = null;
    for (var i = 0; i < list.length; i++) {
      var rec = list[i];
      var key = S.dayKey(rec.created);
      if (!usedDays[key] && (!prev || S.dayKey(prev.created) !== key)) {
        usedDays[key] = true;
        if (!separators[key]) {
          separators[key] = daySeparator(rec.created, key);
        }
        wanted.push(separators[key]);
      }
      if (!rec.el) {
        buildMessage(rec);
      } else {
        updateMessage(rec);
      }
      rec.el.classList.toggle("grouped", S.groupsWith(prev, rec));
      wanted.push(rec.el);
      prev = rec;
    }
    S.reconcile(el.messages, wanted);
    for (var k in separators) {
      if (!usedDays[k]) {
        delete separators[k];
      }
    }
    el.welcome.hidden = list.length > 0;
    updateHistoryControl();
    saveCacheSoon();
  }

  function refreshDayLabels() {
    for (var k in separators) {
      var sep = separators[k];
      var label = sep.firstChild;
      var parts = k.split("-");
      var d = new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]), 12);
      label.textContent = S.formatDay(d.toISOString());
      sep.setAttribute("aria-label", label.textContent);
    }
  }

  // ------------------------------------------------------------------ scrolling
  // While a smooth scroll to the end runs, the reader counts as being at the end.
  var smoothUntil = 0;

  function isNearBottom() {
    return Date.now() < smoothUntil || S.isNearBottom(el.conversation, NEAR_BOTTOM_PX);
  }

  function scrollToBottom(smooth) {
    var c = el.conversation;
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (smooth && !reduce && typeof c.scrollTo === "function") {
      smoothUntil = Date.now() + 800;
      c.scrollTo({ top: c.scrollHeight, behavior: "smooth" });
    } else {
      c.scrollTop = c.scrollHeight;
    }
    el.jump.hidden = true;
  }

  // Run a change that adds messages; keep the reader where they were.
  function withScroll(change, opts) {
    var wasNear = isNearBottom();
    change();
    if ((opts && opts.force) || wasNear) {
      scrollToBottom(opts && opts.smooth);
    } else if (opts && opts.notify) {
      el.jump.hidden = false;
    }
  }

  function prependKeepingPosition(change) {
    var c = el.conversation;
    var fromBottom = c.scrollHeight - c.scrollTop;
    change();
    c.scrollTop = c.scrollHeight - fromBottom;
  }

  // ------------------------------------------------------------------ history
  function smallestRecord() {
    var min = null;
    for (var i = 0; i < state.records.length; i++) {
      var r = state.records[i];
      if (r.id != null && (min === null || r.id < min.id)) {
        min = r;
      }
    }
    return min;
  }

  function hasEarlier() {
    if (state.noEarlier) {
      return false;
    }
    var min = smallestRecord();
    return !!min && (min.seq == null || min.seq > 1);
  }

  function updateHistoryControl() {
    var show = hasEarlier();
    el.loadEarlier.hidden = !show;
    el.loadEarlier.disabled = state.historyLoading;
    el.loadEarlier.setAttribute("aria-busy", state.historyLoading ? "true" : "false");
  }

  function requestHistory() {
    if (state.historyLoading || !hasEarlier() || !socket || !state.helloSeen) {
      return;
    }
    var min = smallestRecord();
    if (socket.send({ type: "history", before: min.id, limit: HISTORY_LIMIT })) {
      state.historyLoading = true;
      updateHistoryControl();
    }
  }

  function onHistory(frame) {
    state.historyLoading = false;
    if (state.threadId != null && isInt(frame.thread) && frame.thread !== state.threadId) {
      return;
    }
    var msgs = Array.isArray(frame.messages) ? frame.messages : [];
    if (state.freshHistory) {
      // The first screen of a long thread: latest messages, then sync from there.
      state.freshHistory = false;
      var maxSeq = 0;
      withScroll(function () {
        for (var i = 0; i < msgs.length; i++) {
          upsertStored(msgs[i]);
          maxSeq = Math.max(maxSeq, msgs[i].seq || 0);
        }
        if (maxSeq > state.lastSeq) {
          state.lastSeq = maxSeq;
          saveLastSeq();
        }
        state.noEarlier = !frame.has_more;
        render();
      }, { force: true });
      requestSync();
      return;
    }
    prependKeepingPosition(function () {
      for (var i = 0; i < msgs.length; i++) {
        upsertStored(msgs[i]);
      }
      if (!frame.has_more || !msgs.length) {
        state.noEarlier = true;
      }
      render();
    });
  }

  // ------------------------------------------------------------------ sync
  function requestSync() {
    if (!socket || state.syncing) {
      return;
    }
    if (socket.send({ type: "sync", after: state.lastSeq || 0 })) {
      state.syncing = true;
      el.messages.setAttribute("aria-busy", "true");
    }
  }

  function onSync(frame) {
    if (state.threadId != null && isInt(frame.thread) && frame.thread !== state.threadId) {
      return;
    }
    var msgs = Array.isArray(frame.messages) ? frame.messages : [];
    var hidden = document.visibilityState === "hidden";
    var newOperator = 0;
    var pageMax = 0;
    withScroll(function () {
      for (var i = 0; i < msgs.length; i++) {
        var res = upsertStored(msgs[i]);
        if (res && res.isNew && res.rec.author === "operator") {
          newOperator++;
          hideTyping();
        }
        pageMax = Math.max(pageMax, msgs[i].seq || 0);
      }
      render();
    }, { notify: msgs.length > 0 });
    state.syncing = false;
    if (frame.has_more && msgs.length) {
      // Page on from the last seq received, even if an earlier one is still missing.
      if (pageMax > state.lastSeq) {
        state.lastSeq = pageMax;
        saveLastSeq();
      }
      requestSync();
    } else {
      el.messages.setAttribute("aria-busy", "false");
    }
    if (newOperator && hidden && state.helloSeen && state.syncedOnce) {
      notifyHidden(newOperator);
    }
    if (!frame.has_more) {
      state.syncedOnce = true;
    }
    scheduleRead();
  }

  // ------------------------------------------------------------------ frames
  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
        onHello(frame);
        break;
      case "ack":
        onAck(frame);
        break;
      case "message":
        onMessage(frame.message);
        break;
      case "sync":
        onSync(frame);
        break;
      case "history":
        onHistory(frame);
        break;
      case "typing":
        onTyping(frame);
        break;
      case "read":
        if (frame.by === "operator" && isInt(frame.up_to) && frame.up_to > state.readUpTo) {
          state.readUpTo = frame.up_to;
          state.deliveredUpTo = Math.max(state.deliveredUpTo, frame.up_to);
          render();
        }
        break;
      case "delivered":
        if (isInt(frame.up_to) && frame.up_to > state.deliveredUpTo) {
          state.deliveredUpTo = frame.up_to;
          render();
        }
        break;
      case "presence":
        if (typeof frame.operators_online === "boolean") {
          setAvailability(frame.operators_online);
        }
        break;
      case "thread":
        if (frame.thread && frame.thread.id === state.threadId) {
          setThreadStatus(frame.thread.status);
        }
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong and anything unknown
    }
  }

  function onHello(frame) {
    var thread = frame.thread || {};
    if (frame.limits && isInt(frame.limits.max_body) && frame.limits.max_body > 0) {
      state.maxBody = frame.limits.max_body;
    }
    if (frame.limits) {
      S.applyUploadLimits(uploads, frame.limits);
      updateFileInput();
    }
    if (isInt(thread.id)) {
      var lastSeqOnServer = isInt(thread.last_seq) ? thread.last_seq : null;
      var stale =
        state.threadId !== thread.id ||
        (lastSeqOnServer !== null && state.lastSeq > lastSeqOnServer);
      if (stale && state.threadId !== null) {
        var pending = readOutbox();
        var uploading = state.records.filter(function (r) {
          return !!r.upload;
        });
        resetConversation();
        for (var i = 0; i < pending.length; i++) {
          addPending(pending[i]);
        }
        uploading.forEach(function (r) {
          r.el = null;
          state.records.push(r);
          indexRecord(r);
        });
        store.remove(KEY_MESSAGES);
        store.remove(KEY_LAST_SEQ);
      }
      state.threadId = thread.id;
      saveLastSeq();
      if (isInt(thread.operator_read_up_to)) {
        state.readUpTo = Math.max(state.readUpTo, thread.operator_read_up_to);
      }
      if (isInt(thread.operator_delivered_up_to)) {
        state.deliveredUpTo = Math.max(state.deliveredUpTo, thread.operator_delivered_up_to);
      }
      state.deliveredUpTo = Math.max(state.deliveredUpTo, state.readUpTo);
      setThreadStatus(thread.status);
      state.freshHistory =
        state.lastSeq === 0 && lastSeqOnServer !== null && lastSeqOnServer > SYNC_PAGE;
    }
    if (frame.visitor && typeof frame.visitor.name === "string") {
      if (document.activeElement !== el.nameInput && state.pendingName === null) {
        el.nameInput.value = frame.visitor.name;
      }
    }
    setAvailability(!!frame.operators_online);
    state.helloSeen = true;
    state.inFlight = {};
    state.syncing = false;
    state.historyLoading = false;
    updateCounter();
    render();

    if (state.freshHistory) {
      if (socket.send({ type: "history", before: null, limit: HISTORY_LIMIT })) {
        state.historyLoading = true;
      }
    } else {
      requestSync();
    }
    flushOutbox(true);
    if (state.pendingName !== null) {
      sendName(state.pendingName);
    }
    scheduleRead();
  }

  function onAck(frame) {
    if (!frame.client_id || !isInt(frame.id)) {
      return;
    }
    var rec = state.byClientId[frame.client_id];
    removeFromOutbox(frame.client_id);
    if (rec) {
      rec.id = frame.id;
      if (isInt(frame.seq)) {
        rec.seq = frame.seq;
      }
      if (frame.created) {
        rec.created = frame.created;
      }
      rec.failed = false;
      rec.error = null;
      indexRecord(rec);
    }
    if (isInt(frame.seq)) {
      if (frame.seq > state.lastSeq + 1) {
        requestSync(); // something arrived before our message that we have not seen
      }
      if (rec) {
        noteSeq(frame.seq);
      }
    }
    render();
    flushOutbox();
  }

  function onMessage(msg) {
    if (!msg || !isInt(msg.id)) {
      return;
    }
    if (state.threadId != null && isInt(msg.thread) && msg.thread !== state.threadId) {
      return;
    }
    var gap = isInt(msg.seq) && msg.seq > state.lastSeq + 1;
    var res;
    var own = msg.author === "visitor";
    withScroll(function () {
      res = upsertStored(msg);
      render();
    }, { notify: !own, smooth: true });
    if (gap) {
      requestSync();
    }
    if (res && res.isNew && msg.author === "operator") {
      hideTyping();
      if (document.visibilityState === "hidden") {
        notifyHidden(1);
      }
      scheduleRead();
    }
    flushOutbox();
  }

  function onTyping(frame) {
    if (frame.author !== "operator") {
      return;
    }
    if (frame.active) {
      el.typingText.textContent = frame.name
        ? tf("%(name)s is typing…", { name: frame.name })
        : t("Operator is typing…");
      var near = isNearBottom();
      el.typing.hidden = false;
      if (near) {
        scrollToBottom(false);
      }
      expireTyping();
    } else {
      hideTyping();
    }
  }

  function hideTyping() {
    expireTyping.cancel();
    el.typing.hidden = true;
  }

  function onError(frame) {
    var detail = typeof frame.detail === "string" && frame.detail ? frame.detail : null;
    if (frame.client_id && (state.byClientId[frame.client_id] || readOutbox().some(function (e) {
      return e.client_id === frame.client_id;
    }))) {
      var rec = state.byClientId[frame.client_id];
      if (FAIL_CODES[frame.code]) {
        var text = detail || t("This message could not be sent.");
        markOutboxFailed(frame.client_id, text);
        delete state.inFlight[frame.client_id];
        if (rec && rec.id == null) {
          rec.failed = true;
          rec.error = text;
          render();
        }
      } else {
        // rate_limited, unavailable or unknown: keep it and send it again soon.
        delete state.inFlight[frame.client_id];
        scheduleRetry(RETRY_MIN_MS + Math.random() * 3000);
      }
      return;
    }
    if (frame.code === "rate_limited") {
      showToast(detail || t("You are sending messages too quickly. Please wait a moment."));
      return;
    }
    showToast(detail || t("Something went wrong. Please try again."));
  }

  // ------------------------------------------------------------------ connection
  function onStateChange(s) {
    el.connection.setAttribute("data-state", s);
    el.app.setAttribute("data-connection", s);
    el.connectionRetry.hidden = s !== "denied";
    limitedBanner.stop();
    if (s === "open") {
      el.connection.hidden = true;
      return;
    }
    el.connection.hidden = false;
    if (s === "connecting") {
      el.connectionText.textContent = t("Connecting…");
    } else if (s === "reconnecting") {
      el.connectionText.textContent = t("Reconnecting…");
    } else if (s === "offline") {
      el.connectionText.textContent = t(
        "Offline: your messages will be sent when you are back online"
      );
    } else if (s === "limited") {
      limitedBanner.start(socket.retryAt);
    } else if (s === "denied") {
      el.connectionText.textContent = t(
        "This chat is not available right now. Please reload the page."
      );
    }
  }

  // Closed for sending too much (4429): what happened and when it goes on, the
  // seconds counted down on screen; a screen reader hears the first sentence only.
  var limitedBanner = S.countdownBanner(el.connection, el.connectionText, function (seconds) {
    return tf(
      nt(
        "Too many messages at once. Sending again in %(seconds)s second.",
        "Too many messages at once. Sending again in %(seconds)s seconds.",
        seconds
      ),
      { seconds: seconds }
    );
  });

  function onClose() {
    state.helloSeen = false;
    state.inFlight = {};
    state.syncing = false;
    state.historyLoading = false;
    typing.reset();
    hideTyping();
    updateHistoryControl();
  }

  // Closed by an operator: a note above the composer (writing again reopens it).
  function setThreadStatus(status) {
    if (status === "open" || status === "closed") {
      el.threadNote.hidden = status !== "closed";
    }
  }

  function setAvailability(online) {
    state.operatorsOnline = online;
    el.availability.setAttribute("data-online", online ? "true" : "false");
    el.availabilityText.textContent = online ? t("An operator is online") : t("We will reply soon");
  }

  // ------------------------------------------------------------------ composer
  function currentBody() {
    return el.input.value;
  }

  function updateCounter() {
    var len = S.bodyLength(currentBody());
    var left = state.maxBody - len;
    var tooLong = left < 0;
    if (left <= COUNTER_FROM) {
      el.counter.hidden = false;
      el.counter.textContent = tooLong
        ? tf(nt("%(count)s character too many", "%(count)s characters too many", -left), {
            count: -left,
          })
        : tf(nt("%(count)s character left", "%(count)s characters left", left), { count: left });
      el.counter.classList.toggle("over", tooLong);
    } else {
      el.counter.hidden = true;
      el.counter.textContent = "";
    }
    el.composer.classList.toggle("over-limit", tooLong);
    el.input.setAttribute("aria-invalid", tooLong ? "true" : "false");
    el.send.disabled = (len === 0 && strip.count() === 0) || tooLong;
  }

  function autoGrow() {
    var input = el.input;
    input.style.height = "auto";
    var max = Math.round(window.innerHeight * 0.35);
    var h = Math.min(input.scrollHeight + 2, Math.max(max, 120));
    input.style.height = h + "px";
    input.classList.toggle("scrolling", input.scrollHeight + 2 > h);
  }

  function sendMessage() {
    var text = currentBody();
    var len = S.bodyLength(text);
    if (len > state.maxBody) {
      return;
    }
    if (strip.count() > 0) {
      sendFiles(strip.take(), len === 0 ? "" : text);
      el.input.value = "";
      autoGrow();
      updateCounter();
      typing.sent(); // the message ends the notice
      return;
    }
    if (len === 0) {
      return;
    }
    var entry = {
      client_id: S.uuid4(),
      body: text,
      created: new Date().toISOString(),
    };
    addToOutbox(entry);
    withScroll(function () {
      addPending(entry);
      render();
    }, { force: true, smooth: true });
    el.input.value = "";
    autoGrow();
    updateCounter();
    typing.sent(); // the message ends the notice
    flushOutbox();
  }

  function onComposerInput() {
    autoGrow();
    updateCounter();
    typing.input(currentBody().replace(/\s+/g, "") !== "");
  }

  // ------------------------------------------------------------------ files
  // A file goes up first (its message shows at once, "uploading", with a progress bar);
  // only once the server has it is the message queued in the outbox, with the upload's
  // id, and sent like any other. A failed upload queues nothing.
  var strip = new S.PreviewStrip(el.preview, {
    max: MAX_STAGED,
    check: function (file) {
      return S.checkFile(file, uploads);
    },
    onChange: function () {
      updateCounter();
    },
    onRemove: function () {
      el.input.focus();
    },
  });

  function uploadsEnabled() {
    return !!uploads.url;
  }

  function updateFileInput() {
    el.fileInput.accept = uploads.types.join(",");
  }

  function addFiles(files) {
    if (!uploadsEnabled() || state.recording || !files || !files.length) {
      return;
    }
    var errors = strip.add(files);
    if (errors.length) {
      showToast(errors.join(" "));
    }
    updateCounter();
  }

  function sendFiles(items, caption) {
    withScroll(function () {
      for (var i = 0; i < items.length; i++) {
        var rec = {
          id: null,
          seq: null,
          client_id: S.uuid4(),
          author: "visitor",
          author_name: "",
          body: i === 0 ? caption : "",
          created: new Date().toISOString(),
          attachment: null,
          failed: false,
          error: null,
          order: ++state.localOrder,
          previewUrl: items[i].url,
          upload: {
            file: items[i].file,
            name: items[i].name,
            size: items[i].size,
            kind: items[i].kind,
            percent: 0,
            state: "uploading",
            handle: null,
          },
        };
        state.records.push(rec);
        indexRecord(rec);
        startUpload(rec);
      }
      render();
    }, { force: true, smooth: true });
  }

  function startUpload(rec) {
    var up = rec.upload;
    up.state = "uploading";
    up.percent = 0;
    rec.failed = false;
    rec.error = null;
    up.handle = S.upload(up.file, {
      settings: uploads,
      onProgress: function (percent) {
        up.percent = percent;
        if (rec.el) {
          var bar = rec.el.querySelector(".upload-status");
          if (bar) {
            S.setUploadProgress(bar, percent);
          }
        }
      },
      onDone: function (att) {
        up.handle = null;
        onUploaded(rec, att);
      },
      onError: function (detail) {
        up.handle = null;
        up.state = "failed";
        rec.failed = true;
        rec.error = detail;
        withScroll(render); // the reason and its buttons stay in view
        flushOutbox(); // what waited behind it goes now
      },
    });
  }

  function onUploaded(rec, att) {
    if (state.byClientId[rec.client_id] !== rec) {
      return; // removed meanwhile
    }
    rec.upload = null;
    rec.attachment = att;
    var now = new Date().toISOString();
    insertIntoOutbox({
      client_id: rec.client_id,
      body: rec.body,
      created: rec.created,
      queued: now,
      attachment: att.id,
      att: att,
    }, rec.order);
    render();
    flushOutbox();
  }

  function discardUpload(rec) {
    removeRecord(rec);
    render();
    flushOutbox();
  }

  function openFilePicker() {
    if (!uploadsEnabled()) {
      return;
    }
    el.fileInput.value = "";
    el.fileInput.click();
  }

  // ------------------------------------------------------------------ voice notes
  function setRecording(on) {
    el.recorder.hidden = !on;
    el.composer.hidden = on;
    el.composerArea.classList.toggle("recording", on);
    el.record.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) {
      el.recorderTime.textContent = S.formatDuration(0);
      el.recorderSend.focus();
    }
  }

  function focusComposer() {
    if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) {
      el.input.focus();
    } else if (!el.record.hidden) {
      el.record.focus();
    }
  }

  function startVoiceNote() {
    if (state.recording || !uploadsEnabled()) {
      return;
    }
    el.record.disabled = true; // while the browser asks for the microphone
    el.record.setAttribute("aria-busy", "true");
    var ctl = S.startRecording({
      maxSeconds: RECORD_MAX_SECONDS,
      onStart: function () {
        el.record.disabled = false;
        el.record.removeAttribute("aria-busy");
        setRecording(true);
      },
      onTick: function (seconds) {
        el.recorderTime.textContent = S.formatDuration(seconds);
        el.recorderTime.dateTime = "PT" + Math.floor(seconds) + "S";
      },
      onStop: function (file) {
        state.recording = null;
        setRecording(false);
        focusComposer();
        var reason = S.checkFile(file, uploads);
        if (reason) {
          showToast(reason);
          return;
        }
        sendFiles([S.stageFile(file)], "");
      },
      onError: function (message) {
        state.recording = null;
        el.record.disabled = false;
        el.record.removeAttribute("aria-busy");
        setRecording(false);
        showToast(message);
      },
    });
    state.recording = ctl;
  }

  function cancelVoiceNote() {
    var ctl = state.recording;
    state.recording = null;
    if (ctl) {
      ctl.cancel();
    }
    el.record.disabled = false;
    el.record.removeAttribute("aria-busy");
    setRecording(false);
    focusComposer();
  }

  function finishVoiceNote() {
    if (state.recording) {
      state.recording.stop(); // onStop sends it
    }
  }

  // ------------------------------------------------------------------ read receipts
  function largestOperatorId() {
    var max = 0;
    for (var i = 0; i < state.records.length; i++) {
      var r = state.records[i];
      if (r.author === "operator" && r.id != null && r.id > max) {
        max = r.id;
      }
    }
    return max;
  }

  function pageIsActive() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  function sendRead() {
    if (!socket || !pageIsActive() || !state.helloSeen) {
      return;
    }
    var upTo = largestOperatorId();
    if (upTo > state.lastReadSent && socket.send({ type: "read", up_to: upTo })) {
      state.lastReadSent = upTo;
      saveCacheSoon();
    }
  }

  // ------------------------------------------------------------------ hidden tab
  function notifyHidden(count) {
    state.unseen += count;
    S.TitleBadge.set(state.unseen);
    S.playChime();
  }

  function onVisibility() {
    if (document.visibilityState === "visible") {
      state.unseen = 0;
      S.TitleBadge.set(0);
      refreshDayLabels();
      scheduleRead();
    } else {
      typing.stop();
    }
  }

  // ------------------------------------------------------------------ toast
  function showToast(text) {
    el.toast.textContent = text;
    el.toast.hidden = false;
    el.toast.classList.remove("leaving");
    window.clearTimeout(state.toastTimer);
    state.toastTimer = window.setTimeout(function () {
      el.toast.classList.add("leaving");
      state.toastTimer = window.setTimeout(function () {
        el.toast.hidden = true;
        el.toast.textContent = "";
        el.toast.classList.remove("leaving");
      }, 250);
    }, 4500);
  }

  // ------------------------------------------------------------------ name
  function sendName(name) {
    if (socket && state.helloSeen && socket.send({ type: "visitor.update", name: name })) {
      state.pendingName = null;
      return true;
    }
    state.pendingName = name;
    return false;
  }

  function setMenuOpen(open) {
    el.namePanel.hidden = !open;
    el.menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      el.nameInput.focus();
      el.nameInput.select();
    }
  }

  // ------------------------------------------------------------------ wiring
  function wire() {
    el.composer.addEventListener("submit", function (event) {
      event.preventDefault();
      sendMessage();
      el.input.focus();
    });
    el.input.addEventListener("keydown", function (event) {
      if (S.isSendKey(event)) {
        event.preventDefault();
        sendMessage();
      }
    });
    el.input.addEventListener("input", onComposerInput);
    el.input.addEventListener("blur", typing.blur);

    el.messages.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-action]") : null;
      if (!button) {
        return;
      }
      var node = button.closest(".message");
      var clientId = node && node.getAttribute("data-client-id");
      var rec = clientId && state.byClientId[clientId];
      if (!rec || rec.id != null) {
        return;
      }
      var action = button.getAttribute("data-action");
      if (rec.upload) {
        if (action === "retry") {
          startUpload(rec);
          render();
          flushOutbox();
        } else if (action === "cancel-upload" || action === "remove") {
          discardUpload(rec);
          el.input.focus();
        }
        return;
      }
      if (action !== "edit" && action !== "remove") {
        return;
      }
      removeFromOutbox(clientId);
      removeRecord(rec);
      render();
      if (action === "edit") {
        el.input.value = rec.body;
        autoGrow();
        updateCounter();
      }
      el.input.focus();
    });

    el.loadEarlier.addEventListener("click", requestHistory);
    // Pictures that load (or a player that appears) must not push the latest message
    // away, even while a smooth scroll to the old end is still on its way there.
    var atBottom = true;
    S.keepAtEnd(
      el.conversation,
      el.messages,
      function () {
        return atBottom;
      },
      function () {
        scrollToBottom(false);
      }
    );
    el.conversation.addEventListener("scroll", function () {
      atBottom = isNearBottom();
      if (!el.jump.hidden && isNearBottom()) {
        el.jump.hidden = true;
      }
      if (el.conversation.scrollTop < 80) {
        requestHistory();
      }
    }, { passive: true });
    el.jump.addEventListener("click", function () {
      scrollToBottom(true);
    });

    el.menuButton.addEventListener("click", function () {
      setMenuOpen(el.namePanel.hidden);
    });
    el.namePanel.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = el.nameInput.value.replace(/^\s+|\s+$/g, "").slice(0, 80);
      el.nameInput.value = name;
      sendName(name);
      setMenuOpen(false);
      el.menuButton.focus();
      showToast(name ? tf("Thanks, %(name)s!", { name: name }) : t("Your name was removed."));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !el.namePanel.hidden) {
        setMenuOpen(false);
        el.menuButton.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (!el.namePanel.hidden && !el.namePanel.contains(event.target) &&
          !el.menuButton.contains(event.target)) {
        setMenuOpen(false);
      }
    });

    el.connectionRetry.addEventListener("click", function () {
      window.location.reload();
    });

    wireFiles();

    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("focus", scheduleRead);
    window.addEventListener("resize", function () {
      if (isNearBottom()) {
        scrollToBottom(false);
      }
    });
    window.setInterval(function () {
      // Resends anything whose ack never came, and what a closed tab left behind.
      flushOutbox();
    }, ACK_TIMEOUT_MS / 3);
  }

  function wireFiles() {
    if (!uploadsEnabled()) {
      return;
    }
    updateFileInput();
    el.attach.hidden = false;
    el.attach.addEventListener("click", openFilePicker);
    el.fileInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(el.fileInput.files || []);
      el.fileInput.value = "";
      addFiles(files);
      el.input.focus();
    });
    S.dropZone(el.app, {
      overlay: el.dropOverlay,
      onFiles: addFiles,
      enabled: function () {
        return !state.recording;
      },
    });
    S.pasteFiles(document, {
      onFiles: addFiles,
      enabled: function () {
        return !state.recording && document.activeElement !== el.nameInput;
      },
    });

    S.bindRecorder(el, {
      start: startVoiceNote,
      cancel: cancelVoiceNote,
      finish: finishVoiceNote,
      abandon: function () {
        if (state.recording) {
          state.recording.cancel();
          state.recording = null;
        }
      },
    });
  }

  function start() {
    loadCache();
    render();
    scrollToBottom(false);
    autoGrow();
    updateCounter();
    wire();
    socket = new S.Socket(WS_PATH, {
      onFrame: onFrame,
      onClose: onClose,
      onStateChange: onStateChange,
      onRoom: function () {
        flushOutbox();
      },
    });
    onStateChange(socket.state);
  }

  start();
})(window, document);
