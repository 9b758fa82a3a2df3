// ACORN service worker: app shell precache, network-first pages with an offline fallback.
const VERSION = "v3";
const SHELL_CACHE = `acorn-shell-${VERSION}`;
const SHELL = ["/offline", "/static/app.css", "/static/app.js", "/static/ackqueue.js",
  "/static/icons/icon-192.png"];
// Issue 5: the inbox and the last opened POs stay readable offline (dropped at sign-out).
const PAGES_CACHE = "acorn-pages";
const KEEP_POS = 20;
importScripts("/static/ackqueue.js");

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("acorn-shell-") && k !== SHELL_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    const path = new URL(request.url).pathname;
    if (path === "/orders" || /^\/orders\/[A-Za-z0-9]+$/.test(path)) {
      event.respondWith(ordersPage(request, path));
      return;
    }
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (new URL(request.url).pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

// At sign-out the page asks us to drop every cache but the static shell (no user data in it).
self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "clear-caches") return;
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k !== SHELL_CACHE).map((k) => caches.delete(k)))));
});

// --- Web push (issue 6): show each alert; a tap opens its PO in an ACORN window. ---------------
self.addEventListener("push", (event) => {
  let alert = {};
  try { alert = event.data ? event.data.json() : {}; } catch (err) { alert = { body: event.data.text() }; }
  const high = alert.urgency === "high";
  const tag = alert.tag || `alert-${alert.id || Date.now()}`;
  event.waitUntil(self.registration.showNotification(alert.title || "ACORN", {
    body: alert.body || "",
    tag, // a newer alert for the same PO replaces the older one on screen
    renotify: high,
    requireInteraction: high,
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    timestamp: alert.timestamp || Date.now(),
    data: { url: alert.url || "/alerts", id: alert.id, kind: alert.kind, po_number: alert.po_number,
            deadline: alert.deadline, warehouse: alert.warehouse },
    // The server adds "Accept all" only for roles that may acknowledge.
    actions: (alert.actions || []).slice(0, 2).map((a) => ({ action: a.action, title: a.title })),
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  let path = data.url || "/alerts";
  // "Accept all" opens the PO with acceptance prefilled; the user confirms there.
  if (event.action === "accept-all" && data.po_number) {
    path = `/orders/${encodeURIComponent(data.po_number)}?accept=all`;
  }
  const target = new URL(path, self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((c) => c.url === target) ||
      windows.find((c) => new URL(c.url).origin === self.location.origin);
    if (open) {
      let client = open;
      if (open.url !== target) {
        try { client = (await open.navigate(target)) || open; } catch (err) { client = null; }
      }
      if (client) {
        try { await client.focus(); } catch (err) { /* focus needs a real tap; navigation stands */ }
        return;
      }
    }
    await self.clients.openWindow(target);
  })());
});

// --- Purchase orders (issue 5): readable offline, answers replayed by Background Sync. ---------
async function ordersPage(request, path) {
  const cache = await caches.open(PAGES_CACHE);
  // Search and paging variants are not kept: offline shows the plain inbox.
  const key = new URL(path, self.location.origin).href;
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(key, response.clone());
      trimPages(cache);
    }
    return response;
  } catch (err) {
    return (await cache.match(key)) || (await cache.match(new URL("/orders", self.location.origin).href))
      || caches.match("/offline");
  }
}

async function trimPages(cache) {
  const pos = (await cache.keys()).filter((r) => new URL(r.url).pathname !== "/orders");
  // Cache keys keep insertion order; a re-put moves a page to the end (delete, then put).
  await Promise.all(pos.slice(0, Math.max(0, pos.length - KEEP_POS)).map((r) => cache.delete(r)));
}

self.addEventListener("sync", (event) => {
  if (event.tag === "acorn-acks") event.waitUntil(self.AckQueue.replay());
});
