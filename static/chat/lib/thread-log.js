/*
 * The stored messages of one thread as a client holds them: merged by id (the same
 * message may come live, in a sync page, in a history page and as an ack), kept in
 * seq order, with the seq tracker that says what is missing and the state of the
 * requests that fetch it. Pure data, tested in Node; client.js drives it.
 */
import { isInt } from "./util.js";
import { SeqTracker } from "./sequence.js";

const REQUEST_TIMEOUT_MS = 10000;

// How views key a message: its sender's client_id when it has one (the pending
// bubble and the stored message it becomes are one), else its id.
export function viewKey(item) {
  return item.client_id ? item.author + ":" + item.client_id : "#" + item.id;
}

export class ThreadLog {
  constructor(id) {
    this.id = id;
    this.messages = []; // stored, by seq (then id)
    this._byId = new Map();
    this._byClient = new Map(); // viewKey -> message
    this.seq = new SeqTracker();
    this.noEarlier = false; // a history page said there is nothing older
    this.readSent = 0; // the last `read` this client sent for it
    this._asked = { sync: 0, history: 0 }; // when a request went, until its answer
  }

  // A baseline is known: syncs make sense, a seq jump is a gap.
  get ready() {
    return this.seq.known;
  }

  // A `sync` or `history` request is under way (an answer that never came, an error
  // frame instead, stops counting after REQUEST_TIMEOUT_MS: ask again).
  awaiting(kind, now) {
    const at = this._asked[kind];
    return !!at && (now === undefined ? Date.now() : now) - at < REQUEST_TIMEOUT_MS;
  }

  asked(kind, now) {
    this._asked[kind] = now === undefined ? Date.now() : now;
  }

  answered(kind) {
    this._asked[kind] = 0;
  }

  get(id) {
    return this._byId.get(id) || null;
  }

  hasClientKey(key) {
    return this._byClient.has(key);
  }

  /*
   * Add or update one server message ({id, seq, client_id, author, body, ...}).
   * -> {message, isNew}, or null for something that is not a message. A known id
   * takes the new fields: an operator may edit a message's body (docs/protocol.md).
   */
  merge(m) {
    if (!m || !isInt(m.id)) {
      return null;
    }
    let msg = this._byId.get(m.id) || (m.client_id ? this._byClient.get(viewKey(m)) : null);
    const isNew = !msg;
    if (isNew) {
      msg = {};
    }
    msg.id = m.id;
    msg.thread = isInt(m.thread) ? m.thread : this.id;
    msg.seq = isInt(m.seq) ? m.seq : msg.seq || 0;
    msg.client_id = m.client_id || msg.client_id || "";
    msg.author = m.author || msg.author || "system";
    msg.author_name = m.author_name != null ? m.author_name : msg.author_name || "";
    msg.body = m.body != null ? String(m.body) : msg.body || "";
    msg.created = m.created || msg.created || "";
    msg.source = m.source || msg.source || "web";
    msg.edited = m.edited !== undefined ? m.edited : msg.edited || null;
    msg.attachment = m.attachment !== undefined ? m.attachment || null : msg.attachment || null;
    if (m.previewUrl) {
      msg.previewUrl = m.previewUrl;
    }
    if (isNew) {
      this._insert(msg);
    }
    this._byId.set(msg.id, msg);
    if (msg.client_id) {
      this._byClient.set(viewKey(msg), msg);
    }
    this.seq.note(msg.seq);
    return { message: msg, isNew };
  }

  _insert(msg) {
    const list = this.messages;
    let i = list.length;
    while (i > 0 && (list[i - 1].seq > msg.seq || (list[i - 1].seq === msg.seq && list[i - 1].id > msg.id))) {
      i--;
    }
    list.splice(i, 0, msg);
  }

  // The message with the smallest id (history pages back from it).
  oldest() {
    let min = null;
    for (const m of this.messages) {
      if (min === null || m.id < min.id) {
        min = m;
      }
    }
    return min;
  }

  // Older messages exist: the oldest held is not the first, and no history page
  // said otherwise.
  hasEarlier() {
    const min = this.oldest();
    return !this.noEarlier && !!min && min.seq !== 1;
  }

  // The newest message id from `author` (what a `read` covers).
  largestIdBy(author) {
    let max = 0;
    for (const m of this.messages) {
      if (m.author === author && m.id > max) {
        max = m.id;
      }
    }
    return max;
  }

  // Forget everything (the visitor's thread changed under the page).
  clear() {
    this.messages = [];
    this._byId.clear();
    this._byClient.clear();
    this.seq = new SeqTracker();
    this.noEarlier = false;
    this.readSent = 0;
    this._asked = { sync: 0, history: 0 };
  }
}
