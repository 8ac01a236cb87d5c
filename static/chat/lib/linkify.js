/*
 * Message text made safe and clickable. A body is plain text, stored as typed: it
 * reaches the page as text nodes, <br> for its line breaks and <a> for http, https and
 * mailto links (never innerHTML). findLinks() is the pure half, tested in Node.
 */

const LINK_START = /(?:https?:\/\/|mailto:)/gi;
const LINK_TOKEN = /^[^\s<>"\u00a0\u2028\u2029]+/;
const TRAILING = ".,!?;:'\"*\u2019\u201d\u00bb\u2026";
const PAIRS = { ")": "(", "]": "[", "}": "{", ">": "<" };
const ALLOWED_PROTOCOLS = { "http:": true, "https:": true, "mailto:": true };
const LINK_REL = "noopener noreferrer nofollow ugc";

function count(str, ch) {
  let n = 0;
  for (const c of str) {
    if (c === ch) {
      n++;
    }
  }
  return n;
}

// Punctuation that ends a sentence, and an unbalanced closing bracket, are not part
// of the link.
function trimLink(candidate) {
  let s = candidate;
  for (;;) {
    const last = s.charAt(s.length - 1);
    if (TRAILING.indexOf(last) !== -1) {
      s = s.slice(0, -1);
    } else if (PAIRS[last] && count(s, PAIRS[last]) < count(s, last)) {
      s = s.slice(0, -1);
    } else {
      return s;
    }
  }
}

function decodeSafe(s) {
  try {
    return decodeURIComponent(s);
  } catch (err) {
    return s;
  }
}

function safeUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch (err) {
    return null;
  }
  if (!ALLOWED_PROTOCOLS[url.protocol]) {
    return null;
  }
  if (url.protocol === "mailto:") {
    return /^[^@\s/]+@[^@\s/]+$/.test(decodeSafe(url.pathname)) ? url : null;
  }
  return url.hostname ? url : null;
}

// The text cut into pieces: {text} and {text, href} (a link), in order.
export function findLinks(input) {
  const text = input == null ? "" : String(input);
  const pieces = [];
  const start = new RegExp(LINK_START.source, "gi");
  let cursor = 0;
  let match;
  while ((match = start.exec(text)) !== null) {
    const at = match.index;
    // Only at a word boundary: "xhttp://" is not a link.
    if (at > 0 && /[A-Za-z0-9_]/.test(text.charAt(at - 1))) {
      continue;
    }
    const token = LINK_TOKEN.exec(text.slice(at));
    const candidate = token ? trimLink(token[0]) : "";
    const url = candidate.length > match[0].length ? safeUrl(candidate) : null;
    if (!url) {
      start.lastIndex = at + match[0].length;
      continue;
    }
    if (at > cursor) {
      pieces.push({ text: text.slice(cursor, at) });
    }
    pieces.push({ text: candidate, href: url.href });
    cursor = at + candidate.length;
    start.lastIndex = cursor;
  }
  if (cursor < text.length) {
    pieces.push({ text: text.slice(cursor) });
  }
  return pieces;
}

function appendText(fragment, text) {
  const lines = text.split(/\r\n|\r|\n/);
  lines.forEach((line, i) => {
    if (i > 0) {
      fragment.appendChild(document.createElement("br"));
    }
    if (line) {
      fragment.appendChild(document.createTextNode(line));
    }
  });
}

// A DocumentFragment of text nodes, <br> and <a target=_blank> only.
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  for (const piece of findLinks(text)) {
    if (piece.href) {
      const a = document.createElement("a");
      a.href = piece.href;
      a.target = "_blank";
      a.rel = LINK_REL;
      a.textContent = piece.text;
      fragment.appendChild(a);
    } else {
      appendText(fragment, piece.text);
    }
  }
  return fragment;
}
