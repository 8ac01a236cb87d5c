/*
 * The visitor panel beside the open conversation (#visitor-panel): who the visitor
 * is (name, email, user id, each verified or not), the page they are on now (live),
 * where they came from, browser and system, language, local time, country, visits,
 * the host's custom attributes and their other conversations (docs/protocol.md,
 * `visitor`). A column on wide screens (shown or hidden, remembered), a drawer over
 * the conversation on narrow ones (Esc or its close button shuts it). Everything
 * the visitor's page said reaches the DOM as text; links only to http(s) addresses.
 *
 *   new VisitorPanel(el, {send(frame, thread) -> bool, threads (ThreadList),
 *                         openId() -> id|null})
 */
import { locale, nt, t, tf } from "../lib/i18n.js";
import { fullDate, shortTime } from "../lib/format.js";
import { make, safeHttpUrl } from "../lib/dom.js";

const SHOWN_KEY = "sohbet.inbox.visitorPanel";

function countryName(code) {
  try {
    return new Intl.DisplayNames([locale()], { type: "region" }).of(code) || code;
  } catch (err) {
    return code;
  }
}

function localTime(zone) {
  try {
    return new Intl.DateTimeFormat(locale(), {
      timeZone: zone, weekday: "short", hour: "numeric", minute: "2-digit",
    }).format(new Date());
  } catch (err) {
    return "";
  }
}

function link(url, text) {
  const href = safeHttpUrl(url);
  if (!href) {
    return make("span", "visitor-value", text || url);
  }
  const a = make("a", "visitor-value visitor-link", text || url);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  return a;
}

function attributeText(value) {
  if (typeof value === "boolean") {
    return value ? t("yes") : t("no");
  }
  return String(value);
}

