/*
 * A message's file as the pages show it: a picture (opens the viewer), a player with
 * its length, or a download row; "File unavailable" when it cannot be loaded. Also
 * the file of a message still uploading (its local copy and a progress bar), so that
 * a bubble looks the same before and after the server has the file.
 */
import { t, tf } from "./i18n.js";
import { isInt } from "./util.js";
import { formatDuration, formatPercent, formatSize } from "./format.js";
import { button, icon, make, safeHttpUrl } from "./dom.js";
import { openViewer } from "./viewer.js";

// The widget's frame (no cookies) shows its visitor's files with a grant in their URLs.
let mediaGrant = "";
export function setMediaGrant(grant) {
  mediaGrant = typeof grant === "string" ? grant : "";
}

function granted(url) {
  if (!mediaGrant || url.charAt(0) !== "/" || url.charAt(1) === "/") {
    return url; // a file of another origin (Cloudinary) needs none
  }
  return url + (url.indexOf("?") < 0 ? "?" : "&") + "g=" + encodeURIComponent(mediaGrant);
}

// The server's description of a file, checked: {id, kind, url, name, size,
// content_type, width?, height?, duration?}; null when it is not one.
export function normalizeAttachment(obj) {
  if (!obj || typeof obj !== "object" || !isInt(obj.id)) {
    return null;
  }
  const att = {
    id: obj.id,
    kind: obj.kind === "image" || obj.kind === "audio" ? obj.kind : "file",
    url: typeof obj.url === "string" ? granted(obj.url) : "",
    name: typeof obj.name === "string" ? obj.name : "",
    size: isInt(obj.size) && obj.size >= 0 ? obj.size : 0,
    content_type: typeof obj.content_type === "string" ? obj.content_type : "",
  };
  if (isInt(obj.width) && obj.width > 0 && isInt(obj.height) && obj.height > 0) {
    att.width = obj.width;
    att.height = obj.height;
  }
  if (typeof obj.duration === "number" && Number.isFinite(obj.duration) && obj.duration >= 0) {
    att.duration = obj.duration;
  }
  return att;
}

export function attachmentName(att) {
  return att && typeof att.name === "string" && att.name ? att.name : t("Attachment");
}

// One line for previews and notifications: "Photo", "Voice message" or the file name.
export function attachmentSummary(att) {
  if (!att) {
    return "";
  }
  if (att.kind === "image") {
    return t("Photo");
  }
  if (att.kind === "audio") {
    return t("Voice message");
  }
  return attachmentName(att);
}

function localUrl(raw) {
  return typeof raw === "string" && /^blob:/.test(raw) ? raw : null;
}

function showMissing(box) {
  if (box.classList.contains("attachment-missing")) {
    return;
  }
  box.classList.add("attachment-missing");
  box.textContent = "";
  box.appendChild(icon("broken", 20));
  box.appendChild(make("span", "attachment-missing-text", t("File unavailable")));
}

// Chrome does not know the length of a recorded WebM until it has read it to the end.
function learnDuration(audio, onKnown) {
  const report = () => {
    if (Number.isFinite(audio.duration) && audio.duration > 0) {
      onKnown(audio.duration);
    }
  };
  audio.addEventListener("durationchange", report);
  audio.addEventListener("loadedmetadata", () => {
    if (audio.duration !== Infinity) {
      report();
      return;
    }
    const back = () => {
      audio.removeEventListener("timeupdate", back);
      try {
        audio.currentTime = 0;
      } catch (err) {
        /* ignore */
      }
      report();
    };
    audio.addEventListener("timeupdate", back);
    try {
      audio.currentTime = 1e101;
    } catch (err) {
      audio.removeEventListener("timeupdate", back);
    }
  });
}

function renderFile(box, url, name, size, local) {
  const row = url ? make("a", "attachment-link") : make("span", "attachment-link");
  if (url) {
    row.href = url;
    row.download = name;
    row.rel = "noopener";
    row.title = name;
  } else if (!local) {
    showMissing(box);
    return box;
  }
  const glyph = make("span", "attachment-icon");
  glyph.appendChild(icon("file", 22));
  row.appendChild(glyph);
  const text = make("span", "attachment-text");
  text.appendChild(make("span", "attachment-name", name));
  if (size) {
    text.appendChild(make("span", "attachment-size", size));
  }
  row.appendChild(text);
  if (url) {
    const dl = make("span", "attachment-download");
    dl.appendChild(icon("download", 20));
    row.appendChild(dl);
  }
  box.appendChild(row);
  return box;
}

function renderImage(box, att, url, name, opts) {
  const src = localUrl(opts.previewUrl) || url;
  const img = make("img");
  img.src = src;
  img.alt = name;
  img.loading = "lazy";
  img.decoding = "async";
  if (isInt(att.width) && isInt(att.height) && att.width > 0 && att.height > 0) {
    img.width = att.width;
    img.height = att.height;
  }
  img.addEventListener("error", () => showMissing(box));
  const open = make("a", "attachment-open");
  open.href = url;
  open.title = t("Open image");
  open.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window, as the person asked
    }
    event.preventDefault();
    openViewer({ url, src, name, local: !!opts.local }, open);
  });
  open.appendChild(img);
  box.appendChild(open);
  return box;
}

