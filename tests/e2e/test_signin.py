"""Sign-in in Chromium on a phone-sized screen: invite -> password -> TOTP -> orders; passkey."""

from __future__ import annotations

import pyotp
import pytest

from tests.auth_helpers import PASSWORD, make_user, make_vendor
from webapp.auth import services
from webapp.extensions import db

pytestmark = pytest.mark.e2e


def test_invite_password_totp_lands_on_orders(live_server, page, app):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    _invite, link = services.invite_user(vendor, "li.wei@acme.cn", "manager")
    db.session.commit()
    page.goto(live_server.url + "/invite/" + link.rsplit("/", 1)[1])
    assert page.viewport_size["width"] == 390
    page.fill("#password", "jade-river-41-lantern")
    page.fill("#confirm", "jade-river-41-lantern")
    page.click("#submit")
    page.wait_for_url("**/enrol")
    qr = page.locator(".qr img")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.bounding_box()["width"] <= 390
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    assert page.locator("[data-recovery-codes] li").count() == 10
    page.click("text=I have saved them, continue")
    page.wait_for_url("**/orders")
    assert page.locator("h1").inner_text() == "Open purchase orders"
    # No horizontal scrolling on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Sign out from the top bar: back to a signed-out page, the orders page needs sign-in again.
    page.click("form.signout button")
    page.wait_for_selector("[data-signed-out]")
    page.goto(live_server.url + "/orders")
    assert "/login" in page.url


def test_sign_in_with_password_then_code(live_server, page, app):
    user, secret = make_user()
    page.goto(live_server.url + "/orders")
    page.wait_for_url("**/login**")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/login/code")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    page.wait_for_url("**/orders")


def test_passkey_as_second_factor_with_a_virtual_authenticator(browser, app):
    """Register a passkey in Settings, then use it instead of the code (WebAuthn in Chromium)."""
    from tests.e2e.conftest import PHONE, LiveServer

    with LiveServer(app) as server:
        port = server.server.server_port
        base = f"http://localhost:{port}"  # WebAuthn needs a domain, not an IP address
        app.config["PUBLIC_URL"] = base
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.set_default_timeout(15_000)
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True}})
        user, secret = make_user()
        page.goto(base + "/login")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("#submit")
        page.wait_for_url("**/orders")
        page.goto(base + "/settings/security")
        page.click("[data-action=passkey-register]")
        page.wait_for_selector("text=added")
        page.click("form.signout button")
        page.wait_for_selector("[data-signed-out]")
        page.goto(base + "/login")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url("**/login/code")
        page.click("[data-action=passkey-login]")
        page.wait_for_url("**/orders")
        context.close()
