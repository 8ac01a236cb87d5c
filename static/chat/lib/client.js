/*
 * The delivery protocol of docs/protocol.md in one place, for every page: the
 * connection, the outbox, a ThreadLog per thread, and the frames that move messages
 * (hello, ack, message(s), sync, history, error about a message). A page (or the
 * widget) builds one ChatClient for its role, asks it to load the threads it shows,
 * and renders what it reports; every other frame is handed to the page as it comes.
 *
 * new ChatClient({path, role: "visitor" | "operator", token?, httpPath?,
 *                 uploads (uploader.js settings),
 *                 outbox: {store, key, shared}, on: {hello, frame, messages, outbox,
 *                 error, state(state, retryAt), close, request, progress}, connect?,
 *                 token? (() -> the widget's visitor token, instead of cookies)})
 *   connect(handlers) -> a connection (connection.js's by default; tests give a fake).
 *   token, httpPath: for connection.js (the widget's visitor token; the HTTP fallback).
 *   on.messages(items, kind, info): items [{log, message, isNew}] (log null: a thread
 *     not loaded, message as it came); kind live | sync | history | ack.
 *   on.outbox(thread): that thread's unsent messages changed (client.pending(log)).
 */
import { isInt } from "./util.js";
import { Connection } from "./connection.js";
import { ACK_TIMEOUT_MS, Outbox } from "./outbox.js";
import { ThreadLog, viewKey } from "./thread-log.js";
import { applyUploadLimits, Uploader } from "./uploader.js";

const HISTORY_PAGE = 50;
// Longest sync answer (docs/protocol.md): a thread up to this long is read from its
// start; a longer one from its latest history page.
export const SYNC_PAGE = 200;

function noop() {}

export class ChatClient {
  constructor(opts) {
    this.role = opts.role;
    this.author = opts.role === "operator" ? "operator" : "visitor";
    this.other = opts.role === "operator" ? "visitor" : "operator";
    this.name = ""; // the operator's own name, on their messages before the server's
    this.on = Object.assign({
      hello: noop, frame: noop, messages: noop, outbox: noop, error: noop,
      state: noop, close: noop, request: noop, progress: noop,
    }, opts.on);
    this.maxBody = 4000;
    this.uploads = opts.uploads;
    this.logs = new Map(); // thread id -> ThreadLog (the visitor: its one, `own`)
    this.own = this.role === "visitor" ? new ThreadLog(null) : null;
    this.ready = false; // hello received on the current connection
    this.outbox = new Outbox(Object.assign({}, opts.outbox, {
      author: this.author,
      transmit: (entry) => this._transmit(entry),
      onChange: (thread) => this.on.outbox(thread),
    }));
    this.uploader = new Uploader({
      outbox: this.outbox,
      settings: this.uploads,
      fieldsFor: (thread) => (this.role === "operator" ? { thread } : {}),
      onProgress: (entry) => this.on.progress(entry),
    });
    const connect = opts.connect
      || ((handlers) => new Connection(opts.path, handlers, { token: opts.token, httpPath: opts.httpPath }));
    this.connection = connect({
      onFrame: (frame) => this._frame(frame),
      onClose: (code) => this._closed(code),
      onStateChange: (state) => this.on.state(state, this.connection ? this.connection.retryAt : 0),
      onRoom: () => this.outbox.flush(),
    });
    // Resends what was never answered, and what a closed tab left behind.
    this._tick = setInterval(() => this.outbox.flush(), ACK_TIMEOUT_MS / 3);
  }

  // Close for good (a widget's panel unmounted, a test done).
  stop() {
    clearInterval(this._tick);
    this.connection.close();
  }

  get state() {
    return this.connection.state;
  }

  // The log of a thread (an operator's, created on first use).
  log(threadId) {
    if (this.own) {
      return this.own;
    }
    let log = this.logs.get(threadId);
    if (!log) {
      log = new ThreadLog(threadId);
      this.logs.set(threadId, log);
    }
    return log;
  }

