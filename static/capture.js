// Invoice capture (issue 7): pages from the camera, gallery or a PDF; preview, retake, reorder,
// downscale in the browser, upload with progress, wait for OCR, open the prefilled form.
// Made offline, the pages wait in IndexedDB (UploadQueue below, shared with the service worker)
// and are uploaded once when the connection returns. Without JavaScript the form posts as is.
"use strict";

// --- The offline upload queue: usable from a page and from the service worker. ---------------
self.UploadQueue = (() => {
  // entry: {key, url, csrf, po, pages: [{blob, name}], sent: pages uploaded, photoIds, state}
  const store = self.IdbQueueStore("acorn-uploads", "uploads");
  const { all, put, remove, clear } = store;
  const add = (entry) => store.add({ sent: 0, photoIds: [], ...entry });

  // One page per request, each with its own Idempotency-Key: a replay resumes after the last
  // page the server took, and a page the server took twice is answered from its first time.
  const sendPage = async (entry, index) => {
    const page = entry.pages[index];
    const body = new FormData();
    body.append("file", page.blob, page.name);
    if (entry.po) body.append("purchaseOrderNumber", entry.po);
    let res;
    try {
      res = await fetch(entry.url, {
        method: "POST", credentials: "same-origin", body,
        headers: { "Idempotency-Key": `${entry.key}-${index}`, "X-CSRFToken": entry.csrf },
      });
    } catch (err) { return "offline"; }
    let answer = {};
    try { answer = await res.json(); } catch (err) { answer = {}; }
    if (res.status === 201 || res.status === 200) {
      entry.photoIds = entry.photoIds.concat((answer.photos || []).map((p) => p.id));
      entry.sent = index + 1;
      return "ok";
    }
    if (res.status >= 400 && res.status < 500 && ![401, 408, 409, 429].includes(res.status)) {
      entry.reason = (answer.error || {}).message || String(res.status); // too large, not an image
      return "refused";
    }
    entry.lastStatus = res.status; // signed out or server trouble: try again later
    return "later";
  };

  const replayAll = async () => {
    for (const entry of (await all()).filter((e) => e.state === "queued" || e.state === "sending")) {
      while (entry.sent < entry.pages.length) {
        const outcome = await sendPage(entry, entry.sent);
        if (outcome === "offline" || outcome === "later") { await put(entry); return; }
        if (outcome === "refused") { entry.state = "refused"; break; }
        entry.state = "sending";
        await put(entry); // progress is saved page by page: nothing is uploaded twice
      }
      if (entry.state !== "refused") entry.state = "uploaded";
      entry.pages = []; // the server has them (or refused them): free the phone's storage
      entry.doneAt = Date.now();
      await put(entry);
    }
  };

  // The page and the service worker may both replay; a Web Lock lets only one run at a time.
  let running = null;
  const replay = () => running || (running = (async () => {
    try {
      if (self.navigator && navigator.locks) await navigator.locks.request("acorn-uploads", replayAll);
      else await replayAll();
    } finally { running = null; }
  })());

  return { add, all, put, remove, clear, replay };
})();

