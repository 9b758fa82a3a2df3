// ACORN's one script: progressive enhancement only; every page works without it.
"use strict";

if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-action]");
  if (target && target.dataset.action === "reload") window.location.reload();
});

// Ask before destructive one-button forms (data-confirm); without JS they submit directly.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// After sign-out: drop every cache this origin keeps (Clear-Site-Data does it too where supported).
if (document.querySelector("[data-signed-out]") && "caches" in window) {
  caches.keys().then((keys) => Promise.all(keys.filter((k) => !k.startsWith("acorn-shell-")).map((k) => caches.delete(k))));
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: "clear-caches" });
  }
}

// Passkeys (WebAuthn): progressive enhancement over the code form.
const b64urlToBuffer = (s) => {
  const pad = "=".repeat((4 - (s.length % 4)) % 4);
  const bin = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
};
const bufferToB64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const csrfToken = () => (document.querySelector('input[name="csrf_token"]') || {}).value || "";
const postJSON = (url, body) => fetch(url, {
  method: "POST", credentials: "same-origin",
  headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
  body: JSON.stringify(body || {}),
});
const credentialJSON = (cred) => {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  const response = { clientDataJSON: bufferToB64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bufferToB64url(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = bufferToB64url(r.authenticatorData);
    response.signature = bufferToB64url(r.signature);
    if (r.userHandle) response.userHandle = bufferToB64url(r.userHandle);
  }
  return { id: cred.id, rawId: bufferToB64url(cred.rawId), type: cred.type, response, clientExtensionResults: {} };
};
const decodeOptions = (o) => {
  o.challenge = b64urlToBuffer(o.challenge);
  if (o.user) o.user.id = b64urlToBuffer(o.user.id);
  for (const list of [o.excludeCredentials, o.allowCredentials]) {
    (list || []).forEach((c) => { c.id = b64urlToBuffer(c.id); });
  }
  return o;
};
const showPasskeyError = (box) => { const e = box.querySelector("[data-passkey-error]"); if (e) e.hidden = false; };

if (window.PublicKeyCredential) {
  const loginBox = document.querySelector("[data-passkey-login]");
  if (loginBox) {
    loginBox.hidden = false;
    loginBox.querySelector("[data-action=passkey-login]").addEventListener("click", async () => {
      try {
        const options = await (await postJSON(loginBox.dataset.optionsUrl)).json();
        const cred = await navigator.credentials.get({ publicKey: decodeOptions(options) });
        const answer = await postJSON(loginBox.dataset.verifyUrl, credentialJSON(cred));
        const body = await answer.json();
        if (answer.ok && body.redirect) window.location.assign(body.redirect);
        else showPasskeyError(loginBox);
      } catch (err) { showPasskeyError(loginBox); }
    });
  }
  const regBox = document.querySelector("[data-passkey-register]");
  if (regBox) {
    regBox.hidden = false;
    regBox.querySelector("[data-action=passkey-register]").addEventListener("click", async () => {
      try {
        const res = await postJSON(regBox.dataset.optionsUrl);
        if (res.status === 401) { window.location.assign(regBox.dataset.reauthUrl); return; }
        const options = await res.json();
        const cred = await navigator.credentials.create({ publicKey: decodeOptions(options) });
        const name = (regBox.querySelector("input[name=name]") || {}).value || "Passkey";
        const answer = await postJSON(regBox.dataset.registerUrl, { credential: credentialJSON(cred), name });
        const body = await answer.json();
        if (answer.ok && body.redirect) window.location.assign(body.redirect);
        else showPasskeyError(regBox);
      } catch (err) { showPasskeyError(regBox); }
    });
  }
}

// --- Web push (issue 6): Settings > Notifications subscribes this device after a tap. ---------
const acornPush = (() => {
  const box = document.getElementById("push-device");
  if (!box) return null;
  const button = box.querySelector("[data-action=push-enable]");
  const status = box.querySelector("#push-status");
  const say = (key) => { status.textContent = status.dataset[`msg${key}`] || ""; status.dataset.state = key.toLowerCase(); };
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const save = async (subscription, label) => {
    const res = await fetch(box.dataset.saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify({ subscription, label }),
    });
    if (!res.ok) throw new Error(`saving the subscription failed: ${res.status}`);
    return res.json();
  };
  const sameKey = (sub) => {
    const key = sub.options && sub.options.applicationServerKey;
    return !key || bufferToB64url(key) === box.dataset.vapidKey;
  };
  const enable = async () => {
    if (!supported) { say("Unsupported"); return; }
    say("Working");
    // Asked only here, after the tap: a prompt on page load is what users learn to deny.
    if (await Notification.requestPermission() !== "granted") { say("Denied"); return; }
    try {
      const reg = await navigator.serviceWorker.ready;
      let sub = await reg.pushManager.getSubscription();
      if (sub && !sameKey(sub)) { await sub.unsubscribe(); sub = null; }
      sub = sub || await reg.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: b64urlToBuffer(box.dataset.vapidKey) });
      await save(sub.toJSON(), (document.getElementById("push-label") || {}).value || "");
      say("Enabled");
      window.location.reload();
    } catch (err) {
      box.dataset.pushError = String(err);
      say("Failed");
    }
  };
  if (!supported) say("Unsupported");
  else {
    button.hidden = false;
    status.textContent = "";
    if (Notification.permission === "denied") say("Denied");
    button.addEventListener("click", enable);
  }
  return { save, enable };
})();
window.acornPush = acornPush;

