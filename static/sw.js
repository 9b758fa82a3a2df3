// ACORN service worker: app shell precache, network-first pages with an offline fallback.
const VERSION = "v5";
const SHELL_CACHE = `acorn-shell-${VERSION}`;
// Pages link app.css and app.js by hashed names (plus the bundle): those are added at install
// from the offline page's links, so the unhashed copies are not fetched twice.
const SHELL = ["/offline", "/static/ackqueue.js", "/static/capture.js", "/static/icons/icon-192.png"];
// Issue 5: the inbox and the last opened POs stay readable offline (dropped at sign-out).
// Issue 9: so do the dashboards; pages live in one cache per user (see userPages).
const PAGES_PREFIX = "acorn-pages-";
const META_CACHE = "acorn-meta";
const KEEP_POS = 20;
const CACHED_PAGES = [/^\/orders$/, /^\/orders\/[A-Za-z0-9]+$/, /^\/dashboards(\/[a-z]+)?$/];
// A page slower than this on patchy mobile data is shown from the cache (marked as such).
const NETWORK_TIMEOUT_MS = 4000;
importScripts("/static/ackqueue.js");
importScripts("/static/capture.js"); // issue 7: UploadQueue, the offline invoice pages

// The shell is precached without cookies (no user's name in it), plus the hashed stylesheet,
// script and icon that the offline page links to (webapp/core/assets.py names them).
self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { credentials: "omit" })));
    const html = await (await cache.match("/offline")).text();
    const linked = [...new Set(Array.from(html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g), (m) => m[1]))];
    await cache.addAll(linked);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      // "acorn-pages" held every user's pages in one cache before issue 9: nobody owns it now.
      .then((keys) => Promise.all(keys.filter((k) => (k.startsWith("acorn-shell-") && k !== SHELL_CACHE)
        || k === "acorn-pages").map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    const path = new URL(request.url).pathname;
    if (CACHED_PAGES.some((re) => re.test(path))) {
      event.respondWith(networkFirstPage(request, path));
      return;
    }
    if (path === "/invoices/capture") {
      event.respondWith(capturePage(request));
      return;
    }
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (new URL(request.url).pathname.startsWith("/static/")) {
    event.respondWith(staticFile(request));
  }
});

// Hashed static names never change content, so a file fetched once serves every later page.
async function staticFile(request) {
  const hit = await caches.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && /\.[0-9a-f]{10}\.[a-z0-9]+$/.test(new URL(request.url).pathname)) {
    const copy = response.clone();
    caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

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

// --- Pages readable offline (issues 5 and 9): inbox, last POs, last dashboards. ----------------
// Each signed-in page names its user's cache (X-Acorn-Cache-Key, opaque): one user's pages are
// never shown to another on a shared phone, and the first page of a new user drops the others.
async function userPages(key) {
  const meta = await caches.open(META_CACHE);
  if (key) {
    const known = await meta.match("/__acorn/user");
    if (!known || (await known.text()) !== key) {
      await meta.put("/__acorn/user", new Response(key));
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(PAGES_PREFIX) && n !== PAGES_PREFIX + key)
        .map((n) => caches.delete(n)));
    }
  } else {
    const known = await meta.match("/__acorn/user");
    key = known && await known.text();
  }
  return key ? caches.open(PAGES_PREFIX + key) : null;
}

// A page from the cache says so: its "offline, as of HH:MM" note (base.html) is shown.
async function markedFromCache(hit) {
  const html = (await hit.text()).replace("data-offline-note hidden", "data-offline-note data-from-cache");
  return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function cachedCopy(keys) {
  const cache = await userPages(null);
  for (const key of keys) {
    const hit = cache && await cache.match(key);
    if (hit) return markedFromCache(hit);
  }
  return caches.match("/offline");
}

async function networkFirstPage(request, path) {
  // Search and paging variants are not kept: offline shows the plain page.
  const key = new URL(path, self.location.origin).href;
  const fallback = [key];
  if (path.startsWith("/orders/")) fallback.push(new URL("/orders", self.location.origin).href);
  const network = fetch(request).then(async (response) => {
    const owner = response.headers.get("X-Acorn-Cache-Key");
    if (response.ok && !response.redirected && owner) {
      const cache = await userPages(owner);
      await cache.delete(key); // a re-put moves the page to the end of the keys
      await cache.put(key, response.clone());
      trimPages(cache);
    }
    return response;
  });
  network.catch(() => {}); // after a timeout nobody awaits it: no unhandled rejection
  const slow = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS, null));
  try {
    const first = await Promise.race([network, slow]);
    if (first) return first;
    const hit = await userPages(null).then((cache) => cache && cache.match(key));
    return hit ? markedFromCache(hit) : await network; // nothing cached: keep waiting
  } catch (err) {
    return cachedCopy(fallback);
  }
}

async function trimPages(cache) {
  const pos = (await cache.keys()).filter((r) => /^\/orders\/./.test(new URL(r.url).pathname));
  // Cache keys keep insertion order; a re-put moves a page to the end (delete, then put).
  await Promise.all(pos.slice(0, Math.max(0, pos.length - KEEP_POS)).map((r) => cache.delete(r)));
}

self.addEventListener("sync", (event) => {
  if (event.tag === "acorn-acks") event.waitUntil(self.AckQueue.replay());
  if (event.tag === "acorn-uploads") event.waitUntil(self.UploadQueue.replay());
});

// --- Invoices (issue 7): the capture page works offline; its pages wait in UploadQueue. ------
// Kept per PO (the query names it); a PO never opened online falls back to the page without
// a PO, where the user chooses the PO after the upload, never to another PO's page.
async function capturePage(request) {
  const url = new URL(request.url);
  const key = new URL(url.pathname + url.search, self.location.origin).href;
  try {
    const response = await fetch(request);
    const owner = response.headers.get("X-Acorn-Cache-Key"); // issue 9: per-user page caches
    if (response.ok && !response.redirected && owner) await (await userPages(owner)).put(key, response.clone());
    return response;
  } catch (err) {
    const cache = await userPages(null);
    return (cache && ((await cache.match(key)) || (await cache.match(new URL(url.pathname, self.location.origin).href))))
      || caches.match("/offline");
  }
}
