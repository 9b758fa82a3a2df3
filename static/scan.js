// Loading check: read carton labels live with the camera where the browser has BarcodeDetector.
// Without it (or without a camera) the page's plain forms still work: type the SSCC or post a
// photo, which the server decodes. Loaded only on the scan page.
(function () {
  "use strict";
  const box = document.querySelector("[data-scanner]");
  const form = document.querySelector("[data-scan-form]");
  if (!box || !form) return;
  const video = box.querySelector("[data-scan-video]");
  const result = box.querySelector("[data-scan-result]");
  const progress = document.querySelector("[data-scan-progress]");
  const seen = new Set();
  box.hidden = false;
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    result.textContent = box.dataset.msgUnsupported;
    box.querySelector("[data-action=start-camera]").hidden = true;
    return;
  }

  // "(00)" + 18 digits, or the bare 18 digits a GS1-128 decoder may return after FNC1.
  function ssccOf(raw) {
    const digits = (raw || "").replace(/[^0-9]/g, "");
    if (digits.length === 20 && digits.startsWith("00")) return digits.slice(2);
    return digits.length === 18 ? digits : null;
  }

  async function send(code) {
    const data = new FormData();
    data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    data.append("code", code);
    const response = await fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (!response.ok) {
      result.textContent = body.error || "";
      return;
    }
    for (const o of body.outcomes) {
      result.textContent = o.message;
      const row = document.querySelector(`[data-carton="${o.sscc}"]`);
      if (row && (o.outcome === "carton" || o.outcome === "pallet")) {
        row.dataset.loaded = "";
        const state = row.lastElementChild;
        state.className = "ack ack-accepted";
      }
      if (o.outcome === "extra" && navigator.vibrate) navigator.vibrate([200, 100, 200]);
    }
    if (progress) progress.dataset.missing = body.missing;
  }

  async function start() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (err) {
      result.textContent = box.dataset.msgDenied;
      return;
    }
    video.srcObject = stream;
    await video.play();
    const detector = new BarcodeDetector({ formats: ["code_128", "data_matrix", "qr_code"] });
    async function frame() {
      try {
        for (const found of await detector.detect(video)) {
          const code = ssccOf(found.rawValue);
          if (code && !seen.has(code)) {
            seen.add(code);
            await send(code);
          }
        }
      } catch (err) {
        // A frame that cannot be read yet (camera warming up): try the next one.
      }
      setTimeout(frame, 250);
    }
    frame();
  }

  box.querySelector("[data-action=start-camera]").addEventListener("click", start);
})();
