/*
 * Sohbet operator inbox (Django admin, /admin/inbox/).
 *
 * Needs the Django JavaScript catalog and static/chat/sohbet.js (window.Sohbet) loaded
 * before it; reads its configuration from the JSON in #sohbet-inbox-config
 * ({wsPath, me, operators, threadAdminUrl, uploadUrl, csrfCookieName, maxUpload, uploadTypes}).
 * Speaks docs/protocol.md on /ws/operator/.
 * User text only ever reaches the DOM through textContent and Sohbet.linkify.
 *
 * DOM hooks (browser tests rely on them; keep them stable):
 *   #connection-state[data-state]      connecting | open | reconnecting | offline | limited
 *                                      (4429: counts down to the retry) | denied
 *   #enable-notifications              shown while Notification.permission is "default"
 *   #thread-filter button[data-status] open | closed | all; aria-pressed="true" on the current one
 *   #thread-search                     search input, 300 ms debounce
 *   #thread-list > [data-thread-id]    one <button> per thread, newest activity first (one Tab
 *                                      stop for the list: tabindex 0 on one row; arrows move), with
 *       .unread-badge (the number, hidden when 0), .preview (last message, one line),
 *       .online-dot (present only while the visitor is online), aria-current="true" when open
 *   #thread-load-more                  next page of the thread list
 *   #conversation[data-thread-id]      the open thread's id ("" when none)
 *   #messages > .msg[data-id][data-client-id][data-status=pending|sent|failed]
 *       class author-visitor | author-operator | author-system; text in .body;
 *       .msg-retry on failed ones; .msg-seen under the last operator message once seen
 *   #load-earlier                      older messages (history paging)
 *   #reply-input, #reply-send          Enter sends, Shift+Enter is a new line
 *   #close-thread, #reopen-thread      only the one that applies is visible
 *   #assign-select                     value "" = unassigned, otherwise an operator id
 *   #thread-details                    link to the thread's admin change page
 *   #typing-indicator                  "Visitor is typing…" (empty otherwise)
 *
 * Attachments (shared code in sohbet.js: Sohbet.renderAttachment, .upload, .startRecording):
 *   .msg[data-attachment-kind=image|audio|file]   a message carrying a file:
 *       .attachment-image img, .attachment-audio audio, .attachment-file a;
 *       .attachment-missing when the file cannot be loaded ("File unavailable")
 *   .msg[data-status="uploading"]      its file is uploading: .upload-progress (<progress>,
 *       aria-valuenow) and .upload-cancel; a failed upload is data-status="failed" with the
 *       server's detail, .msg-retry (Retry) and .msg-discard (Remove)
 *   #attach-button, #file-input        choose files (the input is hidden)
 *   #attachment-preview                files chosen for the open conversation, not sent yet
 *                                      (.preview-item with .remove); the reply text is the
 *                                      caption of the first
 *   #drop-overlay                      shown while files are dragged over the conversation;
 *                                      pasting an image into the reply box works too
 *   #record-button                     voice note (where getUserMedia and MediaRecorder exist)
 *   #recorder                          #recorder-time (mm:ss), #recorder-cancel, #recorder-send
 *   #media-viewer                      the full-size image dialog (built on first use)
 */
