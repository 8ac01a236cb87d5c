/*
 * A visitor's view of a message (the conversation's markup, the tests' hooks):
 *   .message[data-id][data-client-id][data-seq][data-status] author-visitor |
 *   author-operator | author-system > .bubble > .author, (file), .body, .meta > time,
 *   .tick (the visitor's own: a clock, one check, two, two on a disc when read);
 *   .message-error under one not sent, with Retry/Edit and Remove.
 * data-status: uploading | pending | sent | delivered | read | failed.
 */
import { t } from "../lib/i18n.js";
import { button, iconPaths, make, setTime, SVG_NS, svgIcon } from "../lib/dom.js";
import { linkify } from "../lib/linkify.js";
import { updateAttachment } from "../lib/attachments.js";

const TICKS = {
  pending: ["clock", () => t("Sending")],
  uploading: ["clock", () => t("Uploading")],
  sent: ["check", () => t("Sent")],
  delivered: ["double-check", () => t("Delivered")],
  read: [null, () => t("Read")],
  failed: ["alert", () => t("Not sent")],
};

// marks: {read, delivered}, the newest message ids the operators have read / received.
export function statusOf(item, marks) {
  if (item.author !== "visitor") {
    return "sent";
  }
  if (item.status === "uploading" || item.status === "failed") {
    return item.status;
  }
  if (item.id == null) {
    return "pending";
  }
  if (item.id <= marks.read) {
    return "read";
  }
  return item.id <= marks.delivered ? "delivered" : "sent";
}

// "Read" differs from "Delivered" in shape, not in hue alone: the double check on a
// filled disc (the check drawn in the bubble's colour, .tick-mark).
function readTick(size) {
  const svg = svgIcon([], size, null);
  const disc = document.createElementNS(SVG_NS, "circle");
  disc.setAttribute("cx", "12");
  disc.setAttribute("cy", "12");
  disc.setAttribute("r", "12");
  disc.setAttribute("fill", "currentColor");
  svg.appendChild(disc);
  const mark = document.createElementNS(SVG_NS, "path");
  mark.setAttribute("d", iconPaths("double-check")[0]);
  mark.setAttribute("class", "tick-mark");
  mark.setAttribute("transform", "translate(4 4.4) scale(0.66)");
  svg.appendChild(mark);
  return svg;
}

function tickFor(status) {
  const [name, label] = TICKS[status] || TICKS.failed;
  const span = make("span", "tick tick-" + status);
  span.setAttribute("role", "img");
  span.setAttribute("aria-label", label());
  span.title = label();
  const size = status === "delivered" ? 18 : 15;
  span.appendChild(name ? svgIcon(iconPaths(name), size, null) : readTick(16));
  return span;
}

// What went wrong and what can be done: a file that did not upload can be tried
// again, a text edited; either removed.
function buildFailure(item, text) {
  const box = make("div", "message-error");
  box.setAttribute("role", "alert");
  box.appendChild(make("span", "message-error-text", text));
  if (item.upload) {
    const again = button("link-button", t("Retry"));
    again.setAttribute("data-action", "retry");
    box.appendChild(again);
  } else if (!item.attachment) {
    const edit = button("link-button", t("Edit"));
    edit.setAttribute("data-action", "edit");
    box.appendChild(edit);
  }
  const remove = button("link-button", t("Remove"));
  remove.setAttribute("data-action", "remove");
  box.appendChild(remove);
  return box;
}

const shown = new WeakMap(); // node -> what it shows: {body, status, created, name, error}

export function buildBubble() {
  const node = make("div");
  const bubble = make("div", "bubble");
  node.appendChild(bubble);
  bubble.appendChild(make("span", "author"));
  bubble.appendChild(make("div", "body"));
  const meta = make("div", "meta");
  meta.appendChild(make("time"));
  bubble.appendChild(meta);
  shown.set(node, {});
  return node;
}

export function updateBubble(item, node, marks) {
  const status = statusOf(item, marks);
  const r = shown.get(node);
  node.classList.remove("author-visitor", "author-operator", "author-system");
  node.classList.add("message", "author-" + item.author);
  node.setAttribute("data-id", item.id != null ? String(item.id) : "");
  node.setAttribute("data-client-id", item.client_id || "");
  node.setAttribute("data-seq", item.seq ? String(item.seq) : "");
  node.setAttribute("data-status", status);

  const bubble = node.firstChild;
  let name = "";
  if (item.author === "visitor") {
    name = t("You");
  } else if (item.author === "operator") {
    name = item.author_name || t("Operator");
  }
  if (r.name !== name) {
    bubble.querySelector(".author").textContent = name;
    r.name = name;
  }
  if (r.body !== item.body) {
    bubble.querySelector(".body").replaceChildren(linkify(item.body));
    r.body = item.body;
  }
  updateAttachment(node, bubble, item);
  if (r.created !== item.created) {
    setTime(bubble.querySelector("time"), item.created);
    r.created = item.created;
  }
  if (item.author === "visitor" && r.status !== status) {
    const meta = bubble.querySelector(".meta");
    const old = meta.querySelector(".tick");
    const tick = tickFor(status);
    if (old) {
      meta.replaceChild(tick, old);
    } else {
      meta.appendChild(tick);
    }
    r.status = status;
  }
  const errorText = status === "failed" ? item.error || t("This message could not be sent.") : null;
  const errorKey = errorText === null ? null : (item.upload ? "upload:" : "send:") + errorText;
  if (r.error !== errorKey) {
    const existing = node.querySelector(".message-error");
    if (existing) {
      existing.remove();
    }
    if (errorText) {
      node.appendChild(buildFailure(item, errorText));
    }
    r.error = errorKey;
  }
}
