/*
 * The HTTP fallback (docs/protocol.md, "HTTP fallback"), for networks that break
 * WebSockets: an object that behaves as the WebSocket connection.js holds
 * (readyState, send, close, onopen, onmessage, onclose). The server's frames come
 * down one streaming POST as Server-Sent Events (read with fetch, so that a header
 * can carry the widget's token); the page's go up in numbered POSTs, one at a time,
 * so that they are handled in order, and a retried one once.
 *
 *   new HttpSocket(base, {token, fetch?, retryMs?})   base: "/http/chat/" (then
 *     base + "stream", base + "frames"); fetch and retryMs: tests' seams
 */

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
const ABNORMAL = 1006;
const POST_RETRIES = 3;
const POST_RETRY_MS = 1000;
// No open event by then: something on the way holds the stream back.
const OPEN_TIMEOUT_MS = 15000;

// One Server-Sent Event block ("event: x\ndata: ...") as {name, data}, or null (a
// comment: the padding, a keep-alive).
export function parseEvent(block) {
  let name = "";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (field === "event") {
      name = value;
    } else if (field === "data") {
      data.push(value);
    }
  }
  return data.length ? { name, data: data.join("\n") } : null;
}

// The frames of one POST: at most `maxFrames`, and `maxBytes` (at least one).
export function takeBatch(queue, maxFrames, maxBytes) {
  const encoder = new TextEncoder();
  const batch = [];
  let bytes = 0;
  while (queue.length && batch.length < maxFrames) {
    const size = encoder.encode(queue[0]).length + 1;
    if (batch.length && bytes + size > maxBytes) {
      break;
    }
    batch.push(queue.shift());
    bytes += size;
  }
  return batch;
}

export class HttpSocket {
  constructor(base, options) {
    const opts = options || {};
    this.base = base;
    this.readyState = CONNECTING;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._headers = opts.token ? { "X-Sohbet-Visitor": opts.token } : {};
    this._fetch = opts.fetch || ((url, init) => fetch(url, init));
    this._retryMs = typeof opts.retryMs === "number" ? opts.retryMs : POST_RETRY_MS;
    this._abort = new AbortController();
    this._stream = "";
    this._limits = { max_frames: 20, max_bytes: 65536 };
    this._queue = []; // frames not yet posted, in order
    this._posting = false;
    this._posts = 0;
    this._openTimer = setTimeout(() => this._end(ABNORMAL), OPEN_TIMEOUT_MS);
    this._read().catch(() => this._end(ABNORMAL));
  }

  async _read() {
    const response = await this._fetch(this.base + "stream", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: this._headers,
      signal: this._abort.signal,
    });
    if (!response.ok || !response.body) {
      this._end(response.status === 403 ? 4403 : ABNORMAL);
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.readyState === CLOSED) {
        break;
      }
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const found = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (found) {
          this._event(found);
        }
      }
    }
    this._end(ABNORMAL); // the response ended without a close event
  }

  _event(found) {
    if (this.readyState === CLOSED) {
      return;
    }
    if (found.name === "open") {
      const opened = JSON.parse(found.data);
      this._stream = String(opened.stream || "");
      this._limits = {
        max_frames: Math.max(1, opened.max_frames | 0) || 1,
        max_bytes: Math.max(1, opened.max_bytes | 0) || 1,
      };
      clearTimeout(this._openTimer);
      this.readyState = OPEN;
      this._fire("onopen", {});
    } else if (found.name === "close") {
      let code = ABNORMAL;
      try {
        code = JSON.parse(found.data).code | 0 || ABNORMAL;
      } catch (err) {
        /* keep 1006 */
      }
      this._end(code);
    } else if (this.readyState === OPEN) {
      this._fire("onmessage", { data: found.data });
    }
  }

  _fire(name, event) {
    const fn = this[name];
    if (typeof fn === "function") {
      fn(event);
    }
  }

  _end(code) {
    if (this.readyState === CLOSED) {
      return;
    }
    this.readyState = CLOSED;
    clearTimeout(this._openTimer);
    this._queue = [];
    this._abort.abort();
    this._fire("onclose", { code });
  }

  // As WebSocket.send: throws unless open.
  send(text) {
    if (this.readyState !== OPEN) {
      throw new Error("HttpSocket is not open");
    }
    this._queue.push(String(text));
    if (!this._posting) {
      this._posting = true;
      queueMicrotask(() => this._post()); // frames of the same turn go together
    }
  }

  async _post() {
    while (this._queue.length && this.readyState === OPEN) {
      const batch = takeBatch(this._queue, this._limits.max_frames, this._limits.max_bytes);
      const number = ++this._posts;
      if (!(await this._deliver(batch, number))) {
        this._end(ABNORMAL);
        break;
      }
    }
    this._posting = false;
  }

  // POST one batch as post `number`, again (the same number) after a network error.
  async _deliver(batch, number) {
    for (let attempt = 0; attempt <= POST_RETRIES; attempt++) {
      if (attempt) {
        await new Promise((resolve) => setTimeout(resolve, this._retryMs * attempt));
      }
      if (this.readyState !== OPEN) {
        return false;
      }
      let response;
      try {
        response = await this._fetch(this.base + "frames", {
          method: "POST",
          credentials: "same-origin",
          cache: "no-store",
          headers: Object.assign({
            "Content-Type": "text/plain;charset=UTF-8",
            "X-Sohbet-Stream": this._stream,
            "X-Sohbet-Post": String(number),
          }, this._headers),
          body: batch.join("\n"),
          signal: this._abort.signal,
        });
      } catch (err) {
        continue; // the network: try again
      }
      if (response.ok) {
        return true;
      }
      if (response.status < 500) {
        return false; // the stream is gone (404) or the request refused: start over
      }
    }
    return false;
  }

  close() {
    this._end(1000);
  }
}