(function (window, document) {
  "use strict";

  var S = window.Sohbet;
  if (!S) {
    window.console.error("Sohbet inbox: static/chat/sohbet.js is not loaded.");
    return;
  }

  var OUTBOX_KEY = "sohbet.inbox.outbox";
  var PAGE_SIZE = 30;
  var HISTORY_PAGE = 50;
  var REQUEST_TIMEOUT_MS = 10000;
  var SEARCH_DEBOUNCE_MS = 300;
  var DELIVERED_DEBOUNCE_MS = 1000;
  var TYPING_EXPIRE_MS = S.TYPING_EXPIRE_MS;
  var RETRY_DELAY_MS = 5000;
  var ACK_TIMEOUT_MS = 15000; // an unanswered send is sent again after this
  var MAX_AUTO_RETRIES = 5;
  var NOTICE_MS = 8000;
  var NEW_THREAD_WAIT_MS = 400;
  var READ_COALESCE_MS = 250;
  var MAX_STAGED = 10;
  var RECORD_MAX_SECONDS = 300;
  // Errors after which a message is worth sending again as it is.
  var RETRYABLE = { unavailable: true, rate_limited: true };

  var t = S.t;
  var tf = S.tf;
  var make = S.make;
  var session = S.makeStore("sessionStorage");

  // ------------------------------------------------------------------ elements
  function $(id) {
    return document.getElementById(id);
  }

  var el = {
    root: $("sohbet-inbox"),
    state: $("connection-state"),
    notify: $("enable-notifications"),
    notice: $("inbox-notice"),
    filter: $("thread-filter"),
    search: $("thread-search"),
    list: $("thread-list"),
    listEmpty: $("thread-list-empty"),
    listLoading: $("thread-list-loading"),
    loadMore: $("thread-load-more"),
    conversation: $("conversation"),
    empty: $("conversation-empty"),
    header: $("conversation-header"),
    back: $("conversation-back"),
    title: $("conversation-title"),
    presence: $("conversation-presence"),
    status: $("conversation-status"),
    assign: $("assign-select"),
    close: $("close-thread"),
    reopen: $("reopen-thread"),
    details: $("thread-details"),
    scroll: $("messages-scroll"),
    loadEarlier: $("load-earlier"),
    messages: $("messages"),
    jump: $("jump-latest"),
    footer: $("conversation-footer"),
    typing: $("typing-indicator"),
    closedNote: $("closed-note"),
    form: $("reply-form"),
    input: $("reply-input"),
    send: $("reply-send"),
    count: $("reply-count"),
    attach: $("attach-button"),
    fileInput: $("file-input"),
    preview: $("attachment-preview"),
    dropOverlay: $("drop-overlay"),
    record: $("record-button"),
    recorder: $("recorder"),
    recorderTime: $("recorder-time"),
    recorderCancel: $("recorder-cancel"),
    recorderSend: $("recorder-send"),
  };
  if (!el.root) {
    return;
  }

  // ------------------------------------------------------------------ state
  var config = S.readConfig("sohbet-inbox-config");
  var me = config.me || { id: null, name: "" };
  var operators = Array.isArray(config.operators) ? config.operators : [];
  var maxBody = 4000;
  var uploads = S.uploadSettings(config); // url null: this server takes no files
  var nextOrder = 0; // the order replies were written in (outbox entries and uploads)

  var threads = new Map(); // id -> latest known <thread>
  var rowEls = new Map(); // id -> row element
  var list = {
    status: "open",
    q: "",
    ids: new Set(), // threads shown under the current filter
    cursor: null, // `updated` of the last thread of the last page
    hasMore: false,
    loaded: false,
    inFlight: null, // the one `threads` request awaiting its answer
    queued: null,
  };

  var convs = new Map(); // id -> conversation cache, see getConv()
  var openId = null;
  var outbox = loadOutbox(); // unacknowledged replies, oldest first
  // Replies whose file is still uploading (or failed to): not in the outbox yet.
  // {client_id, thread, body, created, order, status: "uploading"|"failed", error,
  //  upload: {file, name, size, kind, percent, handle}, previewUrl, _el}
  var uploadsInFlight = [];
  var stagedByThread = new Map(); // thread id -> PreviewStrip items not sent yet
  var recording = null; // the Sohbet.startRecording controller while recording
  var drafts = new Map();
  var notifiedIds = new Set();
  var visitorTyping = new Map(); // thread id -> expiry timestamp
  var operatorTyping = new Map(); // thread id -> {name, until}
  var typing = S.typingSender(function (active, thread) {
    return send({ type: "typing", thread: thread, active: active });
  });
  var deliveredMax = new Map();
  var deliveredSent = new Map();
  var deliveredTimers = new Map();
  var stickToBottom = true;
  var hideNoticeLater = S.debounce(hideNotice, NOTICE_MS);
  // Coalesces a burst of visitor messages into one read frame.
  var maybeSendRead = S.coalesce(sendRead, READ_COALESCE_MS);

  // ------------------------------------------------------------------ small helpers
  function ms(iso) {
    var n = iso ? Date.parse(iso) : NaN;
    return isNaN(n) ? 0 : n;
  }

  function shortTime(iso) {
    var when = ms(iso);
    if (!when) {
      return "";
    }
    var diff = Date.now() - when;
    if (diff < 60000) {
      return t("now");
    }
    if (diff < 3600000) {
      return tf("%(minutes)s min", { minutes: Math.floor(diff / 60000) });
    }
    var d = new Date(when);
    var now = new Date();
    if (S.isSameDay(iso, now)) {
      return S.formatTime(iso);
    }
    var yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (S.isSameDay(iso, yesterday)) {
      return t("Yesterday");
    }
    try {
      if (diff < 6 * 86400000) {
        return d.toLocaleDateString(S.locale(), { weekday: "short" });
      }
      var opts = { day: "numeric", month: "short" };
      if (d.getFullYear() !== now.getFullYear()) {
        opts.year = "numeric";
      }
      return d.toLocaleDateString(S.locale(), opts);
    } catch (err) {
      return d.toLocaleDateString();
    }
  }

  function fullDate(iso) {
    var when = ms(iso);
    return when ? new Date(when).toLocaleString(S.locale()) : "";
  }

  function threadName(th, id) {
    if (th && th.visitor_name) {
      return th.visitor_name;
    }
    if (th && th.visitor_id != null) {
      return tf("Visitor #%(id)s", { id: th.visitor_id });
    }
    return tf("Conversation #%(id)s", { id: id });
  }

  function previewText(m) {
    if (!m) {
      return "";
    }
    var body = String(m.body || "").replace(/\s+/g, " ").trim();
    if (m.attachment) {
      var sign = m.attachment.kind === "image" ? "📷 " : m.attachment.kind === "audio" ? "🎤 " : "📎 ";
      return sign + (body || S.attachmentSummary(m.attachment));
    }
    return body;
  }

  function detailsUrl(id) {
    var tpl = String(config.threadAdminUrl || "");
    var at = tpl.lastIndexOf("/0/");
    return at >= 0 ? tpl.slice(0, at) + "/" + id + "/" + tpl.slice(at + 3) : tpl;
  }

  function isVisible() {
    return document.visibilityState === "visible";
  }

  function isOpenAndVisible(id) {
    return id === openId && isVisible();
  }

  function send(frame) {
    return socket ? socket.send(frame) : false;
  }

  // ------------------------------------------------------------------ outbox
  function loadOutbox() {
    var items = session.get(OUTBOX_KEY, []);
    if (!Array.isArray(items)) {
      return [];
    }
    return items
      .filter(function (e) {
        return e && typeof e.client_id === "string" && typeof e.body === "string" &&
          typeof e.thread === "number";
      })
      .map(function (e) {
        // After a reload everything unacknowledged is sent again.
        return {
          client_id: e.client_id,
          thread: e.thread,
          body: e.body,
          created: e.created || new Date().toISOString(),
          status: e.status === "failed" && !RETRYABLE[e.code] ? "failed" : "pending",
          error: e.status === "failed" ? e.error || "" : "",
          code: e.code || "",
          attempts: 0,
          attachment: S.isInt(e.attachment) ? e.attachment : null,
          att: S.normalizeAttachment(e.att),
          order: ++nextOrder,
        };
      });
  }

  // Storage full or disabled: the in-memory outbox still works.
  function saveOutbox() {
    var items = outbox.map(function (e) {
      return {
        client_id: e.client_id,
        thread: e.thread,
        body: e.body,
        created: e.created,
        status: e.status,
        error: e.error,
        code: e.code,
        attachment: e.attachment || null,
        att: e.att || null,
      };
    });
    if (items.length) {
      session.set(OUTBOX_KEY, items);
    } else {
      session.remove(OUTBOX_KEY);
    }
  }

  function outboxEntry(clientId) {
    for (var i = 0; i < outbox.length; i++) {
      if (outbox[i].client_id === clientId) {
        return outbox[i];
      }
    }
    return null;
  }

  function removeFromOutbox(entry) {
    var at = outbox.indexOf(entry);
    if (at >= 0) {
      outbox.splice(at, 1);
      saveOutbox();
    }
  }

  // A reply written after a file that is still uploading waits for it (order is kept).
  function waitsForUpload(entry) {
    for (var i = 0; i < uploadsInFlight.length; i++) {
      var u = uploadsInFlight[i];
      if (u.thread === entry.thread && u.status === "uploading" && u.order < entry.order) {
        return true;
      }
    }
    return false;
  }

  // Sent on this connection, no answer yet (an ack or an error clears it).
  function isInFlight(entry) {
    return !!entry.sentAt && Date.now() - entry.sentAt < ACK_TIMEOUT_MS;
  }

  function transmit(entry) {
    if (waitsForUpload(entry) || isInFlight(entry)) {
      return false;
    }
    var ok = send({
      type: "message.send",
      thread: entry.thread,
      client_id: entry.client_id,
      body: entry.body,
      attachment: entry.attachment || null,
    });
    if (ok) {
      entry.sentAt = Date.now();
    }
    return ok;
  }

  // In order; stops at the first the socket cannot take now (paced: it says when).
  function flushOutbox() {
    for (var i = 0; i < outbox.length; i++) {
      var entry = outbox[i];
      if (entry.status === "pending" && !isInFlight(entry) && !waitsForUpload(entry) &&
          !transmit(entry)) {
        return;
      }
    }
  }

  function retry(entry) {
    if (uploadsInFlight.indexOf(entry) >= 0) {
      startUpload(entry);
      return;
    }
    if (outbox.indexOf(entry) < 0) {
      return;
    }
    entry.status = "pending";
    entry.error = "";
    entry.code = "";
    saveOutbox();
    flushOutbox();
    if (entry.thread === openId) {
      renderMessages();
    }
  }

  function discard(entry) {
    if (uploadsInFlight.indexOf(entry) >= 0) {
      dropUpload(entry);
      return;
    }
    if (outbox.indexOf(entry) < 0 || entry.status !== "failed") {
      return;
    }
    removeFromOutbox(entry);
    if (entry.thread === openId) {
      renderMessages();
    }
  }

  // ------------------------------------------------------------------ conversations
  function getConv(id) {
    var conv = convs.get(id);
    if (!conv) {
      conv = {
        id: id,
        list: [], // confirmed messages, by seq
        byId: new Map(),
        byClient: new Map(),
        daySeps: new Map(),
        ready: false, // the latest page has arrived; lastSeq is meaningful
        lastSeq: 0, // every seq up to here (from the oldest loaded) is present
        hasMoreHistory: false,
        historyInFlight: null,
        syncInFlight: null,
        readSent: 0,
      };
      convs.set(id, conv);
    }
    return conv;
  }

  function insertBySeq(conv, msg) {
    var items = conv.list;
    var i = items.length;
    while (i > 0 && items[i - 1].seq > msg.seq) {
      i--;
    }
    items.splice(i, 0, msg);
  }

  // Adds or updates one server message in its cache; returns true if it was new.
  function mergeMessage(conv, m) {
    var known = conv.byId.get(m.id);
    if (known) {
      copyFields(known, m);
      return false;
    }
    var msg = { status: "sent", _el: null };
    var entry = m.client_id ? outboxEntry(m.client_id) : null;
    if (entry && entry.thread === conv.id && m.author === "operator") {
      msg._el = entry._el || null; // the pending bubble becomes the stored message
      msg.previewUrl = entry.previewUrl || null;
      removeFromOutbox(entry);
    } else if (m.client_id && conv.byClient.has(m.client_id)) {
      var same = conv.byClient.get(m.client_id);
      if (same.author === m.author) {
        copyFields(same, m);
        conv.byId.set(m.id, same);
        return false;
      }
    }
    copyFields(msg, m);
    conv.byId.set(msg.id, msg);
    if (msg.client_id) {
      conv.byClient.set(msg.client_id, msg);
    }
    insertBySeq(conv, msg);
    return true;
  }

  function copyFields(target, m) {
    target.id = m.id;
    target.thread = m.thread;
    target.seq = Number(m.seq) || 0;
    target.client_id = m.client_id || target.client_id || "";
    target.author = m.author || target.author || "system";
    target.author_name = m.author_name != null ? m.author_name : target.author_name || "";
    target.body = m.body != null ? m.body : target.body || "";
    target.created = m.created || target.created;
    target.source = m.source || target.source || "web";
    target.attachment = m.attachment !== undefined ? m.attachment : target.attachment || null;
    target.status = "sent";
  }

  // Moves lastSeq over contiguous messages; returns true when a gap remains after it.
  function advance(conv) {
    if (!conv.ready) {
      return false;
    }
    var gap = false;
    for (var i = 0; i < conv.list.length; i++) {
      var seq = conv.list[i].seq;
      if (seq <= conv.lastSeq) {
        continue;
      }
      if (seq === conv.lastSeq + 1) {
        conv.lastSeq = seq;
      } else {
        gap = true;
        break;
      }
    }
    return gap;
  }

  function maxSeq(messages) {
    var top = 0;
    messages.forEach(function (m) {
      top = Math.max(top, Number(m.seq) || 0);
    });
    return top;
  }

  function inFlightTimer(conv, key) {
    var token = {};
    conv[key] = token;
    window.setTimeout(function () {
      if (conv[key] === token) {
        conv[key] = null; // the answer never came (an error replaced it): allow asking again
      }
    }, REQUEST_TIMEOUT_MS);
  }

  function requestHistory(conv, before) {
    if (conv.historyInFlight) {
      return;
    }
    if (send({ type: "history", thread: conv.id, before: before, limit: HISTORY_PAGE })) {
      inFlightTimer(conv, "historyInFlight");
      renderLoadEarlier();
    }
  }

  function requestSync(conv) {
    if (conv.syncInFlight || !conv.ready) {
      return;
    }
    if (send({ type: "sync", thread: conv.id, after: conv.lastSeq })) {
      inFlightTimer(conv, "syncInFlight");
    }
  }

  function loadConversation(conv) {
    if (conv.ready) {
      requestSync(conv);
    } else {
      requestHistory(conv, null);
    }
  }

  function largestVisitorId(conv) {
    for (var i = conv.list.length - 1; i >= 0; i--) {
      if (conv.list[i].author === "visitor") {
        return conv.list[i].id;
      }
    }
    return 0;
  }

  function sendRead() {
    if (openId == null || !isVisible() || !document.hasFocus()) {
      return;
    }
    var conv = convs.get(openId);
    if (!conv || !conv.ready) {
      return;
    }
    var upTo = largestVisitorId(conv);
    if (upTo > conv.readSent && send({ type: "read", thread: conv.id, up_to: upTo })) {
      conv.readSent = upTo;
    }
    var th = threads.get(openId);
    if (th && th.unread) {
      th.unread = 0;
      renderList();
      updateTitleBadge();
    }
  }

  function scheduleDelivered(threadId, messageId) {
    if (messageId <= (deliveredMax.get(threadId) || 0)) {
      return;
    }
    deliveredMax.set(threadId, messageId);
    if (deliveredTimers.has(threadId)) {
      return;
    }
    deliveredTimers.set(
      threadId,
      window.setTimeout(function () {
        deliveredTimers.delete(threadId);
        sendDelivered(threadId);
      }, DELIVERED_DEBOUNCE_MS)
    );
  }

  function sendDelivered(threadId) {
    var upTo = deliveredMax.get(threadId) || 0;
    if (upTo > (deliveredSent.get(threadId) || 0) &&
        send({ type: "delivered", thread: threadId, up_to: upTo })) {
      deliveredSent.set(threadId, upTo);
    }
  }

  // ------------------------------------------------------------------ threads
  function storeThread(incoming) {
    var th = threads.get(incoming.id);
    if (!th) {
      th = {};
      threads.set(incoming.id, th);
    }
    var keepLast = th.last_message && incoming.last_message &&
      th.last_message.id > incoming.last_message.id;
    var lastMessage = keepLast ? th.last_message : incoming.last_message || th.last_message || null;
    var updated = ms(th.updated) > ms(incoming.updated) ? th.updated : incoming.updated;
    var readUpTo = Math.max(th.visitor_read_up_to || 0, incoming.visitor_read_up_to || 0);
    Object.keys(incoming).forEach(function (key) {
      th[key] = incoming[key];
    });
    th.last_message = lastMessage;
    th.updated = updated;
    th.visitor_read_up_to = readUpTo;
    th.unread = Math.max(0, Number(th.unread) || 0);
    return th;
  }

  function touch(th) {
    th._touchedAt = Date.now();
  }

  function matchesFilter(th) {
    if (list.status !== "all" && th.status !== list.status) {
      return false;
    }
    if (!list.q || list.ids.has(th.id)) {
      return true; // the server matched it (or there is no search)
    }
    var q = list.q.toLowerCase();
    var haystack = (th.visitor_name || "") + "\n" + (th.last_message ? th.last_message.body || "" : "");
    return haystack.toLowerCase().indexOf(q) >= 0;
  }

  function placeThread(th) {
    if (!list.loaded) {
      return;
    }
    if (!th.last_message && !list.ids.has(th.id)) {
      return; // the list shows threads with at least one message
    }
    if (matchesFilter(th)) {
      list.ids.add(th.id);
    } else {
      list.ids.delete(th.id);
    }
  }

  function requestThreads(reset) {
    var req = { reset: reset, status: list.status, q: list.q, before: reset ? null : list.cursor };
    if (list.inFlight) {
      if (reset || !list.queued) {
        list.queued = req;
      }
      renderListChrome();
      return;
    }
    sendThreadsRequest(req);
  }

  function sendThreadsRequest(req) {
    var ok = send({
      type: "threads",
      status: req.status,
      q: req.q,
      before: req.before,
      limit: PAGE_SIZE,
    });
    if (ok) {
      req.sentAt = Date.now();
      list.inFlight = req;
      req.timer = window.setTimeout(function () {
        if (list.inFlight === req) {
          list.inFlight = null;
          drainThreadsQueue();
          renderListChrome();
        }
      }, REQUEST_TIMEOUT_MS);
    }
    renderListChrome();
  }

  function drainThreadsQueue() {
    var next = list.queued;
    list.queued = null;
    if (next) {
      next.status = list.status;
      next.q = list.q;
      if (!next.reset) {
        next.before = list.cursor;
      }
      sendThreadsRequest(next);
    }
  }

  function onThreads(frame) {
    var req = list.inFlight;
    list.inFlight = null;
    if (req) {
      window.clearTimeout(req.timer);
    }
    var items = Array.isArray(frame.threads) ? frame.threads : [];
    items.forEach(storeThread);
    if (req && req.status === list.status && req.q === list.q) {
      if (req.reset) {
        list.ids = new Set();
      }
      items.forEach(function (th) {
        list.ids.add(th.id);
      });
      if (items.length) {
        list.cursor = items[items.length - 1].updated;
      } else if (req.reset) {
        list.cursor = null;
      }
      list.hasMore = !!frame.has_more && items.length > 0;
      list.loaded = true;
      if (req.reset) {
        // Live changes that raced the answer still belong in the list.
        threads.forEach(function (th) {
          if (th._touchedAt >= req.sentAt) {
            placeThread(th);
          }
        });
      }
    }
    drainThreadsQueue();
    renderList();
    if (openId != null) {
      renderHeader();
    }
    updateTitleBadge();
  }

  function onThreadFrame(frame) {
    if (!frame.thread || frame.thread.id == null) {
      return;
    }
    var th = storeThread(frame.thread);
    touch(th);
    placeThread(th);
    renderList();
    if (th.id === openId) {
      renderHeader();
      renderMessages();
    }
    updateTitleBadge();
  }

  // ------------------------------------------------------------------ frames
  function onHello(frame) {
    if (frame.operator) {
      me = { id: frame.operator.id, name: frame.operator.name || me.name };
    }
    if (frame.limits && frame.limits.max_body) {
      maxBody = Number(frame.limits.max_body) || maxBody;
      el.input.maxLength = maxBody;
    }
    if (frame.limits) {
      S.applyUploadLimits(uploads, frame.limits);
      el.fileInput.accept = uploads.types.join(",");
    }
    // Messages committed together may come in one frame (a burst: one frame, one
    // render pass); docs/protocol.md, "options".
    send({ type: "options", batch_messages: true });
    resetInFlight();
    requestThreads(true);
    if (openId != null) {
      loadConversation(getConv(openId));
    }
    flushOutbox();
    deliveredMax.forEach(function (upTo, threadId) {
      sendDelivered(threadId);
    });
  }

  function resetInFlight() {
    outbox.forEach(function (entry) {
      entry.sentAt = 0;
    });
    if (list.inFlight) {
      window.clearTimeout(list.inFlight.timer);
    }
    list.inFlight = null;
    list.queued = null;
    convs.forEach(function (conv) {
      conv.historyInFlight = null;
      conv.syncInFlight = null;
    });
  }

  function onMessageFrame(frame) {
    var m = frame.message;
    if (!m || m.id == null || m.thread == null) {
      return;
    }
    var conv = convs.get(m.thread);
    var isNew = !notifiedIds.has(m.id);
    notifiedIds.add(m.id);
    if (conv) {
      var added = mergeMessage(conv, m);
      isNew = isNew && (added || !conv.ready);
      if (advance(conv) && conv.id === openId) {
        requestSync(conv); // a seq jumped: fetch what the live channel dropped
      }
      if (conv.id === openId) {
        renderMessages(added && m.author !== "operator");
      }
    } else {
      // Our own reply on a thread whose cache was dropped: still clear it from the outbox.
      var entry = m.client_id ? outboxEntry(m.client_id) : null;
      if (entry && entry.thread === m.thread) {
        removeFromOutbox(entry);
      }
    }

    var th = threads.get(m.thread);
    if (th) {
      var lastId = th.last_message ? th.last_message.id : 0;
      if (m.id > lastId) {
        th.last_message = m;
        if (ms(m.created) > ms(th.updated)) {
          th.updated = m.created;
        }
        if (m.author === "visitor" && !isOpenAndVisible(m.thread)) {
          th.unread = (th.unread || 0) + 1;
        }
      }
      if (m.author === "visitor") {
        visitorTyping.delete(m.thread);
      } else if (m.author === "operator") {
        operatorTyping.delete(m.thread);
      }
      touch(th);
      placeThread(th);
      renderList();
    }

    if (m.author === "visitor" && isNew) {
      scheduleDelivered(m.thread, m.id);
      if (!isVisible() || m.thread !== openId) {
        notify(m);
      }
    }
    if (m.thread === openId) {
      renderTyping();
      maybeSendRead();
    }
    updateTitleBadge();
  }

  function onPage(frame, kind) {
    var conv = convs.get(frame.thread);
    if (!conv) {
      return;
    }
    var messages = Array.isArray(frame.messages) ? frame.messages : [];
    var isOpen = conv.id === openId;
    var initial = kind === "history" && !conv.ready;
    var olderPage = kind === "history" && conv.ready;
    var keepFromBottom = isOpen && olderPage ? el.scroll.scrollHeight - el.scroll.scrollTop : null;
    var lastSeqBefore = conv.lastSeq;

    conv[kind === "history" ? "historyInFlight" : "syncInFlight"] = null;
    messages.forEach(function (m) {
      mergeMessage(conv, m);
      notifiedIds.add(m.id);
    });
    if (kind === "history") {
      conv.hasMoreHistory = !!frame.has_more;
    }
    if (initial) {
      conv.ready = true;
      conv.lastSeq = maxSeq(messages);
    }
    var gap = advance(conv);
    if (kind === "sync") {
      if (frame.has_more && messages.length) {
        requestSync(conv);
      } else if (gap && conv.lastSeq === lastSeqBefore) {
        // The server has nothing in between: do not ask forever.
        conv.lastSeq = conv.list.length ? conv.list[conv.list.length - 1].seq : conv.lastSeq;
      } else if (gap) {
        requestSync(conv);
      }
    } else if (gap) {
      requestSync(conv);
    }

    if (isOpen) {
      if (initial) {
        el.messages.setAttribute("aria-busy", "false");
        stickToBottom = true;
      }
      renderMessages();
      if (keepFromBottom !== null) {
        el.scroll.scrollTop = el.scroll.scrollHeight - keepFromBottom;
      }
      maybeSendRead();
    }
  }

  function onAck(frame) {
    var entry = frame.client_id ? outboxEntry(frame.client_id) : null;
    var threadId = frame.thread != null ? frame.thread : entry ? entry.thread : null;
    if (threadId == null || frame.id == null) {
      return;
    }
    var conv = convs.get(threadId);
    var message = {
      id: frame.id,
      thread: threadId,
      seq: frame.seq,
      client_id: frame.client_id,
      author: "operator",
      author_name: me.name || "",
      body: entry ? entry.body : "",
      created: frame.created,
      source: "web",
      attachment: entry ? entry.att || null : null,
    };
    if (conv) {
      if (!conv.byId.has(frame.id) && entry) {
        mergeMessage(conv, message);
      }
      if (advance(conv) && conv.id === openId) {
        requestSync(conv);
      }
    }
    if (entry) {
      removeFromOutbox(entry);
    }
    notifiedIds.add(frame.id);
    var th = threads.get(threadId);
    if (th && entry && (!th.last_message || th.last_message.id < frame.id)) {
      th.last_message = message;
      if (ms(frame.created) > ms(th.updated)) {
        th.updated = frame.created;
      }
      placeThread(th);
      renderList();
    }
    if (threadId === openId) {
      renderMessages();
    }
  }

  function onError(frame) {
    var detail = frame.detail || frame.code || t("Something went wrong.");
    var entry = frame.client_id ? outboxEntry(frame.client_id) : null;
    if (entry) {
      entry.sentAt = 0;
      entry.status = "failed";
      entry.error = detail;
      entry.code = frame.code || "";
      saveOutbox();
      if (RETRYABLE[entry.code] && (entry.attempts || 0) < MAX_AUTO_RETRIES) {
        entry.attempts = (entry.attempts || 0) + 1;
        window.setTimeout(function () {
          if (entry.status === "failed" && RETRYABLE[entry.code]) {
            retry(entry);
          }
        }, RETRY_DELAY_MS * entry.attempts);
      }
      if (entry.thread === openId) {
        renderMessages();
      }
      return;
    }
    showNotice(detail);
  }

  function onTypingFrame(frame) {
    if (frame.thread == null) {
      return;
    }
    var now = Date.now();
    if (frame.author === "visitor") {
      if (frame.active) {
        visitorTyping.set(frame.thread, now + TYPING_EXPIRE_MS);
      } else {
        visitorTyping.delete(frame.thread);
      }
    } else if (frame.author === "operator") {
      if (frame.active && frame.name !== me.name) {
        operatorTyping.set(frame.thread, { name: frame.name || "", until: now + TYPING_EXPIRE_MS });
      } else {
        operatorTyping.delete(frame.thread);
      }
    }
    if (frame.thread === openId) {
      renderTyping();
      window.setTimeout(renderTyping, TYPING_EXPIRE_MS + 50);
    }
  }

  function onReadFrame(frame) {
    if (frame.by !== "visitor" || frame.thread == null) {
      return;
    }
    var th = threads.get(frame.thread);
    if (!th) {
      th = { id: frame.thread };
      threads.set(frame.thread, th);
    }
    th.visitor_read_up_to = Math.max(th.visitor_read_up_to || 0, Number(frame.up_to) || 0);
    if (frame.thread === openId) {
      renderMessages();
    }
  }

  function onPresenceFrame(frame) {
    if (frame.thread == null) {
      return;
    }
    var th = threads.get(frame.thread);
    if (th) {
      th.visitor_online = !!frame.visitor_online;
      renderList();
      if (frame.thread === openId) {
        renderHeader();
      }
    }
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
        onHello(frame);
        break;
      case "threads":
        onThreads(frame);
        break;
      case "thread":
        onThreadFrame(frame);
        break;
      case "message":
        onMessageFrame(frame);
        break;
      case "messages":
        (frame.messages || []).forEach(function (message) {
          onMessageFrame({ type: "message", message: message });
        });
        break;
      case "history":
        onPage(frame, "history");
        break;
      case "sync":
        onPage(frame, "sync");
        break;
      case "ack":
        onAck(frame);
        break;
      case "typing":
        onTypingFrame(frame);
        break;
      case "read":
        onReadFrame(frame);
        break;
      case "presence":
        onPresenceFrame(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong and anything newer than this page
    }
  }

  // ------------------------------------------------------------------ connection
  function stateText(state) {
    // Literal msgids, so that makemessages finds them.
    switch (state) {
      case "open":
        return t("Live");
      case "reconnecting":
        return t("Reconnecting…");
      case "offline":
        return t("Offline, reconnecting…");
      case "denied":
        return t("You are signed out. Reload the page to sign in again.");
      default:
        return t("Connecting…");
    }
  }

  // Closed for sending too much (4429): said as such, with the time left.
  var limitedBanner = S.countdownBanner(el.state, el.state, function (seconds) {
    return S.tf(
      S.nt(
        "Too many messages at once. Sending again in %(seconds)s second.",
        "Too many messages at once. Sending again in %(seconds)s seconds.",
        seconds
      ),
      { seconds: seconds }
    );
  });

  function onStateChange(state) {
    el.state.dataset.state = state;
    limitedBanner.stop();
    if (state === "limited") {
      limitedBanner.start(socket.retryAt);
    } else {
      el.state.textContent = stateText(state);
    }
    el.input.disabled = state === "denied";
    el.send.disabled = state === "denied";
    el.attach.disabled = state === "denied";
    el.record.disabled = state === "denied";
    if (state !== "open") {
      visitorTyping.clear();
      operatorTyping.clear();
      renderTyping();
    }
    if (openId != null) {
      renderMessages(); // "Sending…" vs "Waiting for connection…"
    }
  }

  function onClose() {
    resetInFlight();
    typing.reset();
    renderListChrome();
    renderLoadEarlier();
  }

  // ------------------------------------------------------------------ notifications
  function notify(m) {
    S.playChime();
    if (!("Notification" in window) || window.Notification.permission !== "granted") {
      return;
    }
    if (threads.has(m.thread)) {
      showNotification(m);
    } else {
      // A new conversation: its thread frame, with the visitor's name, follows the message.
      window.setTimeout(function () {
        showNotification(m);
      }, NEW_THREAD_WAIT_MS);
    }
  }

  function showNotification(m) {
    var th = threads.get(m.thread);
    var title = th && (th.visitor_name || th.visitor_id != null)
      ? threadName(th, m.thread)
      : m.author_name || t("New conversation");
    try {
      var note = new window.Notification(title, {
        body: previewText(m),
        tag: String(m.thread),
      });
      note.onclick = function () {
        window.focus();
        openThread(m.thread, { focus: true });
        note.close();
      };
    } catch (err) {
      /* some browsers only allow notifications from a service worker */
    }
  }

  function renderNotifyButton() {
    el.notify.hidden = !("Notification" in window) || window.Notification.permission !== "default";
  }

  function requestNotifications() {
    if (!("Notification" in window)) {
      return;
    }
    var result = window.Notification.requestPermission(renderNotifyButton);
    if (result && typeof result.then === "function") {
      result.then(renderNotifyButton, renderNotifyButton);
    }
  }

  function totalUnread() {
    var total = 0;
    threads.forEach(function (th) {
      total += th.unread || 0;
    });
    return total;
  }

  function updateTitleBadge() {
    S.TitleBadge.set(isVisible() ? 0 : totalUnread());
  }

  function showNotice(text) {
    el.notice.querySelector(".inbox-notice-text").textContent = text;
    el.notice.hidden = false;
    hideNoticeLater();
  }

  function hideNotice() {
    el.notice.hidden = true;
  }

  // ------------------------------------------------------------------ rendering: list
  function sortedListThreads() {
    var items = [];
    list.ids.forEach(function (id) {
      var th = threads.get(id);
      if (th) {
        items.push(th);
      }
    });
    items.sort(function (a, b) {
      return ms(b.updated) - ms(a.updated) || b.id - a.id;
    });
    return items;
  }

  function buildRow(id) {
    var row = make("button", "thread-row");
    row.type = "button";
    row.dataset.threadId = String(id);
    var avatar = make("span", "thread-avatar");
    avatar.setAttribute("aria-hidden", "true");
    var initial = make("span", "thread-initial");
    avatar.appendChild(initial);
    // Said, not shown: the avatar's dot is decoration.
    var online = make("span", "visually-hidden thread-online", t("online"));
    var line = make("span", "thread-preview-line");
    line.appendChild(make("span", "preview-author"));
    line.appendChild(make("span", "preview-kind"));
    line.appendChild(make("span", "preview"));
    var meta = make("span", "thread-meta");
    meta.appendChild(make("span", "status-pill"));
    meta.appendChild(make("span", "thread-assignee"));
    row.appendChild(avatar);
    row.appendChild(make("span", "thread-name"));
    row.appendChild(online);
    row.appendChild(make("time", "thread-time"));
    row.appendChild(line);
    row.appendChild(make("span", "unread-badge", "0"));
    row.appendChild(meta);
    row.addEventListener("click", function () {
      openThread(id, { focus: true });
    });
    return row;
  }

  function updateRow(row, th) {
    var name = threadName(th, th.id);
    var m = th.last_message;
    var unread = isOpenAndVisible(th.id) ? 0 : th.unread || 0;
    row.querySelector(".thread-initial").textContent = name.trim().charAt(0) || "#";
    row.querySelector(".thread-name").textContent = name;
    var time = row.querySelector(".thread-time");
    time.textContent = shortTime(th.updated);
    time.dateTime = th.updated || "";
    time.title = fullDate(th.updated);

    var author = "";
    if (m && m.author === "operator") {
      author = m.author_name && m.author_name !== me.name
        ? tf("%(name)s:", { name: m.author_name })
        : t("You:");
    }
    var authorEl = row.querySelector(".preview-author");
    authorEl.textContent = author;
    authorEl.hidden = !author;
    updatePreviewKind(row.querySelector(".preview-kind"), m);
    row.querySelector(".preview").textContent = m && m.attachment
      ? String(m.body || "").replace(/\s+/g, " ").trim() || S.attachmentSummary(m.attachment)
      : previewText(m);

    var badge = row.querySelector(".unread-badge");
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    badge.setAttribute("aria-label", tf("%(count)s unread", { count: unread }));
    row.classList.toggle("has-unread", unread > 0);

    var avatar = row.querySelector(".thread-avatar");
    var dot = avatar.querySelector(".online-dot");
    if (th.visitor_online && !dot) {
      avatar.appendChild(make("span", "online-dot"));
    } else if (!th.visitor_online && dot) {
      dot.remove();
    }
    row.querySelector(".thread-online").hidden = !th.visitor_online;

    var pill = row.querySelector(".status-pill");
    pill.dataset.status = th.status || "";
    pill.textContent = th.status === "closed" ? t("Closed") : t("Open");
    var assignee = th.assigned_to;
    row.querySelector(".thread-assignee").textContent = assignee
      ? (assignee.id === me.id ? t("Assigned to you") : tf("Assigned to %(name)s", { name: assignee.name || "" }))
      : t("Unassigned");

    // The row's name is its text (what is seen is what is said: WCAG 2.5.3); the
    // unread badge says "N unread", the time its full date in a tooltip.
    if (th.id === openId) {
      row.setAttribute("aria-current", "true");
    } else {
      row.removeAttribute("aria-current");
    }
  }

  // A file's kind in the list: an icon (emoji need a font the system may lack),
  // said as a word.
  var KIND_ICONS = { image: "image", audio: "mic", file: "file" };

  function updatePreviewKind(box, m) {
    var kind = m && m.attachment ? m.attachment.kind : null;
    kind = KIND_ICONS[kind] ? kind : m && m.attachment ? "file" : null;
    if (box.dataset.kind === (kind || "")) {
      return;
    }
    box.dataset.kind = kind || "";
    box.textContent = "";
    box.hidden = !kind;
    if (kind) {
      box.appendChild(S.icon(KIND_ICONS[kind], 14));
      var word = kind === "image" ? t("Photo") : kind === "audio" ? t("Voice message") : t("File");
      box.appendChild(make("span", "visually-hidden", word + ":"));
    }
  }

  function renderList() {
    var items = sortedListThreads();
    var nodes = items.map(function (th) {
      var row = rowEls.get(th.id);
      if (!row) {
        row = buildRow(th.id);
        rowEls.set(th.id, row);
      }
      updateRow(row, th);
      return row;
    });
    S.reconcile(el.list, nodes);
    updateRovingStop();
    renderListChrome();
  }

  // The list is one Tab stop: the open thread's row (or the focused one, or the
  // first); the arrows, Home and End move within it.
  function updateRovingStop() {
    var rows = Array.prototype.slice.call(el.list.children);
    var stop = rows.indexOf(document.activeElement);
    if (stop < 0) {
      stop = rows.findIndex(function (row) {
        return row.getAttribute("aria-current") === "true";
      });
    }
    if (stop < 0) {
      stop = 0;
    }
    rows.forEach(function (row, at) {
      row.tabIndex = at === stop ? 0 : -1;
    });
  }

  function renderListChrome() {
    var resetting = list.inFlight ? list.inFlight.reset : list.queued ? list.queued.reset : false;
    var loading = !list.loaded || (resetting && list.ids.size === 0);
    el.list.setAttribute("aria-busy", loading || resetting ? "true" : "false");
    el.listLoading.hidden = !loading;
    el.listEmpty.hidden = loading || list.ids.size > 0;
    el.listEmpty.textContent = list.q ? t("No conversations match your search.") : t("No conversations here.");
    el.loadMore.hidden = !list.loaded || !list.hasMore;
    el.loadMore.disabled = !!list.inFlight;
    el.loadMore.textContent = list.inFlight && !list.inFlight.reset ? t("Loading…") : t("Load more");
  }

  function refreshTimes() {
    rowEls.forEach(function (row, id) {
      var th = threads.get(id);
      if (th && row.isConnected) {
        row.querySelector(".thread-time").textContent = shortTime(th.updated);
      }
    });
  }

  // ------------------------------------------------------------------ rendering: conversation
  function buildAssignOptions() {
    el.assign.replaceChildren();
    el.assign.appendChild(new Option(t("Unassigned"), ""));
    operators.forEach(function (op) {
      var label = op.id === me.id ? tf("%(name)s (you)", { name: op.name }) : op.name;
      el.assign.appendChild(new Option(label, String(op.id)));
    });
  }

  function renderHeader() {
    var id = openId;
    el.root.classList.toggle("has-thread", id != null);
    el.conversation.dataset.threadId = id == null ? "" : String(id);
    el.empty.hidden = id != null;
    el.header.hidden = id == null;
    el.scroll.hidden = id == null;
    el.footer.hidden = id == null;
    if (id == null) {
      el.jump.hidden = true;
      return;
    }
    var th = threads.get(id);
    var known = !!(th && th.status);
    el.title.textContent = threadName(th, id);
    var online = !!(th && th.visitor_online);
    el.presence.hidden = !known;
    el.presence.dataset.online = String(online);
    el.presence.textContent = online ? t("Online") : t("Offline");
    el.status.hidden = !known;
    el.status.dataset.status = known ? th.status : "";
    el.status.textContent = known && th.status === "closed" ? t("Closed") : t("Open");
    el.close.hidden = !known || th.status !== "open";
    el.reopen.hidden = !known || th.status !== "closed";
    el.close.disabled = false;
    el.reopen.disabled = false;
    el.closedNote.hidden = !known || th.status !== "closed";
    el.details.href = detailsUrl(id);

    var assigned = th && th.assigned_to ? String(Number(th.assigned_to.id)) : "";
    if (assigned && !el.assign.querySelector('option[value="' + assigned + '"]')) {
      el.assign.appendChild(new Option(th.assigned_to.name || assigned, assigned));
    }
    el.assign.value = assigned;
    el.assign.disabled = !known;
  }

  function renderTyping() {
    var text = "";
    var now = Date.now();
    if (openId != null) {
      var until = visitorTyping.get(openId);
      var op = operatorTyping.get(openId);
      if (until && until > now) {
        text = t("Visitor is typing…");
      } else if (op && op.until > now) {
        text = tf("%(name)s is replying…", { name: op.name || t("Another operator") });
      }
    }
    if (el.typing.textContent !== text) {
      el.typing.textContent = text;
    }
  }

  function renderLoadEarlier() {
    var conv = openId != null ? convs.get(openId) : null;
    el.loadEarlier.hidden = !conv || !conv.ready || !conv.hasMoreHistory;
    el.loadEarlier.disabled = !!(conv && conv.historyInFlight);
  }

  // What a message shows of its file: the server's attachment, or the file itself while
  // it is still ours (uploading, or refused).
  function attachmentOf(msg) {
    if (msg.upload) {
      return {
        key: "local:" + msg.client_id,
        att: { kind: msg.upload.kind, name: msg.upload.name, size: msg.upload.size, url: msg.previewUrl },
        local: true,
      };
    }
    // An outbox entry has the upload's id in `attachment` and its description in `att`.
    var a = msg.attachment && typeof msg.attachment === "object" ? msg.attachment : msg.att;
    if (a) {
      return { key: "a:" + a.id + ":" + a.url, att: a, local: false };
    }
    return null;
  }

  function updateAttachment(msg, node) {
    var bubble = node.querySelector(".bubble");
    var shown = attachmentOf(msg);
    var key = shown ? shown.key : null;
    if (node.sohbetAttachment !== key) {
      var old = bubble.querySelector(".attachment");
      var fresh = shown
        ? S.renderAttachment(shown.att, { local: shown.local, previewUrl: msg.previewUrl })
        : null;
      if (old && fresh) {
        bubble.replaceChild(fresh, old);
      } else if (old) {
        old.remove();
      } else if (fresh) {
        bubble.insertBefore(fresh, bubble.firstChild);
      }
      node.sohbetAttachment = key;
    }
    var kind = shown ? (shown.att.kind === "image" || shown.att.kind === "audio" ? shown.att.kind : "file") : null;
    if (kind) {
      node.dataset.attachmentKind = kind;
    } else {
      delete node.dataset.attachmentKind;
    }
    bubble.classList.toggle("media-only", kind === "image" && !msg.body);
    bubble.classList.toggle("has-attachment", !!kind);

    var progress = bubble.querySelector(".upload-status");
    if (msg.upload && msg.status === "uploading") {
      if (!progress) {
        progress = S.uploadProgress(msg.upload.name);
        bubble.insertBefore(progress, bubble.querySelector(".body"));
      }
      S.setUploadProgress(progress, msg.upload.percent);
    } else if (progress) {
      progress.remove();
    }
  }

  function buildMessageEl(msg) {
    var node = make("div", "msg author-" + msg.author);
    node.appendChild(make("div", "msg-author"));
    var bubble = make("div", "bubble");
    var body = make("div", "body");
    body.appendChild(S.linkify(msg.body || ""));
    bubble.appendChild(body);
    node.appendChild(bubble);
    var meta = make("div", "msg-meta");
    meta.appendChild(make("time", "msg-time"));
    meta.appendChild(make("span", "msg-source"));
    meta.appendChild(make("span", "msg-state"));
    var retryButton = S.button("msg-retry", t("Retry"));
    retryButton.addEventListener("click", function () {
      retry(msg);
    });
    meta.appendChild(retryButton);
    var discardButton = S.button("msg-discard", t("Discard"));
    discardButton.addEventListener("click", function () {
      discard(msg);
    });
    meta.appendChild(discardButton);
    meta.appendChild(make("span", "msg-seen", t("Seen")));
    node.appendChild(meta);
    return node;
  }

  function updateMessageEl(msg, grouped, seen, th) {
    if (!msg._el) {
      msg._el = buildMessageEl(msg);
    }
    var node = msg._el;
    var status = msg.status || "sent";
    if (msg.id != null) {
      node.dataset.id = String(msg.id);
    } else {
      delete node.dataset.id;
    }
    node.dataset.clientId = msg.client_id || "";
    node.dataset.status = status;
    node.classList.toggle("grouped", grouped);

    var authorText = "";
    if (msg.author === "operator") {
      authorText = msg.author_name || me.name || t("Operator");
    } else if (msg.author === "visitor") {
      authorText = msg.author_name || threadName(th, msg.thread);
    }
    var authorEl = node.querySelector(".msg-author");
    authorEl.textContent = authorText;
    authorEl.hidden = !authorText;

    // An operator may edit a message in Telegram: the same id comes again.
    var bodyEl = node.querySelector(".body");
    if (bodyEl && node.sohbetBody !== (msg.body || "")) {
      bodyEl.replaceChildren(S.linkify(msg.body || ""));
      node.sohbetBody = msg.body || "";
    }
    updateAttachment(msg, node);

    var time = node.querySelector(".msg-time");
    S.setTime(time, msg.created);
    time.title = fullDate(msg.created);
    node.querySelector(".bubble").title = fullDate(msg.created);

    var source = node.querySelector(".msg-source");
    source.textContent = msg.source === "telegram" ? t("via Telegram") : "";
    source.hidden = msg.source !== "telegram";

    var state = node.querySelector(".msg-state");
    if (status === "uploading") {
      state.textContent = t("Uploading…");
    } else if (status === "pending") {
      state.textContent = socket && socket.state === "open" ? t("Sending…") : t("Waiting for connection…");
    } else if (status === "failed") {
      state.textContent = tf("Not sent: %(reason)s", { reason: msg.error || t("unknown error") });
    } else {
      state.textContent = "";
    }
    state.hidden = status === "sent";
    state.classList.toggle("msg-state-failed", status === "failed");
    node.querySelector(".msg-retry").hidden = status !== "failed";
    var discardButton = node.querySelector(".msg-discard");
    discardButton.hidden = status !== "failed";
    var discardText = msg.upload ? t("Remove") : t("Discard");
    if (discardButton.textContent !== discardText) {
      discardButton.textContent = discardText;
    }
    node.querySelector(".msg-seen").hidden = !seen;
  }

  function daySeparator(conv, key, iso) {
    var sep = conv.daySeps.get(key);
    if (!sep) {
      sep = S.daySeparator();
      conv.daySeps.set(key, sep);
    }
    var label = S.formatDay(iso);
    if (sep.textContent !== label) {
      sep.textContent = label;
    }
    return sep;
  }

  function renderMessages(incoming) {
    var conv = openId != null ? convs.get(openId) : null;
    if (!conv) {
      el.messages.replaceChildren();
      renderLoadEarlier();
      return;
    }
    var th = threads.get(conv.id);
    var pending = outbox.filter(function (e) {
      return e.thread === conv.id;
    }).concat(uploadsInFlight.filter(function (u) {
      return u.thread === conv.id;
    }));
    pending.sort(function (a, b) {
      return (a.order || 0) - (b.order || 0);
    });
    pending.forEach(function (e) {
      e.author = "operator";
      e.author_name = me.name;
    });
    var items = conv.list.concat(pending);

    var readUpTo = th ? th.visitor_read_up_to || 0 : 0;
    var lastOperator = null;
    for (var i = items.length - 1; i >= 0; i--) {
      if (items[i].author === "operator") {
        lastOperator = items[i];
        break;
      }
    }
    var seenTarget = lastOperator && lastOperator.id != null && lastOperator.id <= readUpTo
      ? lastOperator
      : null;

    var wasAtBottom = stickToBottom;
    var nodes = [];
    var prev = null;
    items.forEach(function (msg) {
      var key = S.dayKey(msg.created);
      if (!prev || S.dayKey(prev.created) !== key) {
        nodes.push(daySeparator(conv, key, msg.created));
      }
      var grouped = S.groupsWith(prev, msg);
      updateMessageEl(msg, grouped, msg === seenTarget, th);
      if (prev) {
        prev._el.classList.toggle("has-next", grouped); // its time shows under the next one
      }
      nodes.push(msg._el);
      prev = msg;
    });
    if (prev) {
      prev._el.classList.remove("has-next");
    }
    S.reconcile(el.messages, nodes);
    renderLoadEarlier();
    if (wasAtBottom) {
      scrollToBottom();
    } else if (incoming) {
      el.jump.hidden = false;
    }
  }

  function isNearBottom() {
    return S.isNearBottom(el.scroll, 60);
  }

  function scrollToBottom() {
    el.scroll.scrollTop = el.scroll.scrollHeight;
    stickToBottom = true;
    el.jump.hidden = true;
  }

  // ------------------------------------------------------------------ actions
  function openThread(id, opts) {
    opts = opts || {};
    if (id == null || isNaN(id)) {
      return;
    }
    if (openId !== id) {
      typing.stop();
      saveDraft();
      if (recording) {
        cancelVoiceNote();
      }
      saveStaged(openId);
      openId = id;
      restoreStaged(id);
      var conv = getConv(id);
      el.messages.replaceChildren();
      el.messages.setAttribute("aria-busy", conv.ready ? "false" : "true");
      stickToBottom = true;
      el.input.value = drafts.get(id) || "";
      updateCount();
      writeHash(id);
      renderHeader();
      renderMessages();
      renderTyping();
      renderList();
      loadConversation(conv);
      maybeSendRead();
      updateTitleBadge();
    }
    // Not on touch screens, where focusing the reply box pops up the keyboard.
    if (opts.focus && window.matchMedia && window.matchMedia("(pointer: fine)").matches) {
      el.input.focus();
    }
  }

  function closeConversation() {
    typing.stop();
    saveDraft();
    if (recording) {
      cancelVoiceNote();
    }
    saveStaged(openId);
    var previous = openId;
    openId = null;
    writeHash(null);
    renderHeader();
    renderMessages();
    renderTyping();
    renderList();
    var row = previous != null ? rowEls.get(previous) : null;
    if (row && row.isConnected) {
      row.focus();
    }
  }

  function writeHash(id) {
    var url = window.location.pathname + window.location.search + (id == null ? "" : "#thread-" + id);
    try {
      window.history.replaceState(null, "", url);
    } catch (err) {
      /* not important */
    }
  }

  function threadFromHash() {
    var match = /^#thread-(\d+)$/.exec(window.location.hash);
    return match ? Number(match[1]) : null;
  }

  function saveDraft() {
    if (openId == null) {
      return;
    }
    if (el.input.value) {
      drafts.set(openId, el.input.value);
    } else {
      drafts.delete(openId);
    }
  }

  function updateCount() {
    var length = S.bodyLength(el.input.value);
    var near = length > maxBody * 0.8;
    el.count.hidden = !near;
    el.count.textContent = near ? tf("%(count)s / %(max)s", { count: length, max: maxBody }) : "";
    el.count.classList.toggle("over", length > maxBody);
  }

  function sendReply() {
    if (openId == null || el.input.disabled) {
      return;
    }
    var body = el.input.value.trim();
    var files = strip.count();
    if ((!body && !files) || S.bodyLength(body) > maxBody) {
      el.input.focus();
      return;
    }
    typing.sent(); // the message ends the notice (visitor page, other inboxes)
    if (files) {
      sendFiles(openId, strip.take(), body);
    } else {
      var entry = {
        client_id: S.uuid4(),
        thread: openId,
        body: body,
        created: new Date().toISOString(),
        status: "pending",
        error: "",
        code: "",
        attempts: 0,
        attachment: null,
        att: null,
        order: ++nextOrder,
      };
      outbox.push(entry);
      saveOutbox();
      // In order behind any still waiting for room; offline, it waits for the hello.
      flushOutbox();
    }
    el.input.value = "";
    drafts.delete(openId);
    updateCount();
    stickToBottom = true;
    renderMessages();
    el.input.focus();
  }

  // ------------------------------------------------------------------ files
  // A file goes up first (the reply shows at once, "uploading", with a progress bar); once
  // the server has it the reply joins the outbox with the upload's id and is sent like any
  // other. A failed upload queues nothing: Retry uploads again, Remove drops it.
  var strip = new S.PreviewStrip(el.preview, {
    max: MAX_STAGED,
    check: function (file) {
      return S.checkFile(file, uploads);
    },
    onRemove: function () {
      el.input.focus();
    },
  });

  function uploadsEnabled() {
    return !!uploads.url;
  }

  function addFiles(files) {
    if (!uploadsEnabled() || openId == null || recording || el.input.disabled || !files.length) {
      return;
    }
    var errors = strip.add(files);
    if (errors.length) {
      showNotice(errors.join(" "));
    }
  }

  // The files chosen belong to their conversation, like the draft.
  function saveStaged(id) {
    var items = strip.swap([]);
    if (id != null && items.length) {
      stagedByThread.set(id, items);
    } else if (id != null) {
      stagedByThread.delete(id);
    }
  }

  function restoreStaged(id) {
    strip.swap(stagedByThread.get(id) || []);
    stagedByThread.delete(id);
  }

  function sendFiles(threadId, items, caption) {
    var created = new Date().toISOString();
    items.forEach(function (item, i) {
      var u = {
        client_id: S.uuid4(),
        thread: threadId,
        body: i === 0 ? caption : "",
        created: created,
        order: ++nextOrder,
        status: "uploading",
        error: "",
        code: "",
        attempts: 0,
        attachment: null,
        att: null,
        previewUrl: item.url,
        upload: { file: item.file, name: item.name, size: item.size, kind: item.kind, percent: 0, handle: null },
        _el: null,
      };
      uploadsInFlight.push(u);
      startUpload(u);
    });
  }

  function startUpload(u) {
    u.status = "uploading";
    u.error = "";
    u.upload.percent = 0;
    u.upload.handle = S.upload(u.upload.file, {
      settings: uploads,
      fields: { thread: u.thread },
      onProgress: function (percent) {
        u.upload.percent = percent;
        var bar = u._el ? u._el.querySelector(".upload-status") : null;
        if (bar) {
          S.setUploadProgress(bar, percent);
        }
      },
      onDone: function (att) {
        u.upload.handle = null;
        onUploaded(u, att);
      },
      onError: function (detail) {
        u.upload.handle = null;
        u.status = "failed";
        u.error = detail;
        if (u.thread === openId) {
          renderMessages();
        }
        flushOutbox(); // what waited behind it goes now
      },
    });
    if (u.thread === openId) {
      renderMessages();
    }
  }

  // The same object moves into the outbox (its bubble and buttons stay).
  function onUploaded(u, att) {
    var at = uploadsInFlight.indexOf(u);
    if (at < 0) {
      return;
    }
    uploadsInFlight.splice(at, 1);
    u.upload = null;
    u.attachment = att.id;
    u.att = att;
    u.status = "pending";
    var pos = outbox.length;
    for (var i = 0; i < outbox.length; i++) {
      if ((outbox[i].order || 0) > u.order) {
        pos = i;
        break;
      }
    }
    outbox.splice(pos, 0, u);
    saveOutbox();
    flushOutbox();
    if (u.thread === openId) {
      renderMessages();
    }
  }

  function dropUpload(u) {
    var at = uploadsInFlight.indexOf(u);
    if (at < 0) {
      return;
    }
    uploadsInFlight.splice(at, 1);
    if (u.upload && u.upload.handle) {
      u.upload.handle.abort();
    }
    if (u.previewUrl) {
      S.releaseStaged({ url: u.previewUrl });
    }
    if (u.thread === openId) {
      renderMessages();
    }
    flushOutbox();
  }

  function openFilePicker() {
    if (uploadsEnabled() && openId != null) {
      el.fileInput.value = "";
      el.fileInput.click();
    }
  }

  // ------------------------------------------------------------------ voice notes
  function setRecording(on) {
    el.recorder.hidden = !on;
    el.form.hidden = on;
    el.record.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) {
      el.recorderTime.textContent = S.formatDuration(0);
      el.recorderSend.focus();
    }
  }

  function recordingDone() {
    recording = null;
    el.record.disabled = false;
    el.record.removeAttribute("aria-busy");
    setRecording(false);
  }

  function startVoiceNote() {
    if (recording || openId == null || !uploadsEnabled()) {
      return;
    }
    var threadId = openId;
    el.record.disabled = true; // while the browser asks for the microphone
    el.record.setAttribute("aria-busy", "true");
    recording = S.startRecording({
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
        recordingDone();
        el.input.focus();
        var reason = S.checkFile(file, uploads);
        if (reason) {
          showNotice(reason);
          return;
        }
        sendFiles(threadId, [S.stageFile(file)], "");
        stickToBottom = true;
        renderMessages();
      },
      onError: function (message) {
        recordingDone();
        showNotice(message);
      },
    });
  }

  function cancelVoiceNote() {
    var ctl = recording;
    recordingDone();
    if (ctl) {
      ctl.cancel();
    }
    if (openId != null) {
      el.input.focus();
    }
  }

  function finishVoiceNote() {
    if (recording) {
      recording.stop(); // onStop sends it
    }
  }

  function wireFiles() {
    if (!uploadsEnabled()) {
      return;
    }
    el.fileInput.accept = uploads.types.join(",");
    el.attach.hidden = false;
    el.attach.addEventListener("click", openFilePicker);
    el.fileInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(el.fileInput.files || []);
      el.fileInput.value = "";
      addFiles(files);
      el.input.focus();
    });
    S.dropZone(el.conversation, {
      overlay: el.dropOverlay,
      onFiles: addFiles,
      enabled: function () {
        return openId != null && !recording && !el.input.disabled;
      },
    });
    S.pasteFiles(el.input, { onFiles: addFiles });
    el.messages.addEventListener("click", function (event) {
      var cancel = event.target.closest("[data-action='cancel-upload']");
      var node = cancel && cancel.closest(".msg");
      if (!node) {
        return;
      }
      for (var i = 0; i < uploadsInFlight.length; i++) {
        if (uploadsInFlight[i]._el === node) {
          dropUpload(uploadsInFlight[i]);
          el.input.focus();
          return;
        }
      }
    });
    S.bindRecorder(el, {
      start: startVoiceNote,
      cancel: cancelVoiceNote,
      finish: finishVoiceNote,
      abandon: function () {
        if (recording) {
          recording.cancel();
          recording = null;
        }
      },
    });
  }

  function sendTyping() {
    if (openId != null) {
      typing.input(!!el.input.value.trim(), openId);
    }
  }

  function threadAction(type, button) {
    if (openId == null) {
      return;
    }
    if (send({ type: type, thread: openId })) {
      button.disabled = true; // until the thread frame confirms it
      window.setTimeout(function () {
        button.disabled = false;
      }, REQUEST_TIMEOUT_MS);
    } else {
      showNotice(t("You are offline. Try again when the connection is back."));
    }
  }

  function assign() {
    if (openId == null) {
      return;
    }
    var value = el.assign.value;
    var ok = send({ type: "thread.assign", thread: openId, operator: value ? Number(value) : null });
    if (!ok) {
      showNotice(t("You are offline. Try again when the connection is back."));
      renderHeader();
    }
  }

  function setFilter(status) {
    if (status === list.status) {
      return;
    }
    list.status = status;
    Array.prototype.forEach.call(el.filter.querySelectorAll("button[data-status]"), function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.status === status));
    });
    resetList();
  }

  function resetList() {
    list.ids = new Set();
    list.loaded = false;
    list.hasMore = false;
    list.cursor = null;
    renderList();
    requestThreads(true);
  }

  function moveFocusInList(step, edge) {
    var rows = Array.prototype.slice.call(el.list.children);
    if (!rows.length) {
      return;
    }
    var at = rows.indexOf(document.activeElement);
    var next;
    if (edge === "first") {
      next = 0;
    } else if (edge === "last") {
      next = rows.length - 1;
    } else {
      next = Math.min(rows.length - 1, Math.max(0, at + step));
    }
    rows[next].focus();
    updateRovingStop();
  }

  // ------------------------------------------------------------------ wiring
  buildAssignOptions();
  wireFiles();
  el.input.maxLength = maxBody;

  el.filter.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-status]");
    if (button) {
      setFilter(button.dataset.status);
    }
  });

  el.search.addEventListener("input", S.debounce(function () {
    var q = el.search.value.trim();
    if (q !== list.q) {
      list.q = q;
      resetList();
    }
  }, SEARCH_DEBOUNCE_MS));

  el.search.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && el.search.value) {
      el.search.value = "";
      el.search.dispatchEvent(new Event("input"));
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      moveFocusInList(0, "first");
    }
  });

  el.list.addEventListener("focusin", updateRovingStop);

  el.list.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      moveFocusInList(1);
    } else if (event.key === "ArrowUp") {
      moveFocusInList(-1);
    } else if (event.key === "Home") {
      moveFocusInList(0, "first");
    } else if (event.key === "End") {
      moveFocusInList(0, "last");
    } else {
      return;
    }
    event.preventDefault();
  });

  el.loadMore.addEventListener("click", function () {
    requestThreads(false);
  });

  // Scrolling to the end pages on by itself, but only when a person scrolls: a script
  // that scrolls a button into view to click it must not trigger a second load.
  function trackUserScroll(box) {
    var mark = function () {
      box.userScrollAt = Date.now();
    };
    ["wheel", "touchmove", "keydown"].forEach(function (type) {
      box.addEventListener(type, mark, { passive: true });
    });
  }

  function isUserScroll(box) {
    return Date.now() - (box.userScrollAt || 0) < 1500;
  }

  var listBox = el.loadMore.parentNode;
  trackUserScroll(listBox);
  trackUserScroll(el.scroll);

  listBox.addEventListener("scroll", function () {
    if (isUserScroll(listBox) && list.loaded && list.hasMore && !list.inFlight &&
        listBox.scrollHeight - listBox.scrollTop - listBox.clientHeight < 80) {
      requestThreads(false);
    }
  });

  el.loadEarlier.addEventListener("click", function () {
    var conv = openId != null ? convs.get(openId) : null;
    if (conv && conv.ready && conv.list.length) {
      requestHistory(conv, conv.list[0].id);
    }
  });

  el.scroll.addEventListener("scroll", function () {
    stickToBottom = isNearBottom();
    if (stickToBottom) {
      el.jump.hidden = true;
    }
    var conv = openId != null ? convs.get(openId) : null;
    if (isUserScroll(el.scroll) && el.scroll.scrollTop < 40 && conv && conv.ready && conv.hasMoreHistory &&
        !conv.historyInFlight && conv.list.length) {
      requestHistory(conv, conv.list[0].id);
    }
  });

  el.jump.addEventListener("click", scrollToBottom);

  // Images loading and the reply box growing must not push the latest message away.
  S.keepAtEnd(
    el.scroll,
    el.messages,
    function () {
      return stickToBottom && openId != null;
    },
    function () {
      el.scroll.scrollTop = el.scroll.scrollHeight;
    }
  );

  el.form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendReply();
  });

  el.input.addEventListener("keydown", function (event) {
    if (S.isSendKey(event)) {
      event.preventDefault();
      sendReply();
    }
  });

  el.input.addEventListener("input", function () {
    updateCount();
    sendTyping();
  });

  el.input.addEventListener("blur", typing.blur);

  el.close.addEventListener("click", function () {
    threadAction("thread.close", el.close);
  });
  el.reopen.addEventListener("click", function () {
    threadAction("thread.reopen", el.reopen);
  });
  el.assign.addEventListener("change", assign);
  el.back.addEventListener("click", closeConversation);

  el.notify.addEventListener("click", requestNotifications);
  el.notice.querySelector(".inbox-notice-dismiss").addEventListener("click", hideNotice);

  document.addEventListener("visibilitychange", function () {
    updateTitleBadge();
    renderList();
    maybeSendRead();
  });
  window.addEventListener("focus", maybeSendRead);

  window.addEventListener("hashchange", function () {
    var id = threadFromHash();
    if (id != null) {
      openThread(id);
    }
  });

  window.setInterval(refreshTimes, 30000);

  renderNotifyButton();
  renderList();
  renderHeader();
  var initialThread = threadFromHash();
  if (initialThread != null) {
    openThread(initialThread);
  }

  var socket = new S.Socket(config.wsPath || "/ws/operator/", {
    onRoom: flushOutbox,
    onFrame: onFrame,
    onClose: onClose,
    onStateChange: onStateChange,
  });
})(window, document);
