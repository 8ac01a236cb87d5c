/*
 * Sohbet's service worker (chat.push.views.service_worker): one script for the
 * inbox (scope /admin/inbox/) and the chat page (scope /). Pages come from the
 * network, always (a page and its scripts are of the server's release); when the
 * network is gone, our offline page. Static files come from the cache of this
 * release when their names are hashed, else from the network first. A new release
 * is a new script: it takes over and deletes the caches of older ones. Pushes show
 * one notification per conversation (its tag), none while that conversation is on
 * screen; a click opens it.
 */
"use strict";

const CONFIG = {{ config|safe }};

function cacheable(response) {
  return response && response.ok && response.type === "basic";
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CONFIG.cache)
      .then((cache) =>
        cache.addAll(
          CONFIG.precache.map((url) => new Request(url, { credentials: "same-origin", cache: "reload" })),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith(CONFIG.prefix) && name !== CONFIG.cache)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

async function page(request) {
  try {
    return await fetch(request);
  } catch (err) {
    const cache = await caches.open(CONFIG.cache);
    return (await cache.match(CONFIG.offline)) || Response.error();
  }
}

async function staticFile(request) {
  const cache = await caches.open(CONFIG.cache);
  if (CONFIG.hashed) {
    const hit = await cache.match(request);
    if (hit) {
      return hit;
    }
  }
  try {
    const response = await fetch(request);
    if (cacheable(response)) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const hit = await cache.match(request);
    if (hit) {
      return hit;
    }
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || CONFIG.ignore.some((p) => url.pathname.startsWith(p))) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(staticFile(request));
  }
});

function absolute(path) {
  return new URL(path || CONFIG.scope, self.location.origin).href;
}

async function windows() {
  return self.clients.matchAll({ type: "window", includeUncontrolled: true });
}

async function notify(data) {
  const url = absolute(data.url);
  const open = await windows();
  if (open.some((c) => c.focused && c.visibilityState === "visible" && c.url === url)) {
    return; // the conversation is on screen
  }
  await self.registration.showNotification(data.title || "Sohbet", {
    body: data.body || "",
    tag: data.tag || "sohbet",
    renotify: true,
    icon: CONFIG.icon,
    badge: CONFIG.icon,
    data: { url, thread: data.thread == null ? null : data.thread },
  });
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (err) {
    data = {};
  }
  event.waitUntil(notify(data));
});

async function openFrom(notification) {
  const data = notification.data || {};
  const url = absolute(data.url);
  const path = new URL(url).pathname;
  const found = (await windows()).find((c) => new URL(c.url).pathname === path);
  if (found) {
    found.postMessage({ type: "sohbet.open", thread: data.thread, url });
    return found.focus();
  }
  return self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFrom(event.notification));
});