  // The log a frame about `threadId` belongs to, or null (not loaded; another thread).
  _logFor(threadId) {
    if (this.own) {
      const id = this.own.id;
      return id === null || !isInt(threadId) || threadId === id ? this.own : null;
    }
    return this.logs.get(threadId) || null;
  }

  // A frame (about a thread: an operator's carry its id, a visitor's never do).
  send(frame, threadId) {
    if (this.role === "operator" && isInt(threadId)) {
      frame.thread = threadId;
    }
    return this.connection.send(frame);
  }

  _transmit(entry) {
    const frame = {
      type: "message.send",
      client_id: entry.client_id,
      body: entry.body,
      attachment: entry.attachment || null,
    };
    if (this.role === "operator") {
      frame.thread = entry.thread;
    }
    return this.connection.send(frame);
  }

  // ------------------------------------------------------------ writing
  // A message from the composer: queued, then sent in order (thread null: the
  // visitor's own).
  post(thread, body) {
    return this.outbox.add({ thread: this.own ? null : thread, body });
  }

  sendFiles(thread, items, caption) {
    this.uploader.send(this.own ? null : thread, items, caption);
  }

  // Unsent messages of a thread, in order; one the log already holds is settled.
  pending(log) {
    const thread = this.own ? null : log.id;
    return this.outbox.list(thread).filter((entry) => {
      entry.author_name = this.name;
      if (log.hasClientKey(viewKey(entry))) {
        queueMicrotask(() => this.outbox.settle(entry.client_id, log.id));
        return false;
      }
      return true;
    });
  }

  // ------------------------------------------------------------ reading
  // Fetch what this client does not hold of a thread: a sync from the last seq held,
  // or first the latest page (serverLastSeq, when known, says whether a sync from the
  // start is short enough).
  load(log, serverLastSeq) {
    if (log.ready) {
      this.sync(log);
    } else if (isInt(serverLastSeq) && serverLastSeq <= SYNC_PAGE) {
      log.seq.start(0);
      this.sync(log);
    } else {
      this._history(log, null);
    }
  }

  sync(log) {
    if (!log.ready || log.awaiting("sync") || !this.ready) {
      return;
    }
    if (this.send({ type: "sync", after: log.seq.last }, log.id)) {
      log.asked("sync");
      this.on.request(log, "sync");
    }
  }

  // The page before the oldest message held ("Load earlier").
  loadEarlier(log) {
    const oldest = log.oldest();
    if (log.ready && oldest && log.hasEarlier()) {
      this._history(log, oldest.id);
    }
  }

  _history(log, before) {
    if (log.awaiting("history") || !this.ready) {
      return;
    }
    if (this.send({ type: "history", before, limit: HISTORY_PAGE }, log.id)) {
      log.asked("history");
      this.on.request(log, "history");
    }
  }

