/*
 * One row of the inbox's list: the visitor's name and initial, the time, the last
 * message in one line (who wrote it, a file's kind), the unread count, presence, the
 * status and the assignee, how long the visitor has waited for an answer, and the
 * labels. A <button>; its name is its text (WCAG 2.5.3).
 */
import { t, tf } from "../lib/i18n.js";
import { fullDate, ms, shortTime } from "../lib/format.js";
import { icon, make } from "../lib/dom.js";
import { attachmentSummary } from "../lib/attachments.js";

const LATE_MINUTES = 5; // a wait this long is marked

// How long a visitor has waited since their unanswered message (th.waiting_since).
export function waitingText(since, now) {
  const minutes = Math.max(0, Math.floor(((now || Date.now()) - ms(since)) / 60000));
  if (minutes < 1) {
    return t("waiting less than a minute");
  }
  if (minutes < 60) {
    return tf("waiting %(minutes)s min", { minutes });
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return tf("waiting %(hours)s h %(minutes)s min", { hours, minutes: minutes % 60 });
  }
  return tf("waiting %(days)s d", { days: Math.floor(hours / 24) });
}

export function updateWaiting(row, th) {
  const box = row.querySelector(".thread-waiting");
  const waiting = th.status === "open" && !!th.waiting_since;
  box.hidden = !waiting;
  box.textContent = waiting ? waitingText(th.waiting_since) : "";
  box.dateTime = waiting ? th.waiting_since : "";
  box.classList.toggle("is-late", waiting && Date.now() - ms(th.waiting_since) >= LATE_MINUTES * 60000);
}

// A file's kind in a row: an icon (emoji need a font the system may lack), said as a word.
const KIND_ICONS = { image: "image", audio: "mic", file: "file" };

export function threadName(th, id) {
  if (th && th.visitor_name) {
    return th.visitor_name;
  }
  if (th && th.visitor_id != null) {
    return tf("Visitor #%(id)s", { id: th.visitor_id });
  }
  return tf("Conversation #%(id)s", { id });
}

function oneLine(text) {
  return String(text || "").replace(/\s+/g, " ").trim();
}

// A message in one line (notifications): a file says what it is.
export function previewText(m) {
  if (!m) {
    return "";
  }
  const body = oneLine(m.body);
  if (m.attachment) {
    const sign = m.attachment.kind === "image" ? "📷 " : m.attachment.kind === "audio" ? "🎤 " : "📎 ";
    return sign + (body || attachmentSummary(m.attachment));
  }
  return body;
}

export function buildRow(id, onOpen) {
  const row = make("button", "thread-row");
  row.type = "button";
  row.dataset.threadId = String(id);
  const avatar = make("span", "thread-avatar");
  avatar.setAttribute("aria-hidden", "true");
  avatar.appendChild(make("span", "thread-initial"));
  const line = make("span", "thread-preview-line");
  line.appendChild(make("span", "preview-author"));
  line.appendChild(make("span", "preview-kind"));
  line.appendChild(make("span", "preview"));
  const meta = make("span", "thread-meta");
  meta.appendChild(make("span", "status-pill"));
  meta.appendChild(make("span", "thread-assignee"));
  meta.appendChild(make("time", "thread-waiting"));
  meta.appendChild(make("span", "thread-labels"));
  row.appendChild(avatar);
  row.appendChild(make("span", "thread-name"));
  // Said, not shown: the avatar's dot is decoration.
  row.appendChild(make("span", "visually-hidden thread-online", t("online")));
  row.appendChild(make("time", "thread-time"));
  row.appendChild(line);
  row.appendChild(make("span", "unread-badge", "0"));
  row.appendChild(meta);
  row.addEventListener("click", onOpen);
  return row;
}

// view: {me: {id, name}, unread: the count to show, current: the open thread,
//        chips(box, labelIds): the labels}
export function updateRow(row, th, view) {
  const me = view.me;
  const unread = view.unread;
  const name = threadName(th, th.id);
  const m = th.last_message;
  row.querySelector(".thread-initial").textContent = name.trim().charAt(0) || "#";
  row.querySelector(".thread-name").textContent = name;
  const time = row.querySelector(".thread-time");
  time.textContent = shortTime(th.updated);
  time.dateTime = th.updated || "";
  time.title = fullDate(th.updated);
  let author = "";
  if (m && m.author === "operator") {
    author = m.author_name && m.author_name !== me.name ? tf("%(name)s:", { name: m.author_name }) : t("You:");
  }
  const authorEl = row.querySelector(".preview-author");
  authorEl.textContent = author;
  authorEl.hidden = !author;
  updateKind(row.querySelector(".preview-kind"), m);
  row.querySelector(".preview").textContent = m && m.attachment
    ? oneLine(m.body) || attachmentSummary(m.attachment)
    : previewText(m);
  const badge = row.querySelector(".unread-badge");
  badge.textContent = String(unread);
  badge.hidden = unread === 0;
  badge.setAttribute("aria-label", tf("%(count)s unread", { count: unread }));
  row.classList.toggle("has-unread", unread > 0);
  const avatar = row.querySelector(".thread-avatar");
  const dot = avatar.querySelector(".online-dot");
  if (th.visitor_online && !dot) {
    avatar.appendChild(make("span", "online-dot"));
  } else if (!th.visitor_online && dot) {
    dot.remove();
  }
  row.querySelector(".thread-online").hidden = !th.visitor_online;
  const pill = row.querySelector(".status-pill");
  pill.dataset.status = th.status || "";
  pill.textContent = th.status === "closed" ? t("Closed") : t("Open");
  const assignee = th.assigned_to;
  row.querySelector(".thread-assignee").textContent = assignee
    ? (assignee.id === me.id ? t("Assigned to you") : tf("Assigned to %(name)s", { name: assignee.name || "" }))
    : t("Unassigned");
  updateWaiting(row, th);
  if (view.chips) {
    view.chips(row.querySelector(".thread-labels"), th.labels);
  }
  // The row's name is its text (what is seen is what is said: WCAG 2.5.3).
  if (view.current) {
    row.setAttribute("aria-current", "true");
  } else {
    row.removeAttribute("aria-current");
  }
}

function updateKind(box, m) {
  let kind = m && m.attachment ? m.attachment.kind : null;
  kind = KIND_ICONS[kind] ? kind : m && m.attachment ? "file" : null;
  if (box.dataset.kind === (kind || "")) {
    return;
  }
  box.dataset.kind = kind || "";
  box.textContent = "";
  box.hidden = !kind;
  if (kind) {
    box.appendChild(icon(KIND_ICONS[kind], 14));
    const word = kind === "image" ? t("Photo") : kind === "audio" ? t("Voice message") : t("File");
    box.appendChild(make("span", "visually-hidden", word + ":"));
  }
}

