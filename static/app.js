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
