/*
 * Sending files (docs/protocol.md, "Attachments"): the checks made before a file
 * leaves (type by content family, size), the upload itself (multipart POST with the
 * CSRF token, progress, the server's translated refusal), and the Uploader, which
 * puts a file's message in the outbox at once, "uploading", so that it keeps its
 * place: it is sent once the server has the file, and what was written after it
 * waits for it (outbox.js).
 */
import { t, tf } from "./i18n.js";
import { isInt, uuid4 } from "./util.js";
import { formatSize } from "./format.js";
import { normalizeAttachment } from "./attachments.js";

const DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024;
export const DEFAULT_UPLOAD_TYPES = Object.freeze([
  "image/jpeg", "image/png", "image/gif", "image/webp",
  "audio/ogg", "audio/webm", "audio/mp4", "audio/mpeg", "audio/wav",
  "video/webm", "application/pdf",
]);
// What browsers and operating systems call the same types.
const TYPE_ALIASES = {
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/mp3": "audio/mpeg",
  "audio/x-mpeg": "audio/mpeg",
  "audio/x-m4a": "audio/mp4",
  "audio/m4a": "audio/mp4",
  "audio/opus": "audio/ogg",
  "application/x-pdf": "application/pdf",
};
// Only for files the browser gives no type (some systems, some pickers).
const EXTENSION_TYPES = {
  jpg: "image/jpeg", jpeg: "image/jpeg", jfif: "image/jpeg", png: "image/png",
  gif: "image/gif", webp: "image/webp", ogg: "audio/ogg", oga: "audio/ogg",
  opus: "audio/ogg", weba: "audio/webm", webm: "audio/webm", m4a: "audio/mp4",
  mp3: "audio/mpeg", wav: "audio/wav", pdf: "application/pdf",
};

export function baseType(type) {
  const base = String(type || "").split(";")[0].trim().toLowerCase();
  return TYPE_ALIASES[base] || base;
}

export function fileType(file) {
  const type = baseType(file && file.type);
  if (type && type !== "application/octet-stream") {
    return type;
  }
  const match = /\.([A-Za-z0-9]+)$/.exec((file && file.name) || "");
  return match ? EXTENSION_TYPES[match[1].toLowerCase()] || type : type;
}

export function kindOf(type) {
  const base = baseType(type);
  if (/^image\//.test(base)) {
    return "image";
  }
  if (/^audio\//.test(base) || base === "video/webm") {
    return "audio";
  }
  return "file";
}

// hello.limits.max_upload / upload_types win over the page's configuration.
export function applyUploadLimits(settings, limits) {
  if (!limits) {
    return settings;
  }
  if (isInt(limits.max_upload) && limits.max_upload > 0) {
    settings.maxUpload = limits.max_upload;
  }
  if (Array.isArray(limits.upload_types)) {
    const types = limits.upload_types.filter((x) => typeof x === "string" && x).map(baseType);
    if (types.length) {
      settings.types = types;
    }
  }
  return settings;
}

// From the page's configuration {uploadUrl, csrfCookieName, maxUpload, uploadTypes};
// url null: this server takes no files.
export function uploadSettings(config) {
  const c = config || {};
  const settings = {
    url: typeof c.uploadUrl === "string" && c.uploadUrl ? c.uploadUrl : null,
    // () -> the widget's visitor token (sent instead of cookies), or none.
    token: typeof c.token === "function" ? c.token : null,
    csrfCookieName:
      typeof c.csrfCookieName === "string" && c.csrfCookieName ? c.csrfCookieName : "csrftoken",
    maxUpload: DEFAULT_MAX_UPLOAD,
    types: DEFAULT_UPLOAD_TYPES.slice(),
  };
  return applyUploadLimits(settings, { max_upload: c.maxUpload, upload_types: c.uploadTypes });
}

function readCookie(name) {
  for (const part of String(document.cookie || "").split(";")) {
    const pair = part.replace(/^\s+/, "");
    if (pair.slice(0, name.length + 1) === name + "=") {
      try {
        return decodeURIComponent(pair.slice(name.length + 1));
      } catch (err) {
        return pair.slice(name.length + 1);
      }
    }
  }
  return "";
}

// The CSRF cookie, or the token of a {% csrf_token %} on the page (HttpOnly cookie).
export function csrfToken(cookieName) {
  const token = readCookie(cookieName || "csrftoken");
  if (token) {
    return token;
  }
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : "";
}

// null, or why this file cannot be sent (translated).
export function checkFile(file, settings) {
  if (!file || typeof file.size !== "number") {
    return t("This file could not be read.");
  }
  const name = file.name || t("Attachment");
  const type = fileType(file);
  if (!type || settings.types.indexOf(type) === -1) {
    return tf(
      "“%(name)s” cannot be sent: only images (JPEG, PNG, GIF, WebP), audio and PDF files are accepted.",
      { name }
    );
  }
  if (file.size > settings.maxUpload) {
    const size = formatSize(file.size);
    const max = formatSize(settings.maxUpload);
    if (size === max) {
      return tf("“%(name)s” is too large. The limit is %(max)s.", { name, max });
    }
    return tf("“%(name)s” is too large (%(size)s). The limit is %(max)s.", { name, size, max });
  }
  if (file.size === 0) {
    return tf("“%(name)s” is empty.", { name });
  }
  return null;
}

