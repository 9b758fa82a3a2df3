"""Sessions: new id at every sign-in, server-side revocation, timeouts, other devices."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.auth_helpers import PASSWORD, make_user, post, sign_in, sign_out
from webapp.auth.models import UserSession
from webapp.db_types import utcnow
from webapp.extensions import db


def _cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def _sid(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("sid")


def test_session_id_changes_at_every_sign_in(app):
    client = app.test_client()
    user, secret = make_user()
    client.get("/login")
    before = _cookie(client)
    sign_in(client, user=user, secret=secret)
    first = _sid(client)
    assert first and _cookie(client) != before
    sign_out(client)
    sign_in(client, user=user, secret=secret)
    second = _sid(client)
    assert second and second != first
    print(f"\n[sessions] ids differ across sign-ins: {first[:6]}… -> {second[:6]}…")


def test_cookie_copied_before_logout_is_refused_after(app):
    client = app.test_client()
    sign_in(client)
    stolen = _cookie(client)
    assert client.get("/orders").status_code == 200
    response = post(client, "/logout", token_from="/logout")
    assert response.status_code == 200
    assert "cache" in response.headers["Clear-Site-Data"]
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    r = thief.get("/orders")
    assert r.status_code == 302 and "/login" in r.location


def test_password_change_ends_other_sessions(app):
    phone, laptop = app.test_client(), app.test_client()
    user = sign_in(phone)
    sign_in(laptop, user=user)
    new = "walnut-harbour-39-compass"
    r = post(phone, "/settings/password", {"current": PASSWORD, "password": new, "confirm": new},
             token_from="/settings/password")
    assert r.status_code == 302
    assert phone.get("/orders").status_code == 200
    assert laptop.get("/orders").status_code == 302


def test_sign_out_other_devices(app):
    phone, laptop = app.test_client(), app.test_client()
    user = sign_in(phone)
    sign_in(laptop, user=user)
    r = post(phone, "/settings/sessions/revoke-others", token_from="/settings/sessions")
    assert r.status_code == 302
    assert phone.get("/orders").status_code == 200
    assert laptop.get("/orders").status_code == 302


def test_idle_and_absolute_timeouts(app):
    client = app.test_client()
    sign_in(client)
    assert client.get("/orders").status_code == 200
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    assert client.get("/orders").status_code == 302

    client = app.test_client()
    sign_in(client)
    db.session.execute(update(UserSession).where(UserSession.revoked_at.is_(None)).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/orders").status_code == 302


def test_signed_in_home_redirects_to_orders_and_logout_get_changes_nothing(app):
    client = app.test_client()
    sign_in(client)
    assert client.get("/").location.endswith("/orders")
    assert client.get("/logout").status_code == 200  # a confirmation page, not a sign-out
    assert client.get("/orders").status_code == 200


def test_cookie_flags(app):
    client = app.test_client()
    sign_in(client)
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_NAME.startswith("__Host-")
    assert app.login_manager.session_protection is None  # no logout on Wi-Fi -> cellular


def test_activity_is_recorded_once_a_minute_and_keeps_the_session_alive(app):
    from webapp.auth.sessions import TOUCH_RESOLUTION

    client = app.test_client()
    sign_in(client)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    # Seen a little under the idle limit ago: this request records that it is seen now.
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle + timedelta(
        seconds=30)))
    db.session.commit()
    assert client.get("/orders").status_code == 200
    db.session.expire_all()
    seen = db.session.scalar(select(UserSession.last_seen_at))
    assert utcnow() - seen < timedelta(seconds=5)
    # Within TOUCH_RESOLUTION a page view writes nothing.
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - TOUCH_RESOLUTION / 2))
    db.session.commit()
    before = db.session.scalar(select(UserSession.last_seen_at))
    assert client.get("/orders").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(UserSession.last_seen_at)) == before


def test_pages_see_a_read_only_user_and_changes_go_through_the_orm_user(app):
    import dataclasses

    from flask_login import current_user

    from webapp.auth.models import User
    from webapp.auth.principal import SignedInUser, signed_in_user, signed_in_vendor
    from webapp.auth.sessions import _live_session_statement
    from webapp.vendors.models import Vendor

    client = app.test_client()
    user = sign_in(client)
    with app.test_request_context("/", headers={"Cookie": f"session={_cookie(client)}"}):
        light = current_user._get_current_object()
        orm, vendor = signed_in_user(), signed_in_vendor()
    assert isinstance(light, SignedInUser) and light.id == user.id
    assert (light.email, light.role, light.vendor_id) == (user.email, user.role, user.vendor_id)
    assert light.vendor.timezone == user.vendor.timezone and light.vendor.id == user.vendor_id
    assert isinstance(orm, User) and orm.id == user.id
    assert isinstance(vendor, Vendor) and vendor.id == user.vendor_id
    try:
        light.locale = "zh_Hans"  # a change to the read-only view fails loudly ...
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("the signed-in user view accepted a write")
    # ... and the statement every request runs reads no secret.
    sql = str(_live_session_statement())
    assert "password_hash" not in sql and "totp" not in sql and "sp_api" not in sql
