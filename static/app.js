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
