/*
 * The chat page's service worker (offline page, notifications) and "Notify me when
 * they reply" (#push-button in the name menu): after the visitor's click, the
 * browser asks, this device subscribes and a reply sent while the page is closed
 * is pushed (chat.push). Not in the widget: its frame is another site's, where
 * browsers give no push permission (docs/notifications.md).
 */
import { t } from "../lib/i18n.js";
import { canPush, refresh, registerWorker, subscribe, unsubscribe } from "../lib/push.js";

export async function mountVisitorPush(config) {
  const registration = await registerWorker("/sw.js", "/");
  const button = document.getElementById("push-button");
  const note = document.getElementById("push-note");
  const push = config.push || {};
  if (!button || !push.publicKey || !canPush() || !registration) {
    return;
  }
  const settings = { ...push, csrfCookieName: config.csrfCookieName };
  const offText = button.textContent;
  let subscribed = false;

  function render() {
    button.hidden = !subscribed && Notification.permission === "denied";
    button.setAttribute("aria-pressed", String(subscribed));
    button.textContent = subscribed ? button.dataset.on : offText;
  }

  subscribed = !!(await refresh(registration, settings));
  render();
  button.addEventListener("click", async () => {
    note.textContent = "";
    button.disabled = true;
    try {
      if (subscribed) {
        await unsubscribe(registration, settings);
        subscribed = false;
      } else {
        subscribed = !!(await subscribe(registration, settings));
        note.textContent = subscribed
          ? t("We will notify you here when they reply.")
          : t("Notifications are blocked in this browser's settings.");
      }
    } catch (err) {
      note.textContent = err.message || t("Something went wrong.");
    }
    button.disabled = false;
    render();
  });
}