export class VisitorPanel {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    this.visitors = new Map(); // visitor id -> the latest `visitor` payload
    this.visitorOf = new Map(); // thread id -> visitor id, from the answers
    this.asked = new Set(); // thread ids asked about on this connection
    this.shown = this._remembered(); // the column's
    this.drawerOpen = false;
    el.visitorToggle.addEventListener("click", () => this.toggle());
    el.visitorClose.addEventListener("click", () => this.toggle(false));
    // Wide to narrow: the column becomes a drawer, closed until asked.
    window.addEventListener("resize", () => this.render());
    el.visitorPanel.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this._isDrawer()) {
        event.stopPropagation();
        this.toggle(false);
      }
    });
  }

  _remembered() {
    try {
      return window.localStorage.getItem(SHOWN_KEY) !== "hidden";
    } catch (err) {
      return true;
    }
  }

  // Over the conversation (a narrow inbox): inbox.css decides.
  _isDrawer() {
    return getComputedStyle(this.el.visitorPanel).position === "absolute";
  }

  // Show or hide (no argument: the other way): the column's choice is remembered;
  // the drawer opens only when asked.
  toggle(show) {
    const drawer = this._isDrawer();
    const open = show === undefined ? !this.isOpen() : !!show;
    if (drawer) {
      this.drawerOpen = open;
    } else {
      this.shown = open;
      try {
        window.localStorage.setItem(SHOWN_KEY, open ? "shown" : "hidden");
      } catch (err) {
        /* not remembered */
      }
    }
    this.render();
    if (open && drawer) {
      this.el.visitorClose.focus();
    } else if (!open && !this.el.visitorToggle.hidden) {
      this.el.visitorToggle.focus();
    }
  }

  isOpen() {
    return this._isDrawer() ? this.drawerOpen : this.shown;
  }

  // A new connection: what was asked is asked again.
  reset() {
    this.asked.clear();
    this.request();
  }

  // Ask who the open thread's visitor is (once per connection and thread), when
  // the panel shows it.
  request() {
    const id = this.deps.openId();
    if (id == null || this.asked.has(id) || !this.isOpen()) {
      return;
    }
    if (this.deps.send({ type: "visitor.info" }, id)) {
      this.asked.add(id);
    }
  }

  // A frame; -> whether it was the panel's.
  apply(f) {
    if (f.type === "presence" && f.visitor_online && f.thread === this.deps.openId()) {
      this.asked.delete(f.thread); // back: their visit count and page may have changed
      this.request();
      return false;
    }
    if (f.type !== "visitor" || !f.visitor || f.visitor.id == null) {
      return false;
    }
    this.visitors.set(f.visitor.id, f.visitor);
    if (f.thread != null) {
      this.visitorOf.set(f.thread, f.visitor.id);
    }
    if (this._visitorId() === f.visitor.id) {
      this.render();
    }
    return true;
  }

  _visitorId() {
    const id = this.deps.openId();
    const th = id != null ? this.deps.threads.get(id) : null;
    return th && th.visitor_id != null ? th.visitor_id : this.visitorOf.get(id);
  }

  current() {
    const visitorId = this._visitorId();
    return visitorId != null ? this.visitors.get(visitorId) || null : null;
  }

  render() {
    const el = this.el;
    const id = this.deps.openId();
    const open = id != null && this.isOpen();
    el.visitorToggle.hidden = id == null;
    el.visitorToggle.setAttribute("aria-expanded", String(open));
    el.visitorPanel.hidden = !open;
    el.root.classList.toggle("has-visitor-panel", open);
    if (!open) {
      return;
    }
    this.request();
    const visitor = this.current();
    if (visitor && visitor === this._rendered && id === this._renderedThread) {
      return; // as shown: keep focus and selection in it
    }
    this._rendered = visitor;
    this._renderedThread = id;
    el.visitorBody.setAttribute("aria-busy", visitor ? "false" : "true");
    el.visitorBody.replaceChildren(...(visitor ? this._sections(visitor, id) : [make("p", "visitor-loading", t("Loading…"))]));
  }

  // Every half minute: the visitor's local time moves on.
  refreshTime() {
    const node = this.el.visitorBody.querySelector("[data-local-time]");
    const visitor = this.current();
    if (node && visitor) {
      node.textContent = localTime(visitor.timezone);
    }
  }

  _sections(v, threadId) {
    return [
      this._section(t("Identity"), this._identity(v)),
      this._section(t("Now"), this._now(v)),
      this._section(t("Visits"), [
        [t("Visits"), String(v.visits || 1)],
        [t("First seen"), fullDate(v.first_seen)],
        [t("Last seen"), fullDate(v.last_seen)],
      ]),
      this._attributes(v),
      this._threads(v, threadId),
    ].filter(Boolean);
  }

  _section(title, rows) {
    const section = make("section", "visitor-section");
    section.appendChild(make("h3", "visitor-section-title", title));
    const list = make("dl", "visitor-facts");
    for (const [term, value] of rows) {
      if (value === "" || value == null) {
        continue;
      }
      const row = make("div", "visitor-fact");
      row.appendChild(make("dt", null, term));
      const dd = make("dd");
      dd.appendChild(typeof value === "string" ? make("span", "visitor-value", value) : value);
      row.appendChild(dd);
      list.appendChild(row);
    }
    section.appendChild(list);
    return section;
  }

  _identity(v) {
    const badge = (value, verified) => {
      const span = make("span", "visitor-value");
      span.appendChild(document.createTextNode(value + " "));
      const mark = make("span", "verified-badge", verified ? t("verified") : t("not verified"));
      mark.dataset.verified = String(verified);
      span.appendChild(mark);
      return span;
    };
    const phoneBadge = (value) => {
      const span = make("span", "visitor-value");
      span.appendChild(document.createTextNode(value + " "));
      const mark = make("span", "verified-badge", t("phone verified"));
      mark.dataset.verified = "true";
      span.appendChild(mark);
      return span;
    };
    const verified = !!v.identity_verified;
    // An address the visitor typed in the chat is their own word, whoever they are.
    const emailVerified = verified && v.email_source !== "visitor";
    let reachable = t("No: no email address");
    if (v.email && v.email_unsubscribed) {
      reachable = t("No: unsubscribed");
    } else if (v.email) {
      reachable = t("Yes: unread replies are emailed");
    }
    return [
      [t("Name"), v.name ? badge(v.name, verified) : tf("Visitor #%(id)s", { id: v.id })],
      [t("Email"), v.email ? badge(v.email, emailVerified) : ""],
      [t("By email"), reachable],
      [t("User ID"), v.user_id ? badge(v.user_id, verified) : ""],
      // A number the visitor shared from their own Telegram (telegram_bridge).
      [t("Phone"), v.phone ? phoneBadge(v.phone) : ""],
    ];
  }

  _now(v) {
    let page = "";
    if (v.url) {
      page = make("span", "visitor-page");
      page.appendChild(link(v.url, v.title || v.url));
      if (v.title) {
        page.appendChild(make("span", "visitor-url", v.url));
      }
    }
    let time = "";
    if (v.timezone && localTime(v.timezone)) {
      time = make("span", "visitor-value");
      const clock = make("span", null, localTime(v.timezone));
      clock.dataset.localTime = "";
      time.append(clock, " ", make("span", "visitor-quiet", "(" + v.timezone + ")"));
    }
    return [
      [t("Page"), page],
      [t("Came from"), v.referrer ? link(v.referrer) : ""],
      [t("Local time"), time],
      [t("Language"), v.language || ""],
      [t("Country"), v.country ? countryName(v.country) : ""],
      [t("Browser"), v.browser || ""],
      [t("System"), v.os || ""],
    ];
  }

  _attributes(v) {
    const entries = Object.entries(v.attributes || {});
    if (!entries.length) {
      return null;
    }
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return this._section(t("Attributes"), entries.map(([key, value]) => [key, attributeText(value)]));
  }

  _threads(v, threadId) {
    const others = (v.threads || []).filter((th) => th.id !== threadId);
    const section = make("section", "visitor-section");
    section.appendChild(make("h3", "visitor-section-title",
      tf(nt("%(count)s other conversation", "%(count)s other conversations", others.length), { count: others.length })));
    if (!others.length) {
      return null;
    }
    const list = make("ul", "visitor-threads");
    for (const th of others) {
      const item = make("li");
      const a = make("a", null, tf("Conversation #%(id)s", { id: th.id }));
      a.href = th.admin_url;
      item.append(a, " ", make("span", "visitor-quiet",
        (th.status === "closed" ? t("Closed") : t("Open")) + " · " + shortTime(th.updated)));
      list.appendChild(item);
    }
    section.appendChild(list);
    return section;
  }
}
