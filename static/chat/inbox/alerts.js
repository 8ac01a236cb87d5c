/*
 * What reaches an operator who is not looking: a chime, a desktop notification (once
 * they allow it: #enable-notifications), the unread count in the title; and the
 * notice line (#inbox-notice) for what went wrong.
 */
import { t } from "../lib/i18n.js";
import { debounce } from "../lib/util.js";
import { playChime, setTitleCount } from "../lib/alerts.js";
import { previewText, threadName } from "./rows.js";

const NOTICE_MS = 8000;
// A new conversation's thread frame, with the visitor's name, follows its message.
const NEW_THREAD_WAIT_MS = 400;

function hasNotifications() {
  return "Notification" in window;
}

/*
 * new Alerts(el, {threads (ThreadList), onOpen(threadId)})
 */
export class Alerts {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    this._hideNotice = debounce(() => {
      el.notice.hidden = true;
    }, NOTICE_MS);
    if (!deps.pushManaged) { // else inbox/push.js owns the button
      el.notify.addEventListener("click", () => this._ask());
    }
    el.notice.querySelector(".inbox-notice-dismiss").addEventListener("click", () => {
      el.notice.hidden = true;
    });
    this._renderButton();
  }

  notice(text) {
    this.el.notice.querySelector(".inbox-notice-text").textContent = text;
    this.el.notice.hidden = false;
    this._hideNotice();
  }

  updateTitle() {
    setTitleCount(document.visibilityState === "visible" ? 0 : this.deps.threads.totalUnread());
  }

  // A visitor's new message the operator is not looking at.
  message(m) {
    playChime();
    if (!hasNotifications() || window.Notification.permission !== "granted") {
      return;
    }
    if (this.deps.threads.get(m.thread)) {
      this._show(m);
    } else {
      setTimeout(() => this._show(m), NEW_THREAD_WAIT_MS);
    }
  }

  _show(m) {
    const th = this.deps.threads.get(m.thread);
    const title = th && (th.visitor_name || th.visitor_id != null)
      ? threadName(th, m.thread)
      : m.author_name || t("New conversation");
    try {
      const note = new window.Notification(title, { body: previewText(m), tag: "thread-" + m.thread }); // the push's tag: one, not two
      note.onclick = () => {
        window.focus();
        this.deps.onOpen(m.thread);
        note.close();
      };
    } catch (err) {
      /* some browsers only allow notifications from a service worker */
    }
  }

  _renderButton() {
    if (this.deps.pushManaged) {
      return;
    }
    this.el.notify.hidden = !hasNotifications() || window.Notification.permission !== "default";
  }

  _ask() {
    if (!hasNotifications()) {
      return;
    }
    const done = () => this._renderButton();
    const result = window.Notification.requestPermission(done);
    if (result && typeof result.then === "function") {
      result.then(done, done);
    }
  }
}
