/*
 * An operator's view of a message (the inbox's markup, the tests' hooks):
 *   .msg[data-id][data-client-id][data-status] author-visitor | author-operator |
 *   author-system | author-note (a private note, data-id "note-<id>": inbox/notes.js)
 *   > .msg-author, .bubble > (file) .body, .msg-meta > .msg-time,
 *   .msg-source ("via Telegram"), .msg-state, .msg-retry, .msg-discard, .msg-seen,
 *   .msg-emailed (the visitor had not read it: it went to them by email).
 * data-status: uploading | pending | sent | failed. A reply the server could not take
 * yet (unavailable, rate_limited) shows the reason and Retry while the outbox waits
 * to resend it by itself.
 */
import { t, tf } from "../lib/i18n.js";
import { fullDate } from "../lib/format.js";
import { button, make, setTime, svgIcon } from "../lib/dom.js";
import { linkify } from "../lib/linkify.js";
import { updateAttachment } from "../lib/attachments.js";
import { LOCK_ICON } from "./notes.js";

// Ids of replies that went to their visitor by email (the server's "emailed" frames).
export const emailedIds = new Set();

export function statusOf(item) {
  if (item.id != null) {
    return "sent";
  }
  if (item.status === "uploading") {
    return "uploading";
  }
  return item.status === "failed" || item.code ? "failed" : "pending";
}

// actions: {retry(item), discard(item)} (the node's item, found by the page)
export function buildBubble(actions) {
  return (item) => {
    const node = make("div", "msg author-" + item.author);
    node.appendChild(make("div", "msg-author"));
    const bubble = make("div", "bubble");
    if (item.author === "note") {
      bubble.appendChild(svgIcon([LOCK_ICON], 14, "note-lock"));
    }
    bubble.appendChild(make("div", "body"));
    node.appendChild(bubble);
    const meta = make("div", "msg-meta");
    meta.appendChild(make("time", "msg-time"));
    meta.appendChild(make("span", "msg-source"));
    meta.appendChild(make("span", "msg-state"));
    const retry = button("msg-retry", t("Retry"));
    retry.addEventListener("click", () => actions.retry(node));
    meta.appendChild(retry);
    const discard = button("msg-discard", t("Discard"));
    discard.addEventListener("click", () => actions.discard(node));
    meta.appendChild(discard);
    meta.appendChild(make("span", "msg-seen", t("Seen")));
    meta.appendChild(make("span", "msg-emailed", t("Sent by email")));
    node.appendChild(meta);
    return node;
  };
}

const shownBodies = new WeakMap();

/*
 * view: {authorName: the visitor's name for their messages, online: the connection
 * is open (a pending reply says "Sending…", else "Waiting for connection…"),
 * seen: this is the last reply and the visitor has read it}
 */
export function updateBubble(item, node, view) {
  const status = statusOf(item);
  const isNote = item.author === "note"; // its id is a note's, not a message's
  if (item.id != null) {
    node.dataset.id = isNote ? "note-" + item.id : String(item.id);
  } else {
    delete node.dataset.id;
  }
  node.dataset.clientId = item.client_id || "";
  node.dataset.status = status;

  let authorText = "";
  if (item.author === "operator") {
    authorText = item.author_name || view.myName || t("Operator");
  } else if (item.author === "visitor") {
    authorText = item.author_name || view.visitorName;
  } else if (item.author === "note") {
    authorText = tf("Private note · %(name)s", { name: item.author_name || t("Operator") });
  }
  const authorEl = node.querySelector(".msg-author");
  authorEl.textContent = authorText;
  authorEl.hidden = !authorText;

  // An operator may edit a message in Telegram: the same id comes again.
  const body = item.body || "";
  if (shownBodies.get(node) !== body) {
    node.querySelector(".body").replaceChildren(linkify(body));
    shownBodies.set(node, body);
  }
  const bubble = node.querySelector(".bubble");
  updateAttachment(node, bubble, item);

  const time = node.querySelector(".msg-time");
  setTime(time, item.created);
  time.title = fullDate(item.created);
  bubble.title = fullDate(item.created);

  const source = node.querySelector(".msg-source");
  source.textContent = item.source === "telegram" ? t("via Telegram") : "";
  source.hidden = item.source !== "telegram";

  const state = node.querySelector(".msg-state");
  if (status === "uploading") {
    state.textContent = t("Uploading…");
  } else if (status === "pending") {
    state.textContent = view.online ? t("Sending…") : t("Waiting for connection…");
  } else if (status === "failed") {
    state.textContent = tf("Not sent: %(reason)s", { reason: item.error || t("unknown error") });
  } else {
    state.textContent = "";
  }
  state.hidden = status === "sent";
  state.classList.toggle("msg-state-failed", status === "failed");
  node.querySelector(".msg-retry").hidden = status !== "failed";
  const discard = node.querySelector(".msg-discard");
  discard.hidden = status !== "failed";
  const discardText = item.upload ? t("Remove") : t("Discard");
  if (discard.textContent !== discardText) {
    discard.textContent = discardText;
  }
  node.querySelector(".msg-seen").hidden = !view.seen;
  node.querySelector(".msg-emailed").hidden = isNote || !(item.id != null && emailedIds.has(item.id));
}