// --- The capture page. -----------------------------------------------------------------------
if (typeof document !== "undefined") (() => {
  const form = document.querySelector("[data-capture]");
  if (!form) return;
  const msg = (name, n) => (form.dataset[`msg${name.charAt(0).toUpperCase()}${name.slice(1)}`] || name)
    .replace("{n}", n);
  const list = form.querySelector("[data-pages]");
  const progress = form.querySelector("[data-progress]");
  const status = form.querySelector("[data-capture-status]");
  const queuedBox = form.querySelector("[data-queued-uploads]");
  const startForm = document.querySelector("[data-start-form]");
  const csrf = form.querySelector("input[name=csrf_token]").value;
  const po = (form.querySelector("input[name=po]") || {}).value || "";
  const maxPages = Number(form.dataset.maxPages) || 20;
  const LONG_SIDE = 2000;
  const QUALITY = 0.85;
  let pages = []; // {file, url}
  let busy = false;

  form.classList.add("js"); // the raw file inputs hide behind their labels
  const say = (state, extra) => {
    status.textContent = `${msg(state)}${extra ? ` ${extra}` : ""}`;
    status.dataset.state = state;
    status.className = `flash ${["failed", "refused"].includes(state) ? "flash-error" : "flash-info"}`;
    status.hidden = false;
  };

  const button = (label, aria, action, disabled) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button small";
    b.textContent = label;
    b.dataset.pageAction = action;
    if (aria) b.setAttribute("aria-label", aria);
    b.disabled = !!disabled;
    return b;
  };

  const render = () => {
    list.textContent = "";
    pages.forEach((page, i) => {
      const n = i + 1;
      const li = document.createElement("li");
      li.className = "page-item";
      li.dataset.page = String(n);
      if (!page.url) {
        const tag = document.createElement("span");
        tag.className = "thumb thumb-empty pdf";
        tag.textContent = page.file.type === "application/pdf" ? msg("pdf") : msg("page", n);
        li.append(tag);
      } else {
        const img = document.createElement("img");
        img.className = "thumb";
        img.src = page.url;
        img.alt = msg("page", n);
        li.append(img);
      }
      const label = document.createElement("span");
      label.textContent = msg("page", n);
      const tools = document.createElement("span");
      tools.className = "page-tools";
      tools.append(
        button("↑", msg("up", n), "up", i === 0),
        button("↓", msg("down", n), "down", i === pages.length - 1),
        button(msg("retake"), msg("retakeLabel", n), "retake"),
        button(msg("remove"), msg("removeLabel", n), "remove"),
      );
      li.append(label, tools);
      list.append(li);
    });
    form.dataset.pageCount = String(pages.length);
  };

  // Previews are small data: URLs (the page's CSP allows data: images, not blob: ones).
  const preview = async (file) => {
    if (!file.type.startsWith("image/") || !self.createImageBitmap) return "";
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, 160 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return canvas.toDataURL("image/jpeg", 0.7);
    } catch (err) { return ""; }
  };

  const addFiles = async (files, at) => {
    const chosen = Array.from(files).filter((f) => f.type.startsWith("image/") || f.type === "application/pdf");
    const fresh = await Promise.all(chosen.map(async (file) => ({ file, url: await preview(file) })));
    if (at === undefined) pages = pages.concat(fresh).slice(0, maxPages);
    else if (fresh.length) pages.splice(at, 1, fresh[0]);
    render();
  };

  form.querySelectorAll("input[type=file]").forEach((input) => {
    input.addEventListener("change", async () => { await addFiles(input.files); input.value = ""; });
  });

  // Retake: a fresh camera input for one page; its photo replaces that page.
  const retake = (index) => {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "image/*";
    input.setAttribute("capture", "environment");
    input.hidden = true;
    input.dataset.retake = String(index + 1);
    input.addEventListener("change", () => { addFiles(input.files, index); input.remove(); });
    form.append(input);
    input.click();
  };

  list.addEventListener("click", (event) => {
    const b = event.target.closest("[data-page-action]");
    if (!b) return;
    const i = Number(b.closest("[data-page]").dataset.page) - 1;
    const action = b.dataset.pageAction;
    if (action === "up" && i > 0) [pages[i - 1], pages[i]] = [pages[i], pages[i - 1]];
    else if (action === "down" && i < pages.length - 1) [pages[i + 1], pages[i]] = [pages[i], pages[i + 1]];
    else if (action === "remove") pages.splice(i, 1);
    else if (action === "retake") { retake(i); return; }
    render();
    // Keep focus on the moved page's same button, so keyboard and screen-reader users follow it.
    const to = action === "up" ? i - 1 : action === "down" ? i + 1 : Math.min(i, pages.length - 1);
    const item = list.querySelector(`[data-page="${to + 1}"]`);
    if (!item) { form.querySelector("[data-camera]").focus(); return; }
    const same = item.querySelector(`[data-page-action="${action}"]`);
    (same && !same.disabled ? same : item.querySelector("[data-page-action]:not(:disabled)")).focus();
  });

  // Downscale to a long side of about 2000 px as JPEG: a 12 MP photo becomes a few hundred KB,
  // and re-encoding drops EXIF (GPS) before anything leaves the phone. PDFs go as they are.
  const downscale = async (file) => {
    if (!file.type.startsWith("image/") || !self.createImageBitmap) return file;
    let bitmap;
    try { bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }); } catch (err) { return file; }
    const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
    if (!blob || (scale === 1 && blob.size >= file.size && file.type === "image/jpeg")) return file;
    return new File([blob], (file.name || "page").replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
  };

  const newKey = () => (self.crypto && crypto.randomUUID ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

  // One XHR per page (for upload progress); resolves with the photo ids, or rejects.
  const uploadPage = (entry, index, onProgress) => new Promise((resolve, reject) => {
    const page = entry.pages[index];
    const body = new FormData();
    body.append("file", page.blob, page.name);
    if (entry.po) body.append("purchaseOrderNumber", entry.po);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", entry.url);
    xhr.setRequestHeader("X-CSRFToken", entry.csrf);
    xhr.setRequestHeader("Idempotency-Key", `${entry.key}-${index}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded); };
    xhr.onload = () => {
      if (xhr.status === 201 || xhr.status === 200) resolve((xhr.response.photos || []).map((p) => p.id));
      else reject({ status: xhr.status, message: ((xhr.response || {}).error || {}).message });
    };
    xhr.onerror = () => reject({ status: 0 });
    xhr.send(body);
  });

  const askBackgroundSync = async () => {
    try {
      const reg = await navigator.serviceWorker.ready;
      if (reg.sync) await reg.sync.register("acorn-uploads");
    } catch (err) { /* no Background Sync: the online event or the next visit replays */ }
  };

  const queueEntry = async (entry) => {
    await UploadQueue.add(entry);
    say("queued");
    pages = [];
    render();
    askBackgroundSync();
    renderQueued();
  };

  const waitForReading = async (ids) => {
    const url = (id) => form.dataset.photoUrl.replace(/0$/, String(id));
    const deadline = Date.now() + 120000; // after that the form opens with what was read
    let open = ids.slice();
    while (open.length && Date.now() < deadline) {
      const states = await Promise.all(open.map(async (id) => {
        try { return (await (await fetch(url(id), { credentials: "same-origin" })).json()).ocrState; }
        catch (err) { return "queued"; }
      }));
      open = open.filter((id, i) => ["queued", "running"].includes(states[i]));
      if (open.length) await new Promise((r) => setTimeout(r, 1000));
    }
  };

  // Open the draft (or the PO choice when no PO was given) with the pages in their order.
  const start = (ids) => {
    ids.forEach((id) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "photo";
      input.value = String(id);
      startForm.append(input);
    });
    startForm.submit();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    if (!pages.length) { say("none"); return; }
    busy = true;
    form.setAttribute("aria-busy", "true");
    try {
      say("preparing");
      const prepared = [];
      for (const page of pages) {
        const file = await downscale(page.file);
        prepared.push({ blob: file, name: file.name || "page" });
      }
      const entry = { key: newKey(), url: form.dataset.uploadUrl, csrf, po, pages: prepared, sent: 0, photoIds: [] };
      if (!navigator.onLine) { await queueEntry(entry); return; }
      const total = prepared.reduce((sum, p) => sum + p.blob.size, 0) || 1;
      let done = 0;
      progress.hidden = false;
      progress.value = 0;
      say("uploading");
      for (let i = 0; i < prepared.length; i += 1) {
        try {
          const ids = await uploadPage(entry, i, (loaded) => { progress.value = Math.round(((done + loaded) / total) * 100); });
          entry.photoIds = entry.photoIds.concat(ids);
          entry.sent = i + 1;
          done += prepared[i].blob.size;
          progress.value = Math.round((done / total) * 100);
        } catch (err) {
          progress.hidden = true;
          if (err.status === 0 || err.status >= 500 || [401, 408, 429].includes(err.status)) { await queueEntry(entry); return; }
          say("refused", err.message || String(err.status));
          return;
        }
      }
      say("reading");
      await waitForReading(entry.photoIds);
      start(entry.photoIds);
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
    }
  });

  // Uploads saved on this phone: their state, and "Continue" once they are on the server.
  const renderQueued = async () => {
    const entries = await UploadQueue.all();
    queuedBox.textContent = "";
    queuedBox.hidden = !entries.length;
    entries.forEach((entry) => {
      const li = document.createElement("li");
      li.dataset.queuedUpload = entry.state;
      const text = document.createElement("span");
      text.textContent = `${msg(entry.state === "sending" ? "sending" : entry.state)}${entry.state === "refused" ? ` ${entry.reason || ""}` : ""}`;
      li.append(text);
      if (entry.state === "uploaded" && entry.photoIds.length) {
        const go = button(msg("continue"), null, "continue");
        go.className = "button small primary";
        go.addEventListener("click", async () => {
          await UploadQueue.remove(entry.id);
          if (entry.po) startForm.querySelector("input[name=po]").value = entry.po;
          start(entry.photoIds);
        });
        li.append(go);
      } else if (entry.state === "refused") {
        const drop = button(msg("remove"), null, "dismiss");
        drop.addEventListener("click", async () => { await UploadQueue.remove(entry.id); renderQueued(); });
        li.append(drop);
      }
      queuedBox.append(li);
    });
    const last = entries[entries.length - 1];
    if (last && !busy) say(last.state === "sending" ? "sending" : last.state, last.state === "refused" ? last.reason : "");
  };

  const replay = async () => {
    if (!navigator.onLine) return;
    await UploadQueue.replay();
    renderQueued();
  };
  window.addEventListener("online", replay);
  // The service worker may finish a replay while this page is open: look again now and then.
  setInterval(renderQueued, 3000);
  if (navigator.onLine) replay(); else renderQueued();
})();
