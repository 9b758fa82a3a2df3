// Offline acknowledgement queue (IndexedDB), shared by the page (app.js) and the service worker.
// Each answer keeps its Idempotency-Key, so a replay from the page and one from Background Sync
// can race and Amazon still gets the answer once. Replays go strictly in the order queued.
"use strict";

// One IndexedDB object store of queued entries (auto-increment ids, oldest first); also used by
// the invoice upload queue in capture.js, which loads after this file in pages and the worker.
self.IdbQueueStore = (dbName, storeName) => {
  const open = () => new Promise((resolve, reject) => {
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(storeName, { keyPath: "id", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const run = async (mode, work) => {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      const req = work(tx.objectStore(storeName));
      tx.oncomplete = () => { db.close(); resolve(req ? req.result : undefined); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  };
  return {
    all: async () => ((await run("readonly", (s) => s.getAll())) || []).sort((a, b) => a.id - b.id),
    add: (entry) => run("readwrite", (s) => s.add({ state: "queued", queuedAt: Date.now(), ...entry })),
    put: (entry) => run("readwrite", (s) => s.put(entry)),
    remove: (id) => run("readwrite", (s) => s.delete(id)),
    clear: () => run("readwrite", (s) => s.clear()),
  };
};

self.AckQueue = (() => {
  const { all, add, put, clear } = self.IdbQueueStore("acorn-offline", "acks");
  let running = null;

  const sendOne = async (entry) => {
    let res;
    try {
      res = await fetch(entry.url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Idempotency-Key": entry.key, "X-CSRFToken": entry.csrf },
        body: JSON.stringify(entry.body),
      });
    } catch (err) { return false; } // still offline: keep it and everything after it queued
    let body = {};
    try { body = await res.json(); } catch (err) { body = {}; }
    if (res.status === 202) {
      entry.state = "sent";
    } else if (res.status >= 400 && res.status < 500 && ![401, 408, 429].includes(res.status)) {
      entry.state = "refused"; // the rules refused it now (deadline passed, PO changed, ...)
      entry.reason = ((body.error || {}).problems || []).concat((body.error || {}).risks || [])
        .map((p) => p.message).join(" ") || (body.error || {}).message || String(res.status);
    } else {
      entry.lastStatus = res.status; // signed out or server trouble: try again later
      return false;
    }
    entry.doneAt = Date.now();
    await put(entry);
    return true;
  };

  // One replay at a time per context; stops at the first answer that could not be delivered.
  const replay = () => running || (running = (async () => {
    try {
      for (const entry of (await all()).filter((e) => e.state === "queued")) {
        if (!(await sendOne(entry))) break;
      }
    } finally { running = null; }
  })());

  return { add, all, put, clear, replay };
})();
