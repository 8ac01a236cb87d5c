/*
 * What this client has written and the server has not stored yet: the one place of
 * the "nothing lost, nothing twice" promise on the client (docs/protocol.md,
 * "Guarantees"). Every message has a client_id, and the server stores a client_id
 * once per thread and answers a resend with the stored message, so resending is
 * always safe. Entries are kept in storage until acked, leave in the order they were
 * written (per thread: one waiting for its upload or for a retry holds back those
 * after it), at most MAX_IN_FLIGHT unanswered, resent after a reconnect or ACK_TIMEOUT
 * without an answer, and kept on `unavailable` or `rate_limited` (resent after a
 * back-off); only a refusal (invalid, too_long, forbidden, not_found) fails one.
 * Pure apart from its storage and a timer, both given: tested in Node.
 */
import { isInt, uuid4 } from "./util.js";
import { normalizeAttachment } from "./attachments.js";

export const ACK_TIMEOUT_MS = 15000;
const MAX_IN_FLIGHT = 10;
const FINAL_CODES = Object.freeze({ invalid: true, too_long: true, forbidden: true, not_found: true });
const RETRY_FIRST_MS = 3000;
const RETRY_CAP_MS = 30000;

export function isFinalError(code) {
  return !!FINAL_CODES[code];
}

/*
 * An entry: {client_id, thread (null: the visitor's own), body, created, attachment
 * (the upload's id), att (its description), author, order, status: "uploading" |
 * "pending" | "failed", error, code (the last refusal or reason for waiting),
 * attempts, retryAt, sentAt, foreign (queued by another tab), upload?, previewUrl?}
 */
function record(e) {
  return {
    client_id: e.client_id,
    thread: e.thread,
    body: e.body,
    created: e.created,
    queued: e.queued,
    attachment: e.attachment,
    att: e.att,
    failed: e.status === "failed",
    error: e.status === "failed" ? e.error : "",
    code: e.status === "failed" ? e.code : "",
  };
}

function isRecord(e) {
  return !!e && typeof e.client_id === "string" && typeof e.body === "string";
}

/*
 * new Outbox({store, key, shared, author, transmit(entry) -> bool, onChange(thread),
 *             now?, random?, timers?})
 *   store: lib/store.js; shared: other tabs use the same key (the visitor's
 *   localStorage): what one tab queued is left to it for ACK_TIMEOUT_MS.
 *   transmit sends the entry's message.send; false: not now (closed or paced).
 */
export class Outbox {
  constructor(opts) {
    this.store = opts.store;
    this.key = opts.key;
    this.shared = !!opts.shared;
    this.author = opts.author;
    this.transmit = opts.transmit;
    this.onChange = opts.onChange || (() => {});
    this.now = opts.now || Date.now;
    this.random = opts.random || Math.random;
    this.timers = opts.timers || { set: (fn, ms) => setTimeout(fn, ms), clear: (id) => clearTimeout(id) };
    this.entries = []; // in the order written
    this.ready = false; // the connection said hello
    this._order = 0;
    this._retryTimer = null;
    for (const r of this._read()) {
      this._adopt(r, false);
    }
  }

  _read() {
    const box = this.store.get(this.key, []);
    return Array.isArray(box) ? box.filter(isRecord) : [];
  }

  _write(list) {
    if (list.length) {
      this.store.set(this.key, list);
    } else {
      this.store.remove(this.key);
    }
  }

  // Read, change, write: another tab may have written since.
  _persist(change) {
    this._write(change(this._read()));
  }

  _adopt(r, foreign) {
    const entry = {
      client_id: r.client_id,
      thread: isInt(r.thread) ? r.thread : null,
      body: r.body,
      created: typeof r.created === "string" ? r.created : new Date(this.now()).toISOString(),
      queued: typeof r.queued === "string" ? r.queued : null,
      attachment: isInt(r.attachment) ? r.attachment : null,
      att: normalizeAttachment(r.att),
      author: this.author,
      order: ++this._order,
      // Only a refusal stays failed (older pages stored `status`).
      status: (r.failed || r.status === "failed") && (!r.code || isFinalError(r.code)) ? "failed" : "pending",
      error: typeof r.error === "string" ? r.error : "",
      code: typeof r.code === "string" ? r.code : "",
      attempts: 0,
      retryAt: 0,
      sentAt: 0,
      foreign,
      adoptedAt: this.now(),
    };
    if (entry.status !== "failed") {
      entry.error = entry.code = "";
    }
    this.entries.push(entry);
    return entry;
  }

  // What other tabs of this visitor queued since.
  _adoptForeign() {
    const mine = new Set(this.entries.map((e) => e.client_id));
    const added = new Set();
    for (const r of this._read()) {
      if (!mine.has(r.client_id)) {
        added.add(this._adopt(r, true).thread);
      }
    }
    added.forEach((thread) => this.onChange(thread));
  }

  find(clientId) {
    return this.entries.find((e) => e.client_id === clientId) || null;
  }

  // The entries of a thread (null: the visitor's), in order, for the views.
  list(thread) {
    return this.entries.filter((e) => e.thread === thread);
  }

  add(fields) {
    const now = new Date(this.now()).toISOString();
    const entry = this._adopt({
      client_id: fields.client_id || uuid4(),
      thread: fields.thread,
      body: fields.body,
      created: now,
      queued: now,
      attachment: fields.attachment || null,
      att: fields.att || null,
    }, false);
    this._persist((list) => list.concat([record(entry)]));
    this.onChange(entry.thread);
    this.flush();
    return entry;
  }

