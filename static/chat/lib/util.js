/*
 * Small helpers every module needs: whole numbers, ids, timers, the page's
 * configuration, the body length the server counts. No DOM beyond reading.
 */

// A finite whole number (not a numeric string).
export function isInt(n) {
  return typeof n === "number" && Number.isFinite(n) && Math.floor(n) === n;
}

export function uuid4() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") {
    return c.randomUUID();
  }
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < 16; i++) {
      bytes[i] = Math.floor(Math.random() * 256);
    }
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
  return [
    hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20),
  ].join("-");
}

// run() calls fn() `wait` ms after the last call; run.cancel() forgets it.
export function debounce(fn, wait) {
  let timer = null;
  const run = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, wait);
  };
  run.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return run;
}

// The first run() calls fn() `wait` ms later; the calls in between fold into it.
export function coalesce(fn, wait) {
  let timer = null;
  return () => {
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, wait);
    }
  };
}

// A message body's length as the server counts it: code points, surrounding white
// space left out.
export function bodyLength(text) {
  const str = String(text == null ? "" : text).trim();
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) {
      n++; // a high surrogate and its low one count once
    }
  }
  return n;
}

// The person is looking at the page: visible and focused (a `read` may go).
export function isPageActive() {
  return document.visibilityState === "visible" && document.hasFocus();
}

// Enter without Shift, outside an input method's composition.
export function isSendKey(event) {
  return event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229;
}

// The JSON of <script type="application/json" id=id> (Django's json_script); {} when
// absent or unreadable.
export function readConfig(id) {
  const node = document.getElementById(id);
  if (!node) {
    return {};
  }
  try {
    return JSON.parse(node.textContent) || {};
  } catch (err) {
    return {};
  }
}