// Signing out stops alerts to this device: the logout form carries this browser's push
// endpoint (the server deletes that device of the user) and the browser unsubscribes.
const pushEndpointForSignOut = async () => {
  if (!("serviceWorker" in navigator)) return null;
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = reg && reg.pushManager ? await reg.pushManager.getSubscription() : null;
  if (!sub) return null;
  const endpoint = sub.endpoint;
  try { await sub.unsubscribe(); } catch (err) { /* the server still forgets it */ }
  return endpoint;
};
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches || !form.matches("form[action$='/logout']") || form.dataset.pushChecked) return;
  event.preventDefault();
  form.dataset.pushChecked = "1";
  const giveUp = new Promise((resolve) => setTimeout(() => resolve(null), 1500));
  Promise.race([pushEndpointForSignOut().catch(() => null), giveUp]).then((endpoint) => {
    if (endpoint) {
      const input = document.createElement("input");
      input.type = "hidden"; input.name = "push_endpoint"; input.value = endpoint;
      form.appendChild(input);
    }
    form.submit();
  });
});

// --- Purchase orders (issue 5): live countdowns, answer status, offline answers. -------------
// The server picks each deadline's colour; this only keeps the text and colour current.
const refreshCountdowns = () => {
  document.querySelectorAll("[data-due]").forEach((el) => {
    const left = Date.parse(el.dataset.due) - Date.now();
    const mins = Math.floor(Math.abs(left) / 60000);
    const band = left <= 0 ? "overdue" : left < 3600e3 ? "urgent" : left < 6 * 3600e3 ? "soon" : "ok";
    const fmt = left <= 0 ? el.dataset.fmtOverdue : el.dataset.fmtLeft;
    if (fmt) el.textContent = fmt.replace("{h}", Math.floor(mins / 60)).replace("{m}", mins % 60);
    el.className = el.className.replace(/band-\w+/, `band-${band}`);
  });
};
if (document.querySelector("[data-due]")) setInterval(refreshCountdowns, 30000);

const offlineNote = document.querySelector("[data-offline-note]");
// data-from-cache: the service worker served this page from its cache (network down or slow).
const showOnline = () => {
  if (offlineNote) offlineNote.hidden = navigator.onLine && !offlineNote.hasAttribute("data-from-cache");
};
window.addEventListener("offline", showOnline);
showOnline();

const poBox = document.querySelector("[data-po-detail]");
const queueStatus = document.querySelector("[data-queue-status]");
const showQueueState = (state, reason) => {
  if (!queueStatus) return;
  const key = `msg${state.charAt(0).toUpperCase()}${state.slice(1)}`;
  queueStatus.textContent = `${queueStatus.dataset[key] || state}${reason ? ` ${reason}` : ""}`;
  queueStatus.dataset.state = state;
  queueStatus.className = `flash ${["failed", "refused"].includes(state) ? "flash-error" : "flash-info"}`;
  queueStatus.hidden = false;
};

