/*
 * Who is there, on the visitor's page (#availability): "An operator is online" when
 * the team is open and an operator who is not away is online; else, outside the
 * hours, when the team is back ("Back on Monday at 09:00", in the page's language
 * and the visitor's own time zone) and how fast it typically replies
 * (#availability-text's data-reply-time, from the admin's appearance), or that
 * reply time alone ("We will reply soon" without one).
 *
 *   new Availability(el).update({online, hours}): either or both, from `hello`,
 *     `presence` and `hours` frames; hours: null (not used: always open) or the
 *     next open intervals, [[openIso, closeIso], ...] (docs/protocol.md). The line
 *     changes by itself when the hours open or close.
 */
import { t, tf } from "../lib/i18n.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const RECHECK_MS = 60 * 60 * 1000; // timers are not exact over days (sleep)

// Whether the hours are open at `now`, when they change next, when they open next.
export function hoursAt(hours, now) {
  if (!Array.isArray(hours)) {
    return { open: true, change: null, opens: null };
  }
  for (const pair of hours) {
    const start = Date.parse(pair[0]);
    const end = Date.parse(pair[1]);
    if (!(end > now)) {
      continue;
    }
    return start <= now ? { open: true, change: end, opens: null }
      : { open: false, change: start, opens: start };
  }
  return { open: false, change: null, opens: null };
}

function startOfDay(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// "Back today at 09:00", "Back tomorrow at…", "Back on Monday at…", "Back on 4 January at…".
export function backText(opens, now, lang) {
  const time = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .format(opens);
  const days = Math.round((startOfDay(opens) - startOfDay(now)) / DAY_MS);
  if (days <= 0) {
    return tf("Back today at %(time)s", { time });
  }
  if (days === 1) {
    return tf("Back tomorrow at %(time)s", { time });
  }
  if (days < 7) {
    const day = new Intl.DateTimeFormat(lang, { weekday: "long" }).format(opens);
    return tf("Back on %(day)s at %(time)s", { day, time });
  }
  const date = new Intl.DateTimeFormat(lang, { day: "numeric", month: "long" }).format(opens);
  return tf("Back on %(date)s at %(time)s", { date, time });
}

export class Availability {
  constructor(el) {
    this.el = el;
    this.online = false;
    this.hours = null;
    this.timer = null;
  }

  update(partial) {
    if (typeof partial.online === "boolean") {
      this.online = partial.online;
    }
    if ("hours" in partial) {
      this.hours = Array.isArray(partial.hours) ? partial.hours : null;
    }
    this.show();
  }

  show() {
    clearTimeout(this.timer);
    const el = this.el;
    const now = Date.now();
    const hours = hoursAt(this.hours, now);
    const there = hours.open && this.online;
    const replyTime = el.availabilityText.getAttribute("data-reply-time") || "";
    let text;
    if (there) {
      text = t("An operator is online");
    } else if (!hours.open) {
      const lang = document.documentElement.lang || undefined;
      const back = hours.opens != null ? backText(hours.opens, now, lang) : t("We are away for now");
      text = replyTime ? back + " · " + replyTime : back;
    } else {
      text = replyTime || t("We will reply soon");
    }
    el.availability.setAttribute("data-online", there ? "true" : "false");
    el.availability.setAttribute("data-open", hours.open ? "true" : "false");
    if (el.availabilityText.textContent !== text) {
      el.availabilityText.textContent = text;
    }
    const wait = hours.change != null ? hours.change - now : RECHECK_MS;
    this.timer = setTimeout(() => this.show(), Math.max(1000, Math.min(wait + 250, RECHECK_MS)));
  }
}
