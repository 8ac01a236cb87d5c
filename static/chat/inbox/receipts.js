/*
 * The operator's receipts to the visitor (docs/protocol.md): `delivered` once the inbox
 * has their messages (their second tick, at most once a second per thread), `read`
 * for what the open conversation shows while the operator looks at it.
 */

const DELIVERED_DEBOUNCE_MS = 1000;

export class Receipts {
  constructor(client) {
    this.client = client;
    this._max = new Map(); // thread -> the newest visitor message id received
    this._sent = new Map(); // thread -> the newest `delivered` sent
    this._timers = new Map();
  }

  delivered(thread, messageId) {
    if (messageId <= (this._max.get(thread) || 0)) {
      return;
    }
    this._max.set(thread, messageId);
    if (!this._timers.has(thread)) {
      this._timers.set(thread, setTimeout(() => {
        this._timers.delete(thread);
        this._sendDelivered(thread);
      }, DELIVERED_DEBOUNCE_MS));
    }
  }

  // After a reconnect: what could not go before.
  resend() {
    this._max.forEach((upTo, thread) => this._sendDelivered(thread));
  }

  _sendDelivered(thread) {
    const upTo = this._max.get(thread) || 0;
    if (upTo > (this._sent.get(thread) || 0) && this.client.send({ type: "delivered", up_to: upTo }, thread)) {
      this._sent.set(thread, upTo);
    }
  }

  // The open thread is on screen (and the page seen): `read` up to its newest
  // visitor message, and its unread count goes. -> whether the count changed.
  read(threadId, th) {
    if (threadId == null) {
      return false;
    }
    const log = this.client.log(threadId);
    if (!log.ready) {
      return false;
    }
    this.client.markRead(log);
    if (th && th.unread) {
      th.unread = 0;
      return true;
    }
    return false;
  }
}
