/*
 * Building the page. User data only ever reaches the DOM as text nodes and validated
 * properties: these helpers take text, never markup.
 */
import { formatTime } from "./format.js";

export function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text != null) {
    node.textContent = text;
  }
  return node;
}

// A dialog's "close" event comes a moment after it closed: give the focus back to
// `target` only if it is still nowhere or inside `dialog`, never taking it from
// someone who already went on (typing in the reply box keeps what they type).
export function focusAfterClose(target, dialog) {
  const now = document.activeElement;
  if (!now || now === document.body || dialog.contains(now)) {
    target.focus();
  }
}

export function button(className, text) {
  const node = make("button", className, text);
  node.type = "button";
  return node;
}

// Make parent's children exactly `nodes`, moving only what is out of place: focus,
// selection and what a live region has announced survive.
export function reconcile(parent, nodes) {
  for (let i = 0; i < nodes.length; i++) {
    const current = parent.childNodes[i];
    if (current !== nodes[i]) {
      parent.insertBefore(nodes[i], current || null);
    }
  }
  while (parent.childNodes.length > nodes.length) {
    parent.removeChild(parent.lastChild);
  }
}

// A <time>: its datetime and the clock.
export function setTime(node, iso) {
  node.dateTime = iso || "";
  node.textContent = formatTime(iso);
}

// An absolute http(s) URL (relative to the page), or null.
export function safeHttpUrl(raw) {
  if (typeof raw !== "string" || !raw) {
    return null;
  }
  try {
    const url = new URL(raw, window.location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (err) {
    return null;
  }
}

// Material Design paths (24 x 24), drawn with currentColor.
const ICONS = {
  paperclip: [
    "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5Z",
  ],
  mic: [
    "M12 14c1.66 0 2.99-1.34 2.99-3L15 5c0-1.66-1.34-3-3-3S9 3.34 9 5v6c0 1.66 1.34 3 3 3Zm5.3-3c0 3-2.54 5.1-5.3 5.1S6.7 14 6.7 11H5c0 3.41 2.72 6.23 6 6.72V21h2v-3.28c3.28-.48 6-3.3 6-6.72h-1.7Z",
  ],
  file: [
    "M14 2H6c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6Zm2 16H8v-2h8v2Zm0-4H8v-2h8v2Zm-3-5V3.5L18.5 9H13Z",
  ],
  audio: [
    "M12 3v10.55c-.59-.34-1.27-.55-2-.55-2.21 0-4 1.79-4 4s1.79 4 4 4 4-1.79 4-4V7h4V3h-6Z",
  ],
  image: [
    "M21 19V5c0-1.1-.9-2-2-2H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2ZM8.5 13.5l2.5 3.01L14.5 12l4.5 6H5l3.5-4.5Z",
  ],
  close: [
    "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12Z",
  ],
  download: ["M19 9h-4V3H9v6H5l7 7 7-7ZM5 18v2h14v-2H5Z"],
  broken: [
    "M21 5v6.59l-3-3.01-4 4.01-4-4-4 4-3-3.01V5c0-1.1.9-2 2-2h14c1.1 0 2 .9 2 2Zm-3 6.42 3 3.01V19c0 1.1-.9 2-2 2H5c-1.1 0-2-.9-2-2v-6.58l3 2.99 4-4 4 4 4-3.99Z",
  ],
  upload: [
    "M19.35 10.04C18.67 6.59 15.64 4 12 4 9.11 4 6.6 5.64 5.35 8.04 2.34 8.36 0 10.91 0 14c0 3.31 2.69 6 6 6h13c2.76 0 5-2.24 5-5 0-2.64-2.05-4.78-4.65-4.96ZM14 13v4h-4v-4H7l5-5 5 5h-3Z",
  ],
  send: [
    "M3.4 20.4 21.85 12.5a.55.55 0 0 0 0-1L3.4 3.6a.55.55 0 0 0-.77.63L4.7 11 13 12l-8.3 1-2.07 6.77a.55.55 0 0 0 .77.63Z",
  ],
  trash: ["M6 19c0 1.1.9 2 2 2h8c1.1 0 2-.9 2-2V7H6v12ZM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4Z"],
  clock: [
    "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm.75-13h-1.5v5.6l4.3 2.6.75-1.25-3.55-2.1Z",
  ],
  check: ["M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4Z"],
  "double-check": [
    "M18 7l-1.41-1.41-6.34 6.34 1.41 1.41L18 7Zm4.24-1.41L11.66 16.17 7.48 12l-1.41 1.41L11.66 19l12-12-1.42-1.41ZM.41 13.41 6 19l1.41-1.41L1.83 12 .41 13.41Z",
  ],
  alert: ["M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm1 15h-2v-2h2Zm0-4h-2V7h2Z"],
};

export const SVG_NS = "http://www.w3.org/2000/svg";

// An <svg aria-hidden> icon; `className` null leaves the class out.
export function svgIcon(paths, size, className) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size || 20));
  svg.setAttribute("height", String(size || 20));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  if (className) {
    svg.setAttribute("class", className);
  }
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    p.setAttribute("fill", "currentColor");
    svg.appendChild(p);
  }
  return svg;
}

// paperclip mic file audio image close download broken upload send trash clock check
// double-check alert
export function icon(name, size) {
  return svgIcon(ICONS[name] || ICONS.file, size, "icon icon-" + name);
}

export function iconPaths(name) {
  return ICONS[name] || ICONS.file;
}