  // A file's message, uploading: it keeps its place, and is not stored (a file
  // cannot be) until the upload is done.
  addUpload(fields) {
    const entry = this._adopt({
      client_id: fields.client_id,
      thread: fields.thread,
      body: fields.body,
      created: fields.created,
    }, false);
    entry.status = "uploading";
    entry.upload = fields.upload;
    entry.previewUrl = fields.previewUrl || null;
    this.onChange(entry.thread);
    return entry;
  }

  uploading(entry) {
    entry.status = "uploading";
    entry.error = entry.code = "";
    this.onChange(entry.thread);
  }

  uploaded(entry, att) {
    if (!this.entries.includes(entry)) {
      return; // removed meanwhile
    }
    entry.upload = null;
    entry.status = "pending";
    entry.attachment = att.id;
    entry.att = att;
    entry.queued = new Date(this.now()).toISOString();
    // Stored before what was written after it, so that a reload keeps the order.
    const later = new Set(this.entries.filter((e) => e.order > entry.order).map((e) => e.client_id));
    this._persist((list) => {
      const at = list.findIndex((r) => later.has(r.client_id));
      const out = list.slice();
      out.splice(at < 0 ? out.length : at, 0, record(entry));
      return out;
    });
    this.onChange(entry.thread);
    this.flush();
  }

  uploadFailed(entry, detail) {
    if (!this.entries.includes(entry)) {
      return;
    }
    entry.status = "failed";
    entry.error = detail || "";
    entry.code = "upload";
    this.onChange(entry.thread);
    this.flush(); // what waited behind it goes now
  }

  _drop(entry) {
    this.entries = this.entries.filter((e) => e !== entry);
    this._persist((list) => list.filter((r) => r.client_id !== entry.client_id));
  }

  // The server has it (an ack, or the message itself). -> the entry, or null.
  settle(clientId, thread) {
    const entry = this.find(clientId);
    if (!entry || (isInt(thread) && entry.thread !== null && entry.thread !== thread)) {
      return null;
    }
    this._drop(entry);
    this.onChange(entry.thread);
    this.flush();
    return entry;
  }

  // An `error` frame about an entry. -> the entry, or null when it is not ours.
  fail(clientId, code, detail) {
    if (this.shared) {
      this._adoptForeign();
    }
    const entry = this.find(clientId);
    if (!entry || entry.status === "uploading") {
      return null;
    }
    entry.sentAt = 0;
    entry.error = typeof detail === "string" ? detail : "";
    entry.code = typeof code === "string" ? code : "";
    if (isFinalError(entry.code)) {
      entry.status = "failed";
      this._persist((list) => list.map((r) => (r.client_id === clientId ? record(entry) : r)));
    } else {
      entry.attempts++;
      const wait = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * Math.pow(2, entry.attempts - 1) * (1 + this.random()));
      entry.retryAt = this.now() + wait;
      this._scheduleRetry();
    }
    this.onChange(entry.thread);
    this.flush();
    return entry;
  }

  // Send it again now (the person's Retry).
  retry(entry) {
    if (!this.entries.includes(entry) || entry.status === "uploading") {
      return;
    }
    const wasFailed = entry.status === "failed";
    entry.status = "pending";
    entry.error = entry.code = "";
    entry.attempts = 0;
    entry.retryAt = 0;
    if (wasFailed) {
      this._persist((list) => list.map((r) => (r.client_id === entry.client_id ? record(entry) : r)));
    }
    this.onChange(entry.thread);
    this.flush(true);
  }

  // The person's Remove (or Edit): never sent again.
  remove(entry) {
    if (this.entries.includes(entry)) {
      this._drop(entry);
      this.onChange(entry.thread);
      this.flush();
    }
  }

  // The connection said hello: what was unanswered on the last one is sent again.
  open() {
    this.ready = true;
    for (const e of this.entries) {
      e.sentAt = 0;
    }
    this.flush(true);
  }

  closed() {
    this.ready = false;
    for (const e of this.entries) {
      e.sentAt = 0;
    }
  }

  // A flush when the next retry is due (one that cannot go then waits for the
  // connection's room, the periodic flush or the next hello).
  _scheduleRetry() {
    const now = this.now();
    const due = this.entries.filter((e) => e.retryAt > now).map((e) => e.retryAt);
    this.timers.clear(this._retryTimer);
    this._retryTimer = null;
    if (due.length) {
      this._retryTimer = this.timers.set(() => {
        this._retryTimer = null;
        this.flush();
        this._scheduleRetry();
      }, Math.min(...due) - now + 10);
    }
  }

  /*
   * Send what may go now, in order. all: also what another tab queued a moment ago
   * (on connect, when that tab may be gone).
   */
  flush(all) {
    if (!this.ready) {
      return;
    }
    if (this.shared) {
      this._adoptForeign();
    }
    const now = this.now();
    const unanswered = (e) => e.sentAt && now - e.sentAt < ACK_TIMEOUT_MS;
    let inFlight = this.entries.filter(unanswered).length;
    const held = new Set(); // threads behind an upload or a retry
    for (const entry of this.entries) {
      if (inFlight >= MAX_IN_FLIGHT) {
        break;
      }
      if (entry.status === "failed" || held.has(entry.thread)) {
        continue;
      }
      if (entry.status === "uploading" || entry.retryAt > now) {
        held.add(entry.thread);
        continue;
      }
      if (unanswered(entry)) {
        continue;
      }
      const queuedAt = Date.parse(entry.queued || entry.created) || 0;
      if (!all && entry.foreign && now - Math.max(queuedAt, 0) < ACK_TIMEOUT_MS) {
        continue;
      }
      entry.retryAt = 0;
      if (!this.transmit(entry)) {
        break; // paced or closed: the connection says when there is room
      }
      entry.sentAt = now;
      inFlight++;
    }
  }
}