  // `read` up to the newest message of the other side, once each.
  markRead(log) {
    const upTo = log.largestIdBy(this.other);
    if (upTo > log.readSent && this.ready && this.send({ type: "read", up_to: upTo }, log.id)) {
      log.readSent = upTo;
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------ frames
  _frame(frame) {
    switch (frame.type) {
      case "hello":
        this._hello(frame);
        break;
      case "ack":
        this._ack(frame);
        break;
      case "message":
        this._live([frame.message]);
        break;
      case "messages":
        this._live(Array.isArray(frame.messages) ? frame.messages : []);
        break;
      case "sync":
      case "history":
        this._page(frame);
        break;
      case "error":
        this._error(frame);
        break;
      default:
        this.on.frame(frame);
    }
  }

  _resetRequests() {
    const logs = this.own ? [this.own] : Array.from(this.logs.values());
    for (const log of logs) {
      log.answered("sync");
      log.answered("history");
    }
  }

  _hello(frame) {
    const limits = frame.limits || {};
    if (isInt(limits.max_body) && limits.max_body > 0) {
      this.maxBody = limits.max_body;
    }
    applyUploadLimits(this.uploads, frame.limits);
    this.ready = true;
    this._resetRequests();
    this.on.hello(frame);
    this.outbox.open();
  }

  _closed(code) {
    this.ready = false;
    this.outbox.closed();
    this._resetRequests();
    this.on.close(code);
  }

  _settle(m, threadId) {
    return m.author === this.author && m.client_id ? this.outbox.settle(m.client_id, threadId) : null;
  }

  _merge(log, m) {
    const entry = this._settle(m, log.id);
    const res = log.merge(entry && entry.previewUrl ? Object.assign({ previewUrl: entry.previewUrl }, m) : m);
    return res ? { log, message: res.message, isNew: res.isNew } : null;
  }

  _ack(frame) {
    if (!frame.client_id || !isInt(frame.id)) {
      return;
    }
    const entry = this.outbox.find(frame.client_id);
    const threadId = isInt(frame.thread) ? frame.thread : entry ? entry.thread : null;
    const log = this._logFor(threadId);
    const settled = this.outbox.settle(frame.client_id, threadId);
    const items = [];
    if (settled && !(log && log.get(frame.id))) {
      // Ours, before the server's own message frame (which may never come).
      const m = {
        id: frame.id,
        thread: log ? log.id : threadId,
        seq: frame.seq,
        client_id: frame.client_id,
        author: this.author,
        author_name: this.name,
        body: settled.body,
        created: frame.created || settled.created,
        source: "web",
        edited: null,
        attachment: settled.att || null,
        previewUrl: settled.previewUrl || null,
      };
      const res = log ? log.merge(m) : null;
      items.push(res ? { log, message: res.message, isNew: res.isNew } : { log: null, message: m, isNew: null });
    }
    if (log && (log.seq.hasGap() || (!settled && log.seq.isBeyond(frame.seq)))) {
      this.sync(log); // something came before ours that this page has not seen
    }
    if (items.length) {
      this.on.messages(items, "ack", {});
    }
  }

  _live(messages) {
    const items = [];
    const touched = new Set();
    for (const m of messages) {
      if (!m || !isInt(m.id)) {
        continue;
      }
      const log = this._logFor(m.thread);
      if (!log) {
        this._settle(m, m.thread); // ours, on a thread this page does not hold
        if (!this.own) {
          items.push({ log: null, message: m, isNew: null });
        }
        continue;
      }
      const item = this._merge(log, m);
      if (item) {
        items.push(item);
        touched.add(log);
      }
    }
    touched.forEach((log) => {
      if (log.seq.hasGap()) {
        this.sync(log); // a seq jumped: fetch what live delivery dropped
      }
    });
    if (items.length) {
      this.on.messages(items, "live", {});
    }
  }

  _page(frame) {
    const log = this._logFor(frame.thread);
    if (!log) {
      return;
    }
    const kind = frame.type;
    log.answered(kind);
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    const initial = kind === "history" && !log.ready;
    const lastBefore = log.seq.last;
    const items = messages.map((m) => this._merge(log, m)).filter(Boolean);
    if (kind === "history" && (!frame.has_more || !messages.length)) {
      log.noEarlier = true;
    }
    if (initial) {
      log.seq.start(Math.max(0, ...items.map((i) => i.message.seq)));
    }
    let more = false;
    if (kind === "sync" && frame.has_more && messages.length) {
      // Page on from the last seq received, even if an earlier one is still missing.
      log.seq.skipTo(Math.max(...items.map((i) => i.message.seq)));
      more = true;
    } else if (log.seq.hasGap()) {
      if (kind === "sync" && log.seq.last === lastBefore) {
        log.seq.skipTo(log.seq.newest()); // nothing in between on the server
      } else {
        more = true;
      }
    }
    this.on.messages(items, kind, { log, initial, more });
    if (more) {
      this.sync(log);
    }
  }

  _error(frame) {
    if (frame.client_id) {
      const entry = this.outbox.fail(frame.client_id, frame.code, frame.detail);
      if (entry) {
        return;
      }
    }
    this.on.error(frame);
  }
}
