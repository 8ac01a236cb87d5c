/*
 * What the visitor's page tells the operators of them (docs/protocol.md,
 * `visitor.context`): the page they are on, where they came from, their time zone
 * and language, and the host's custom attributes. Sent after each `hello` (a new
 * socket knows nothing of this page), then at once when it changes; only what
 * changed since the last send. Kept to the server's bounds here (a long URL is cut,
 * a bad attribute left out with a console warning), so that the visitor never sees
 * a refusal meant for the site's developer.
 *
 *   new PageContext(send(frame) -> bool, read() -> {url, title, referrer, timezone,
 *                   language})
 *     .hello()  .closed()  .setContext(partial)  .setAttributes(obj)
 */
const FIELDS = ["url", "title", "referrer", "timezone", "language"];
const MAX = { url: 500, title: 200, referrer: 500, timezone: 64, language: 35 };
const MAX_ATTRIBUTES = 20;
const MAX_VALUE = 200;
const KEY = /^[A-Za-z0-9_.-]{1,40}$/;
const CONTROL = /[\x00-\x1f\x7f]/g; // eslint-disable-line no-control-regex

// The page's own context: the standalone page, or a frame that is not told better.
export function pageContext() {
  let timezone = "";
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (err) {
    /* an old browser: no time zone */
  }
  return {
    url: window.location.href,
    title: document.title.replace(/^\(\d+\) /, ""), // not the unread count (lib/alerts.js)
    referrer: document.referrer,
    timezone,
    language: (navigator.languages && navigator.languages[0]) || navigator.language || "",
  };
}

function cleanField(name, value) {
  if (typeof value !== "string") {
    return null;
  }
  let text = value.replace(CONTROL, " ").trim();
  if (name === "url" || name === "referrer") {
    if (text && !/^https?:\/\//i.test(text)) {
      return null;
    }
  } else if (name === "title") {
    text = text.replace(/\s+/g, " ");
  }
  if (text.length <= MAX[name]) {
    return text;
  }
  return name === "timezone" || name === "language" ? null : text.slice(0, MAX[name]);
}

function cleanValue(value) {
  if (value === null || typeof value === "boolean") {
    return { ok: true, value };
  }
  if (typeof value === "number") {
    return { ok: Number.isFinite(value) && Math.abs(value) <= 2 ** 53, value };
  }
  if (typeof value === "string") {
    return { ok: true, value: value.replace(CONTROL, " ").slice(0, MAX_VALUE) };
  }
  return { ok: false };
}

function warn(text) {
  if (typeof console !== "undefined" && console.warn) {
    console.warn("Sohbet: " + text);
  }
}

export class PageContext {
  constructor(send, read) {
    this._send = send;
    this._read = read;
    this._fields = {};
    this._given = {}; // fields given by setContext: they win over read()
    this._attributes = new Map(); // key -> value, null: to be removed
    this._sent = null; // what this socket was told: {fields, attributes}; null: no socket
  }

  // A new socket: tell it everything.
  hello() {
    this._sent = { fields: {}, attributes: new Map() };
    this._take(this._read() || {});
    this._take(this._given);
    this._flush();
  }

  closed() {
    this._sent = null;
  }

  setContext(partial) {
    Object.assign(this._given, this._take(partial || {}));
    this._flush();
  }

  setAttributes(obj) {
    if (!obj || typeof obj !== "object") {
      return;
    }
    for (const [key, raw] of Object.entries(obj)) {
      const clean = cleanValue(raw);
      if (!KEY.test(key) || !clean.ok) {
        warn(`attribute "${key}" left out: a name is 1-40 letters, digits, _ . -; ` +
          "a value is text, a finite number, true, false or null.");
        continue;
      }
      const kept = [...this._attributes.values()].filter((v) => v !== null).length;
      if (clean.value !== null && !this._attributes.has(key) && kept >= MAX_ATTRIBUTES) {
        warn(`attribute "${key}" left out: at most ${MAX_ATTRIBUTES} attributes.`);
        continue;
      }
      this._attributes.set(key, clean.value);
    }
    this._flush();
  }

  // -> the fields taken
  _take(partial) {
    const taken = {};
    for (const name of FIELDS) {
      if (name in partial) {
        const value = cleanField(name, partial[name]);
        if (value !== null) {
          this._fields[name] = taken[name] = value;
        }
      }
    }
    return taken;
  }

  // What changed since this socket was told, in frames of at most MAX_ATTRIBUTES
  // attributes each (removals not yet told may come on top of a full set).
  _flush() {
    const sent = this._sent;
    while (sent) {
      const frame = { type: "visitor.context" };
      let changed = false;
      for (const name of FIELDS) {
        const value = this._fields[name];
        if (value !== undefined && value !== sent.fields[name]) {
          frame[name] = value;
          changed = true;
        }
      }
      const attributes = {};
      let count = 0;
      for (const [key, value] of this._attributes) {
        // A null is a removal not told yet (one told is forgotten).
        if (count < MAX_ATTRIBUTES && (value === null || sent.attributes.get(key) !== value)) {
          attributes[key] = value;
          count += 1;
        }
      }
      if (count) {
        frame.attributes = attributes;
        changed = true;
      }
      if (!changed || !this._send(frame)) {
        return; // nothing new, or not sent: the next hello tells it all
      }
      Object.assign(sent.fields, this._fields);
      for (const [key, value] of Object.entries(attributes)) {
        if (value === null) {
          this._attributes.delete(key);
          sent.attributes.delete(key);
        } else {
          sent.attributes.set(key, value);
        }
      }
    }
  }
}
