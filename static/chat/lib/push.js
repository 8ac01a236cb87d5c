/*
 * The pages' side of Web Push (chat.push): register the page's service worker
 * (offline page, notifications), subscribe this browser with the site's VAPID key
 * after the person asked for it, and tell the server (POST/DELETE the
 * subscription). config: {publicKey, subscribeUrl, csrfCookieName}.
 */
import { t } from "./i18n.js";
import { csrfToken } from "./uploader.js";

// A browser whose push service cannot be reached never settles its subscribe().
const SUBSCRIBE_TIMEOUT_MS = 20000;

function withTimeout(promise, ms, message) {
  let timer = null;
  const expired = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export function canPush() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function loaded() {
  return document.readyState === "complete"
    ? Promise.resolve()
    : new Promise((resolve) => window.addEventListener("load", resolve, { once: true }));
}

// The page's worker (null where there are none: http other than localhost),
// registered once the page has loaded: its install fetches never compete with the
// page's own.
export async function registerWorker(url, scope) {
  if (!("serviceWorker" in navigator)) {
    return null;
  }
  await loaded();
  try {
    return await navigator.serviceWorker.register(url, { scope });
  } catch (err) {
    return null;
  }
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export async function currentSubscription(registration) {
  try {
    return registration ? await registration.pushManager.getSubscription() : null;
  } catch (err) {
    return null;
  }
}

async function tell(config, method, subscription) {
  const response = await fetch(config.subscribeUrl, {
    method,
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(config.csrfCookieName),
    },
    body: JSON.stringify({ subscription: subscription.toJSON() }),
    credentials: "same-origin",
  });
  if (!response.ok) {
    let detail = "";
    try {
      detail = (await response.json()).error || "";
    } catch (err) {
      detail = "";
    }
    throw new Error(detail || String(response.status));
  }
}

// Ask (call from a click), subscribe, tell the server. Resolves to the
// subscription, or null when the person said no.
export async function subscribe(registration, config) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    return null;
  }
  const ready = registration || (await navigator.serviceWorker.ready);
  let subscription = await currentSubscription(ready);
  if (!subscription) {
    subscription = await withTimeout(
      ready.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.publicKey) }),
      SUBSCRIBE_TIMEOUT_MS,
      t("The browser's push service did not answer. Try again later."),
    );
  }
  await tell(config, "POST", subscription);
  return subscription;
}

// The server hears again of a subscription it may have lost (a new device limit,
// a browser that renewed it); a failure changes nothing.
export async function refresh(registration, config) {
  const subscription = await currentSubscription(registration);
  if (subscription && Notification.permission === "granted") {
    try {
      await tell(config, "POST", subscription);
    } catch (err) {
      /* told again on the next visit */
    }
  }
  return subscription;
}

export async function unsubscribe(registration, config) {
  const subscription = await currentSubscription(registration);
  if (subscription) {
    try {
      await tell(config, "DELETE", subscription);
    } finally {
      await subscription.unsubscribe();
    }
  }
}

// A click on one of our notifications asks an open page to show a conversation.
export function onOpenRequest(handler) {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      const data = event.data || {};
      if (data.type === "sohbet.open") {
        handler(data);
      }
    });
  }
}