function uploadErrorFor(status, body, settings) {
  const err = body && body.error;
  if (err && typeof err.detail === "string" && err.detail) {
    return { detail: err.detail, code: typeof err.code === "string" ? err.code : "invalid" };
  }
  if (status === 413) {
    const max = formatSize(settings.maxUpload);
    return { detail: tf("This file is too large. The limit is %(max)s.", { max }), code: "too_large" };
  }
  if (status === 415) {
    return { detail: t("This type of file cannot be sent."), code: "unsupported_type" };
  }
  if (status === 429) {
    return {
      detail: t("Too many uploads. Please wait a moment and try again."),
      code: "rate_limited",
    };
  }
  if (status === 401 || status === 403) {
    return {
      detail: t("Your session has expired. Reload the page and try again."),
      code: "forbidden",
    };
  }
  return { detail: t("The file could not be uploaded. Please try again."), code: "error" };
}

/*
 * upload(file, {settings, fields?, onProgress(percent), onDone(att), onError(detail,
 * code)}) -> {abort()}: one XMLHttpRequest (fetch reports no upload progress).
 */
export function upload(file, opts) {
  const settings = opts.settings;
  const xhr = new XMLHttpRequest();
  let finished = false;
  const finish = (fn, a, b) => {
    if (!finished) {
      finished = true;
      if (typeof fn === "function") {
        fn(a, b);
      }
    }
  };
  const fail = (detail, code) => finish(opts.onError, detail, code);
  const form = new FormData();
  form.append("file", file, file.name || "file");
  const fields = opts.fields || {};
  for (const key of Object.keys(fields)) {
    form.append(key, String(fields[key]));
  }
  xhr.open("POST", settings.url, true);
  xhr.withCredentials = true;
  const visitor = settings.token ? settings.token() : null;
  const token = visitor ? null : csrfToken(settings.csrfCookieName);
  if (visitor) {
    xhr.setRequestHeader("X-Sohbet-Visitor", visitor);
  } else if (token) {
    xhr.setRequestHeader("X-CSRFToken", token);
  }
  xhr.setRequestHeader("Accept", "application/json");
  // Upload listeners must be in place before send().
  xhr.upload.addEventListener("progress", (event) => {
    if (!finished && event.lengthComputable && event.total > 0 && opts.onProgress) {
      opts.onProgress(Math.min(100, Math.floor((event.loaded * 100) / event.total)));
    }
  });
  xhr.addEventListener("load", () => {
    let body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (err) {
      body = null;
    }
    if (xhr.status === 200 || xhr.status === 201) {
      const att = normalizeAttachment(body);
      if (att) {
        finish(opts.onDone, att);
      } else {
        fail(t("The file could not be uploaded. Please try again."), "error");
      }
      return;
    }
    const error = uploadErrorFor(xhr.status, body, settings);
    fail(error.detail, error.code);
  });
  const networkError = () => fail(t("The upload failed. Check your connection and try again."), "network");
  xhr.addEventListener("error", networkError);
  xhr.addEventListener("timeout", networkError);
  xhr.addEventListener("abort", () => {
    finished = true;
  });
  if (opts.onProgress) {
    opts.onProgress(0);
  }
  try {
    xhr.send(form);
  } catch (err) {
    setTimeout(() => fail(t("The file could not be uploaded. Please try again."), "error"), 0);
  }
  return {
    abort() {
      if (!finished) {
        finished = true;
        try {
          xhr.abort();
        } catch (err) {
          /* already done */
        }
      }
    },
  };
}

/*
 * new Uploader({outbox, settings, fieldsFor(thread) -> {}, onProgress(entry)})
 *   .send(thread, stagedItems, caption)  one message per file, the caption on the first
 *   .start(entry)  upload again (Retry)   .drop(entry)  cancel or remove
 */
export class Uploader {
  constructor(opts) {
    this.outbox = opts.outbox;
    this.settings = opts.settings;
    this.fieldsFor = opts.fieldsFor || (() => ({}));
    this.onProgress = opts.onProgress || (() => {});
  }

  enabled() {
    return !!this.settings.url;
  }

  send(thread, items, caption) {
    const created = new Date().toISOString();
    items.forEach((item, i) => {
      const entry = this.outbox.addUpload({
        client_id: uuid4(),
        thread,
        body: i === 0 ? caption : "",
        created,
        previewUrl: item.url,
        upload: { file: item.file, name: item.name, size: item.size, kind: item.kind, percent: 0 },
      });
      this.start(entry);
    });
  }

  start(entry) {
    const up = entry.upload;
    if (!up) {
      return;
    }
    up.percent = 0;
    this.outbox.uploading(entry);
    up.handle = upload(up.file, {
      settings: this.settings,
      fields: this.fieldsFor(entry.thread),
      onProgress: (percent) => {
        up.percent = percent;
        this.onProgress(entry);
      },
      onDone: (att) => {
        up.handle = null;
        this.outbox.uploaded(entry, att);
      },
      onError: (detail) => {
        up.handle = null;
        this.outbox.uploadFailed(entry, detail);
      },
    });
  }

  drop(entry) {
    if (entry.upload && entry.upload.handle) {
      entry.upload.handle.abort();
    }
    if (entry.previewUrl) {
      try {
        URL.revokeObjectURL(entry.previewUrl);
      } catch (err) {
        /* ignore */
      }
      entry.previewUrl = null;
    }
    this.outbox.remove(entry);
  }
}
