"""The PWA shell in a real browser: start page, manifest, active service worker."""

import pytest

pytestmark = pytest.mark.e2e


def test_start_page_has_manifest_and_active_service_worker(live_server, page):
    page.goto(live_server.url + "/")
    assert page.locator("nav.bottom-nav a").count() == 5  # + Invoices, Shipments
    manifest_href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(live_server.url + manifest_href)
    assert manifest.ok and manifest.json()["display"] == "standalone"
    state = page.evaluate(
        """async () => {
            const reg = await navigator.serviceWorker.ready;
            return {active: reg.active && reg.active.state, scope: reg.scope};
        }"""
    )
    assert state["active"] in ("activated", "activating")
    assert state["scope"] == live_server.url + "/"


def test_offline_page_served_by_service_worker_when_network_is_down(live_server, page, context):
    page.goto(live_server.url + "/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()  # now controlled by the service worker
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.goto(live_server.url + "/some/page/not/cached")
    assert page.locator("h1").inner_text() == "You are offline"