function renderAudio(box, att, url, name) {
  const audio = make("audio");
  audio.controls = true;
  audio.preload = "metadata";
  audio.src = url;
  audio.setAttribute("aria-label", name);
  audio.addEventListener("error", () => showMissing(box));
  box.appendChild(audio);
  // The length, from the server, until the player knows it and shows it itself.
  const duration = make("span", "attachment-duration");
  duration.setAttribute("aria-hidden", "true");
  if (typeof att.duration === "number" && att.duration > 0) {
    duration.textContent = formatDuration(att.duration);
  }
  learnDuration(audio, (seconds) => {
    duration.textContent = formatDuration(seconds);
    box.classList.add("duration-known");
  });
  box.appendChild(duration);
  return box;
}

/*
 * <div class="attachment attachment-KIND" data-attachment-kind=KIND>
 * opts: {previewUrl: an object URL shown instead of the image while it is ours,
 *        local: att.url is an object URL of a file not uploaded yet (no link)}
 */
export function renderAttachment(att, opts) {
  const o = opts || {};
  const a = att || {};
  const kind = a.kind === "image" || a.kind === "audio" ? a.kind : "file";
  const box = make("div", "attachment attachment-" + kind);
  box.setAttribute("data-attachment-kind", kind);
  const name = attachmentName(a);
  const url = o.local ? localUrl(a.url) : safeHttpUrl(a.url);
  if (kind === "file") {
    return renderFile(box, url, name, formatSize(a.size), o.local);
  }
  if (!url) {
    showMissing(box);
    return box;
  }
  return kind === "image" ? renderImage(box, a, url, name, o) : renderAudio(box, a, url, name);
}

// A progress row for a message whose file is uploading: <progress class=
// "upload-progress">, the percentage and a cancel button ([data-action=cancel-upload]).
export function uploadProgress(name) {
  const box = make("div", "upload-status");
  const bar = make("progress", "upload-progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", "0");
  bar.setAttribute("aria-label", tf("Uploading %(name)s", { name: name || t("Attachment") }));
  box.appendChild(bar);
  const label = make("span", "upload-percent");
  label.setAttribute("aria-hidden", "true");
  box.appendChild(label);
  const cancel = button("upload-cancel");
  cancel.setAttribute("data-action", "cancel-upload");
  cancel.setAttribute("aria-label", t("Cancel upload"));
  cancel.title = t("Cancel upload");
  cancel.appendChild(icon("close", 16));
  box.appendChild(cancel);
  setUploadProgress(box, 0);
  return box;
}

export function setUploadProgress(box, percent) {
  const n = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
  const bar = box.querySelector(".upload-progress");
  if (bar.value !== n) {
    bar.value = n;
  }
  bar.setAttribute("aria-valuenow", String(n));
  // At 100 % the server is still checking (and re-encoding) the file.
  const text = n >= 100 ? t("Processing…") : formatPercent(n);
  bar.setAttribute("aria-valuetext", text);
  const label = box.querySelector(".upload-percent");
  if (label.textContent !== text) {
    label.textContent = text;
  }
}

// What a message shows of its file: the server's attachment, or while the file is
// still ours (uploading, or refused) the file itself. An outbox entry has the
// upload's id in `attachment` and its description in `att`.
export function attachmentOf(item) {
  if (item.upload) {
    const up = item.upload;
    return {
      key: "local:" + item.client_id,
      att: { kind: up.kind, name: up.name, size: up.size, url: item.previewUrl },
      local: true,
    };
  }
  const a = item.attachment && typeof item.attachment === "object" ? item.attachment : item.att;
  return a ? { key: "a:" + a.id + ":" + a.url, att: a, local: false } : null;
}

const shownKeys = new WeakMap(); // bubble -> the attachmentOf key it shows

// Bring a bubble's file (and its upload progress) in line with the item; both go
// before the bubble's .body. Sets data-attachment-kind on `node`.
export function updateAttachment(node, bubble, item) {
  const shown = attachmentOf(item);
  const key = shown ? shown.key : null;
  const body = bubble.querySelector(".body");
  if (shownKeys.get(bubble) !== key) {
    const old = bubble.querySelector(".attachment");
    const fresh = shown
      ? renderAttachment(shown.att, { local: shown.local, previewUrl: item.previewUrl })
      : null;
    if (old && fresh) {
      bubble.replaceChild(fresh, old);
    } else if (old) {
      old.remove();
    } else if (fresh) {
      bubble.insertBefore(fresh, body);
    }
    shownKeys.set(bubble, key);
  }
  const kind = shown ? (shown.att.kind === "image" || shown.att.kind === "audio" ? shown.att.kind : "file") : null;
  if (kind) {
    node.setAttribute("data-attachment-kind", kind);
  } else {
    node.removeAttribute("data-attachment-kind");
  }
  bubble.classList.toggle("media-only", kind === "image" && !item.body);
  bubble.classList.toggle("has-attachment", !!kind);

  let progress = bubble.querySelector(".upload-status");
  if (item.upload && item.status === "uploading") {
    if (!progress) {
      progress = uploadProgress(item.upload.name);
      bubble.insertBefore(progress, body);
    }
    setUploadProgress(progress, item.upload.percent);
  } else if (progress) {
    progress.remove();
  }
}
