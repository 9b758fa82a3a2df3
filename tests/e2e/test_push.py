"""Alerts in Chromium: subscribe from Settings, receive a push, see it, tap it, land on the PO.

Headless Chromium has no connection to a real push service (FCM) here, so
`pushManager.subscribe()` may fail; the test then records why and saves a subscription of the
local push service through the page's own saving code (`acornPush.save`), as the page would.
Either way the alert goes through ACORN's real pipeline to the local push service, which
decrypts it; those exact bytes are then handed to the service worker with DevTools'
`ServiceWorker.deliverPushMessage`.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from tests.auth_helpers import PASSWORD, make_user, make_vendor, totp_code
from tests.push_service import PushService, make_po
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.push import delivery, services
from webapp.push.models import PushSubscription
from webapp.push.vapid import vapid_keys

pytestmark = pytest.mark.e2e


def browser_sign_in(page, base: str, user, secret: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/login/code*")
    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def poll(page, expression: str, timeout: float = 15) -> object:
    """Evaluate `expression` until truthy (wait_for_function's eval is blocked by our CSP)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value or time.monotonic() > deadline:
            assert value, f"timed out waiting for {expression}"
            return value
        time.sleep(0.1)


def sw_registration_id(cdp, base: str) -> str:
    found: dict = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.update(
        {r["scopeURL"]: r["registrationId"] for r in e["registrations"]}))
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if base + "/" in found:
            return found[base + "/"]
        cdp.send("Runtime.evaluate", {"expression": "1"})  # let events arrive
    raise AssertionError(f"no service worker registration for {base}: {found}")


def test_subscribe_push_notification_and_click_lands_on_po(app, live_server, context, page):
    base = live_server.url
    vendor = make_vendor("Pine Foods")
    user, secret = make_user(vendor, role="manager")
    context.grant_permissions(["notifications"], origin=base)
    browser_sign_in(page, base, user, secret)

    page.goto(base + "/settings/notifications")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()  # controlled by the service worker from here on
    poll(page, "() => navigator.serviceWorker.controller !== null")
    assert page.locator("[data-action=push-enable]").is_visible()
    page.fill("#push-label", "Test phone")
    page.click("[data-action=push-enable]")
    poll(page, "() => ['enabled', 'failed', 'denied'].includes("
               "document.querySelector('#push-status')?.dataset.state)", timeout=30)
    state = page.evaluate("document.querySelector('#push-status')?.dataset.state")
    db.session.expire_all()
    real = db.session.scalar(select(PushSubscription).where(PushSubscription.user_id == user.id))

    with PushService(expected_vapid_key=vapid_keys(app).public_key) as service:
        if real is None:
            # No reachable push service for Chromium here: note why, then save a local one
            # with the page's own code path.
            error = page.evaluate("document.getElementById('push-device').dataset.pushError")
            assert state in ("failed", "enabled"), state
            print(f"pushManager.subscribe() unavailable in headless Chromium: {error}")
            page.goto(base + "/settings/notifications")
            saved = page.evaluate("(s) => window.acornPush.save(s, 'Test phone')",
                                  service.new_subscription())
            assert saved["label"] == "Test phone"
        else:
            assert state == "enabled"
        page.goto(base + "/settings/notifications")
        assert "Test phone" in page.locator("#push-devices").inner_text()

        # Sync found a new PO: the event goes through the real pipeline.
        po = make_po(vendor, "7QX4PINE", due_in_hours=18, warehouse="SEA8")
        raise_event(vendor.id, "po.new", po.po_number, purchase_order_id=po.id)
        db.session.commit()
        services.alerts_from_events()
        ids = services.dispatch_due_alerts()
        delivery.deliver_batch(ids)
        if real is None:
            [message] = service.delivered()
            payload = message.payload
        else:  # the real service got it; hand the same payload to the worker ourselves
            from webapp.push.models import Alert

            payload = delivery.alert_payload(db.session.scalars(select(Alert)).one())
        assert payload["po_number"] == "7QX4PINE"

    cdp = context.new_cdp_session(page)
    registration_id = sw_registration_id(cdp, base)
    shown_count = """async () => (
        await (await navigator.serviceWorker.ready).getNotifications()).length"""
    for attempt in range(3):
        # DevTools stands in for the push service here. Once in CI a loaded machine's
        # Chromium dropped the first delivery while waking the worker; a real push service
        # redelivers too. Same payload, same tag: a redelivery replaces, never adds.
        cdp.send("ServiceWorker.deliverPushMessage", {
            "origin": base, "registrationId": registration_id, "data": json.dumps(payload)})
        deadline = time.monotonic() + 10
        while not page.evaluate(shown_count) and time.monotonic() < deadline:
            time.sleep(0.1)
        if page.evaluate(shown_count):
            break
        print(f"delivery {attempt + 1}: no notification after 10 s, delivering again")
    assert page.evaluate(shown_count) == 1
    shown = page.evaluate("""async () => {
        const [n] = await (await navigator.serviceWorker.ready).getNotifications();
        return {title: n.title, body: n.body, tag: n.tag, data: n.data,
                actions: n.actions.map((a) => a.action)};
    }""")
    assert "7QX4PINE" in shown["title"]
    assert "SEA8" in shown["body"]
    assert shown["data"]["warehouse"] == "SEA8" and shown["data"]["deadline"]
    assert shown["actions"] == ["open", "accept-all"]  # a manager may acknowledge

    # Tap it: DevTools cannot click a system notification, so the worker receives the same
    # notificationclick event a tap fires.
    page.goto(base + "/settings")
    [worker] = context.service_workers
    worker.evaluate("""async () => {
        const [n] = await self.registration.getNotifications();
        self.dispatchEvent(new NotificationEvent("notificationclick", {notification: n}));
    }""")
    page.wait_for_url("**/orders/7QX4PINE", timeout=15_000)
    assert page.url == base + "/orders/7QX4PINE"

    # Sign out from the top bar: app.js holds the form, looks up this browser's push
    # subscription, adds its endpoint and submits; the server deletes that device.
    db.session.expire_all()
    [device] = db.session.scalars(select(PushSubscription)
                                  .where(PushSubscription.user_id == user.id)).all()
    page.goto(base + "/settings")
    if real is None:
        # Headless Chromium holds no subscription: hand the page the one saved above.
        page.evaluate("""(endpoint) => {
            const sub = {endpoint, unsubscribe: async () => true};
            navigator.serviceWorker.getRegistration = async () => (
                {pushManager: {getSubscription: async () => sub}});
        }""", device.endpoint)
    page.click("form.signout button[type=submit]")
    page.wait_for_url("**/logout")
    db.session.expire_all()
    assert db.session.scalars(select(PushSubscription)
                              .where(PushSubscription.user_id == user.id)).all() == []
    page.goto(base + "/settings")
    assert "/login" in page.url  # and the session is gone
