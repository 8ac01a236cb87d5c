/*
 * How times, days, sizes and durations are said, in the page's language (<html lang>)
 * and through the catalog. One wording for both pages and the widget.
 */
import { locale, t, tf } from "./i18n.js";
import { isInt } from "./util.js";

function toDate(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  return isNaN(d.getTime()) ? null : d;
}

// Milliseconds since the epoch; 0 for a missing or bad date.
export function ms(iso) {
  const n = iso ? Date.parse(iso) : NaN;
  return isNaN(n) ? 0 : n;
}

export function formatTime(iso) {
  const d = toDate(iso);
  if (!d) {
    return "";
  }
  try {
    return d.toLocaleTimeString(locale(), { hour: "numeric", minute: "2-digit" });
  } catch (err) {
    return d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }
}

function keyOfDate(d) {
  return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
}

// "YYYY-M-D" of the local day; a message without a usable date belongs to today.
export function dayKey(iso) {
  return keyOfDate((iso ? toDate(iso) : null) || new Date());
}

export function isSameDay(a, b) {
  const da = toDate(a);
  const db = toDate(b);
  return !!(da && db && keyOfDate(da) === keyOfDate(db));
}

function yesterday(now) {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
}

// "Today", "Yesterday" or the date (with the year when it is not this one).
export function formatDay(iso) {
  const d = toDate(iso);
  if (!d) {
    return "";
  }
  const now = new Date();
  if (keyOfDate(d) === keyOfDate(now)) {
    return t("Today");
  }
  if (keyOfDate(d) === keyOfDate(yesterday(now))) {
    return t("Yesterday");
  }
  const opts = { weekday: "long", day: "numeric", month: "long" };
  if (d.getFullYear() !== now.getFullYear()) {
    opts.year = "numeric";
  }
  try {
    return d.toLocaleDateString(locale(), opts);
  } catch (err) {
    return d.toLocaleDateString([], opts);
  }
}

// The day of a "YYYY-M-D" key, said as formatDay says it.
export function formatDayKey(key) {
  const parts = key.split("-").map(Number);
  return formatDay(new Date(parts[0], parts[1] - 1, parts[2], 12).toISOString());
}

// A list's time: "now", "5 min", the clock today, "Yesterday", the weekday this
// week, else the date.
export function shortTime(iso) {
  const when = ms(iso);
  if (!when) {
    return "";
  }
  const diff = Date.now() - when;
  if (diff < 60000) {
    return t("now");
  }
  if (diff < 3600000) {
    return tf("%(minutes)s min", { minutes: Math.floor(diff / 60000) });
  }
  const d = new Date(when);
  const now = new Date();
  if (isSameDay(iso, now)) {
    return formatTime(iso);
  }
  if (isSameDay(iso, yesterday(now))) {
    return t("Yesterday");
  }
  try {
    if (diff < 6 * 86400000) {
      return d.toLocaleDateString(locale(), { weekday: "short" });
    }
    const opts = { day: "numeric", month: "short" };
    if (d.getFullYear() !== now.getFullYear()) {
      opts.year = "numeric";
    }
    return d.toLocaleDateString(locale(), opts);
  } catch (err) {
    return d.toLocaleDateString();
  }
}

// Date and time in full (tooltips).
export function fullDate(iso) {
  const when = ms(iso);
  return when ? new Date(when).toLocaleString(locale()) : "";
}

// "mm:ss", "h:mm:ss" from an hour.
export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = (m < 10 ? "0" : "") + m;
  const ss = (s < 10 ? "0" : "") + s;
  return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
}

// "" unless a whole number of bytes > 0; "%(size)s B" / "KB" / "MB", translated.
export function formatSize(bytes) {
  if (!isInt(bytes) || bytes <= 0) {
    return "";
  }
  if (bytes < 1024) {
    return tf("%(size)s B", { size: bytes });
  }
  if (bytes < 1024 * 1024) {
    return tf("%(size)s KB", { size: Math.round(bytes / 1024) });
  }
  return tf("%(size)s MB", { size: (bytes / (1024 * 1024)).toFixed(1) });
}

export function formatPercent(n) {
  try {
    return new Intl.NumberFormat(locale(), { style: "percent" }).format(n / 100);
  } catch (err) {
    return n + "%";
  }
}
