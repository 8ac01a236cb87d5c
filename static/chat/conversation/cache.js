/*
 * The visitor's conversation kept in localStorage, so that a reload (or another tab)
 * shows it at once and syncs only what is new: "<prefix>messages" (the latest
 * CACHE_LIMIT stored messages, the ticks' marks), written lazily, and
 * "<prefix>lastSeq" ({thread, seq}), written at once: the cache is never trusted
 * beyond it. The unsent messages are the outbox's ("<prefix>outbox"); the prefix is
 * "sohbet." on the chat page.
 */
import { isInt } from "../lib/util.js";

const CACHE_LIMIT = 200;

export class VisitorCache {
  constructor(store, prefix) {
    this.store = store;
    this.keyMessages = prefix + "messages";
    this.keyLastSeq = prefix + "lastSeq";
  }

  // Fills the log; -> the marks {read, delivered} it had.
  load(log) {
    const cache = this.store.get(this.keyMessages, null);
    const marks = { read: 0, delivered: 0 };
    if (cache && isInt(cache.thread) && Array.isArray(cache.messages)) {
      log.id = cache.thread;
      marks.read = isInt(cache.read) ? cache.read : 0;
      marks.delivered = isInt(cache.delivered) ? cache.delivered : 0;
      log.readSent = isInt(cache.readSent) ? cache.readSent : 0;
      cache.messages.forEach((m) => log.merge(m));
      if (log.messages.length) {
        // The cache may start mid-thread: its run starts at its first seq.
        log.seq.start(Math.min(...log.messages.map((m) => m.seq || 1)) - 1);
      }
    }
    const saved = this.store.get(this.keyLastSeq, null);
    if (saved && isInt(saved.seq) && saved.thread === log.id && log.id !== null) {
      log.seq.limit(saved.seq);
    }
    return marks;
  }

  saveLastSeq(log) {
    if (log.id !== null) {
      this.store.set(this.keyLastSeq, { thread: log.id, seq: log.seq.last });
    }
  }

  save(log, marks) {
    if (log.id === null) {
      return;
    }
    const messages = log.messages.slice(-CACHE_LIMIT).map((m) => ({
      id: m.id,
      thread: log.id,
      seq: m.seq,
      client_id: m.client_id,
      author: m.author,
      author_name: m.author_name,
      body: m.body,
      created: m.created,
      attachment: m.attachment,
    }));
    this.store.set(this.keyMessages, {
      thread: log.id,
      messages,
      read: marks.read,
      delivered: marks.delivered,
      readSent: log.readSent,
    });
  }

  clear() {
    this.store.remove(this.keyMessages);
    this.store.remove(this.keyLastSeq);
  }
}
