"""The installable, offline PWA in Chromium: installability, offline pages, per-user caches."""

from __future__ import annotations

import re
import time

import pytest

from tests.auth_helpers import make_vendor
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.e2e.pwa_helpers import add_user, seed, sign_in_context
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder

pytestmark = pytest.mark.e2e

CACHE_NAMES = "async () => (await caches.keys()).sort()"


def _controlled(page, url: str) -> None:
    """Open `url` and make sure the service worker controls the page from now on."""
    page.goto(url)
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")


def test_chromium_reports_no_installability_errors(live_server, playwright_instance, tmp_path):
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        _controlled(page, live_server.url + "/")
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors")
    finally:
        context.close()


def test_manifest_names_icons_screenshots_and_shortcuts_that_exist(live_server, page):
    page.goto(live_server.url + "/")
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(live_server.url + href).json()
    for field in ("id", "name", "short_name", "start_url", "scope", "theme_color",
                  "background_color"):
        assert manifest[field]
    assert manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    assert any(s.get("form_factor") == "narrow" for s in manifest["screenshots"])
    for item in manifest["icons"] + manifest["screenshots"]:
        response = page.request.get(live_server.url + item["src"])
        assert response.ok and response.headers["content-type"] == "image/png", item["src"]
    shortcuts = {s["name"]: s["url"] for s in manifest["shortcuts"]}
    assert shortcuts == {"Orders": "/orders", "Scan invoice": "/invoices/capture"}


def test_inbox_pos_and_dashboards_open_offline_marked_with_their_time(live_server, app, context,
                                                                      page):
    seeded = seed()
    user = add_user(seeded.vendor_id, "offline@demo-trading.example", role="manager")
    po = db.session.query(PurchaseOrder).filter_by(vendor_id=seeded.vendor_id, state="New") \
        .order_by(PurchaseOrder.id.desc()).first()
    base = live_server.url
    sign_in_context(app, context, base, user)
    _controlled(page, base + "/orders")
    visited = ["/orders", f"/orders/{po.po_number}", "/dashboards", "/dashboards/otif"]
    headings = {}
    for path in visited:
        page.goto(base + path)
        assert page.locator("[data-offline-note]").is_hidden()  # online: no note
        headings[path] = page.locator("h1").inner_text()

    context.set_offline(True)
    for path in visited:
        page.goto(base + path)
        assert page.locator("h1").inner_text() == headings[path], path
        note = page.locator("[data-offline-note]")
        assert note.is_visible(), path
        assert re.search(r"Offline, as of \d{1,2}:\d{2}", note.inner_text()), note.inner_text()
    # A PO opened online takes an answer offline: it waits in the queue and says so.
    page.goto(f"{base}/orders/{po.po_number}")
    page.click("[data-action=accept-all]")
    page.wait_for_selector("[data-queue-status][data-state=queued]")
    page.goto(base + "/orders")  # the cached inbox counts the answer still waiting
    summary = page.locator("[data-queue-summary]")
    summary.wait_for()
    assert summary.inner_text().endswith(": 1")
    # A page never opened online is the offline page, not someone else's content.
    page.goto(base + "/dashboards/sales")
    assert page.locator("h1").inner_text() == "You are offline"


def test_pages_are_cached_per_user_and_dropped_at_sign_out(live_server, app, context, page):
    seeded = seed()
    alice = add_user(seeded.vendor_id, "alice@demo-trading.example")
    other = make_vendor("Other Vendor Ltd")
    bob = add_user(other.id, "bob@othervendor.cn")
    base = live_server.url
    sign_in_context(app, context, base, alice)
    _controlled(page, base + "/orders")
    page.goto(base + "/orders")
    alice_caches = [n for n in page.evaluate(CACHE_NAMES) if n.startswith("acorn-pages-")]
    assert len(alice_caches) == 1

    # Bob signs in on the same phone without Alice signing out (her session simply ended).
    context.clear_cookies()
    sign_in_context(app, context, base, bob)
    page.goto(base + "/orders")
    page.wait_for_function(
        """(alice) => caches.keys().then((names) => !names.includes(alice)
              && names.some((n) => n.startsWith("acorn-pages-")))""", arg=alice_caches[0])
    context.set_offline(True)
    page.goto(base + "/orders")
    assert "bob@othervendor.cn" in page.content()
    assert "alice@demo-trading.example" not in page.content()
    context.set_offline(False)

    page.goto(base + "/orders")
    page.click("form.signout button[type=submit]")
    page.wait_for_selector("[data-signed-out]")
    # Clear-Site-Data may have unregistered the worker: the signed-out page registers it again.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        """() => caches.keys().then((names) => names.every((n) => n.startsWith("acorn-shell-")))""")
    context.set_offline(True)
    page.goto(base + "/orders")
    assert page.locator("h1").inner_text() == "You are offline"
    assert "bob@othervendor.cn" not in page.content()


def test_a_slow_network_shows_the_cached_page_after_the_timeout(live_server, app, context, page):
    seeded = seed()
    user = add_user(seeded.vendor_id, "slow@demo-trading.example", role="viewer")
    slow = {"on": False}

    @app.before_request
    def _patchy_mobile_data():
        if slow["on"]:
            time.sleep(6)  # longer than the service worker's 4 s network timeout

    base = live_server.url
    sign_in_context(app, context, base, user)
    _controlled(page, base + "/dashboards")
    page.goto(base + "/dashboards")
    assert page.locator("[data-offline-note]").is_hidden()
    slow["on"] = True
    try:
        started = time.monotonic()
        page.goto(base + "/dashboards")
        waited = time.monotonic() - started
        assert page.evaluate("navigator.onLine")  # online, only slow
        assert page.locator("[data-offline-note]").is_visible()
        assert waited < 5.5, waited
    finally:
        slow["on"] = False