// Read an answer form into Amazon-shaped items (what the API takes).
const itemsFromForm = (form) => {
  const whole = !form.hasAttribute("data-lines-form");
  const lines = document.querySelectorAll("[data-line]:not([data-cancelled])");
  return Array.from(lines, (li) => {
    const seq = li.dataset.line;
    const field = (name) => (document.querySelector(`[name="${name}-${seq}"]${name === "code" ? ":checked" : ""}`) || {}).value;
    const code = whole ? "Accepted" : field("code") || "Accepted";
    const amount = code === "Rejected" || whole ? Number(li.dataset.qty) : Number(field("qty"));
    const item = { itemSequenceNumber: seq, acknowledgementCode: code,
      acknowledgedQuantity: { amount, unitOfMeasure: li.dataset.uom } };
    if (code === "Rejected") item.rejectionReason = field("reason");
    if (code === "Backordered" && field("date")) item.scheduledShipDate = field("date");
    return item;
  });
};

const newKey = () => (self.crypto && crypto.randomUUID ? crypto.randomUUID()
  : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

const replayQueue = async () => {
  if (!self.AckQueue) return;
  await AckQueue.replay();
  renderQueue();
  renderQueueSummary();
};

// Issue 9: the inbox counts answers still waiting in the offline queue.
const renderQueueSummary = async () => {
  const box = document.querySelector("[data-queue-summary]");
  if (!box || !self.AckQueue) return;
  const waiting = (await AckQueue.all()).filter((e) => e.state === "queued").length;
  box.textContent = box.dataset.msgQueued.replace("{n}", waiting);
  box.hidden = waiting === 0;
};

const askBackgroundSync = async () => {
  try {
    const reg = await navigator.serviceWorker.ready;
    if (reg.sync) await reg.sync.register("acorn-acks");
  } catch (err) { /* no Background Sync: the next start or the online event replays */ }
};

// Offline, an answer is saved in IndexedDB with its idempotency key and the PO version.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-ack-form]");
  if (!form || navigator.onLine || !self.AckQueue || event.defaultPrevented) return;
  event.preventDefault();
  await AckQueue.add({
    po: poBox.dataset.poDetail, url: form.dataset.api, key: newKey(), csrf: csrfToken(),
    body: { items: itemsFromForm(form), poVersion: form.dataset.version, confirmRisks: false },
  });
  showQueueState("queued");
  askBackgroundSync();
});

// The newest offline answer of this PO, and the server's view once it was sent.
const renderQueue = async () => {
  if (!poBox || !self.AckQueue) return;
  const mine = (await AckQueue.all()).filter((e) => e.po === poBox.dataset.poDetail);
  const last = mine[mine.length - 1];
  if (!last) return;
  if (last.state === "sent" && navigator.onLine) {
    try {
      const res = await fetch(poBox.dataset.statusUrl, { credentials: "same-origin" });
      const state = (await res.json()).acknowledgementState;
      if (["accepted", "failed", "mismatch"].includes(state)) {
        last.state = state === "mismatch" ? "failed" : state;
        await AckQueue.put(last);
      }
    } catch (err) { /* offline again: show what we know */ }
  }
  showQueueState(last.state, last.state === "refused" ? last.reason : "");
  if (last.state === "sent") setTimeout(renderQueue, 2000);
};

// An answer sent online shows pending until Amazon answers; then the page shows the outcome.
const pendingLabel = document.querySelector("[data-po-detail] [data-ack-state='pending']");
if (poBox && pendingLabel) {
  const poll = async () => {
    try {
      const res = await fetch(poBox.dataset.statusUrl, { credentials: "same-origin" });
      if ((await res.json()).acknowledgementState !== "pending") { window.location.reload(); return; }
    } catch (err) { /* offline: try again */ }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}

window.addEventListener("online", () => { showOnline(); replayQueue(); });
if (navigator.onLine) replayQueue(); // "on next start" where Background Sync is missing
else { renderQueue(); renderQueueSummary(); }

// After sign-out, answers saved offline belong to nobody: drop them with the caches.
if (document.querySelector("[data-signed-out]") && self.AckQueue) AckQueue.clear().catch(() => {});
