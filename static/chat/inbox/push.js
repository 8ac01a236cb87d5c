/*
 * The inbox's push notifications (chat.push): the service worker (offline page,
 * notifications), #enable-notifications subscribing this device, and the settings
 * dialog (#push-dialog: what to be told of, quiet hours; turn off here). A click on
 * a notification while the inbox is open shows its conversation.
 */
import { t, tf } from "../lib/i18n.js";
import { csrfToken } from "../lib/uploader.js";
import { canPush, onOpenRequest, refresh, registerWorker, subscribe, unsubscribe } from "../lib/push.js";

const WORKER_URL = "/admin/inbox/sw.js";
const SCOPE = "/admin/inbox/";
const FLAGS = ["new_conversations", "messages", "mentions"];
const TIMES = ["quiet_from", "quiet_until"];

export function isPushConfigured(config) {
  return !!(config && config.publicKey) && canPush();
}

function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (err) {
    return "";
  }
}

/*
 * new PushSettings(el, {config (push config + csrfCookieName), onOpen(threadId), notice(text)})
 * el: notify, pushSettings, pushDialog, pushForm, pushStatus, pushOff, pushCancel
 */
export class PushSettings {
  constructor(el, deps) {
    this.el = el;
    this.deps = deps;
    this.config = deps.config;
    this.registration = null;
    onOpenRequest((data) => {
      if (data.thread != null) {
        deps.onOpen(Number(data.thread));
      }
    });
    el.notify.addEventListener("click", () => this._enable());
    el.pushSettings.addEventListener("click", () => this._openDialog());
    el.pushCancel.addEventListener("click", () => el.pushDialog.close());
    el.pushOff.addEventListener("click", () => this._turnOff());
    el.pushForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this._save();
    });
    this.ready = this._start();
  }

  async _start() {
    this.registration = await registerWorker(WORKER_URL, SCOPE);
    await this._render();
  }

  async _render() {
    const subscribed = this.registration ? await refresh(this.registration, this.config) : null;
    this.el.notify.hidden = !!subscribed || Notification.permission === "denied";
    this.el.pushSettings.hidden = !subscribed;
  }

  async _enable() {
    this.el.notify.disabled = true;
    try {
      const subscription = await subscribe(this.registration, this.config);
      if (!subscription) {
        this.deps.notice(t("Notifications are blocked in this browser's settings."));
      } else {
        await this._render();
        await this._openDialog();
      }
    } catch (err) {
      this.deps.notice(tf("Notifications could not be turned on: %(error)s", { error: err.message || String(err) }));
    }
    this.el.notify.disabled = false;
    await this._render();
  }

  async _request(method, body) {
    const response = await fetch(this.config.preferencesUrl, {
      method,
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(this.config.csrfCookieName),
      },
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) {
      throw new Error(data.error || String(response.status));
    }
    return data;
  }

  async _openDialog() {
    const form = this.el.pushForm;
    this.el.pushStatus.textContent = "";
    try {
      const saved = await this._request("GET");
      for (const name of FLAGS) {
        form.elements[name].checked = !!saved[name];
      }
      for (const name of TIMES) {
        form.elements[name].value = saved[name] || "";
      }
    } catch (err) {
      this.el.pushStatus.textContent = t("Your settings could not be loaded.");
    }
    if (!this.el.pushDialog.open) {
      this.el.pushDialog.showModal();
    }
  }

  async _save() {
    const form = this.el.pushForm;
    const body = { time_zone: timeZone() };
    for (const name of FLAGS) {
      body[name] = form.elements[name].checked;
    }
    for (const name of TIMES) {
      body[name] = form.elements[name].value;
    }
    try {
      await this._request("POST", body);
      this.el.pushDialog.close();
      this.deps.notice(t("Notification settings saved."));
    } catch (err) {
      this.el.pushStatus.textContent = tf("Not saved: %(error)s", { error: err.message || String(err) });
    }
  }

  async _turnOff() {
    try {
      await unsubscribe(this.registration, this.config);
    } catch (err) {
      /* the device forgot it anyway; the server drops it at the next push */
    }
    this.el.pushDialog.close();
    await this._render();
  }
}

// Without push (no VAPID keys, an old browser) the worker still gives the offline page.
export function registerInboxWorker() {
  return registerWorker(WORKER_URL, SCOPE);
}
