"""Settings > Notifications, the subscription endpoints (page and /api/v1) and the inbox."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.auth_helpers import csrf_token, make_vendor, post, sign_in
from tests.push_service import PushService
from webapp.auth.tokens import create_token
from webapp.extensions import db
from webapp.push import delivery, services
from webapp.push.models import Alert, PushSubscription
from webapp.push.vapid import vapid_keys
from worker.main import build_worker


@pytest.fixture
def push_service(app):
    with PushService(expected_vapid_key=vapid_keys(app).public_key) as service:
        yield service


def bearer(user, role=None) -> dict:
    _token, raw = create_token(user, "phone app", role)
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_settings_page_serves_the_public_key_and_asks_only_after_a_tap(client):
    sign_in(client)
    html = client.get("/settings/notifications").get_data(as_text=True)
    assert f'data-vapid-key="{vapid_keys().public_key}"' in html
    assert 'data-action="push-enable"' in html and "Notification.requestPermission" not in html
    assert client.get("/settings").get_data(as_text=True).count("/settings/notifications") == 1


def test_page_subscribes_this_browser_with_csrf_and_lists_and_removes_it(client, push_service):
    user = sign_in(client)
    subscription = push_service.new_subscription()
    token = csrf_token(client, "/settings/notifications")
    response = client.post("/settings/notifications/devices",
                           json={"subscription": subscription, "label": "Dock phone"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    # Subscribing the same browser again updates it instead of adding a second device.
    client.post("/settings/notifications/devices",
                json={"subscription": subscription, "label": "Dock phone 2"},
                headers={"X-CSRFToken": token})
    assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 1
    html = client.get("/settings/notifications").get_data(as_text=True)
    assert "Dock phone 2" in html
    device_id = response.get_json()["id"]
    post(client, f"/settings/notifications/devices/{device_id}/delete",
         token_from="/settings/notifications")
    assert services.list_devices(user) == []


def test_subscription_without_csrf_or_with_bad_keys_is_refused(client, push_service):
    sign_in(client)
    subscription = push_service.new_subscription()
    assert client.post("/settings/notifications/devices",
                       json={"subscription": subscription}).status_code == 400
    bad = {**subscription, "keys": {"p256dh": "AAAA", "auth": "BBBB"}}
    response = client.post("/settings/notifications/devices", json={"subscription": bad},
                           headers={"X-CSRFToken": csrf_token(client, "/settings/notifications")})
    assert response.status_code == 422


def test_api_accepts_push_subscription_to_json(app, client, push_service):
    user = sign_in(client)
    headers = bearer(user)
    assert client.get("/api/v1/push/vapid-public-key").get_json() == {
        "publicKey": vapid_keys().public_key}
    subscription = push_service.new_subscription()
    response = client.post("/api/v1/push/subscriptions",
                           json={**subscription, "label": "Integration"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["label"] == "Integration"
    listed = client.get("/api/v1/push/subscriptions", headers=headers).get_json()
    assert [d["endpoint"] for d in listed["subscriptions"]] == [subscription["endpoint"]]
    https_only = {**push_service.new_subscription(), "endpoint": "ftp://push.example/x"}
    assert client.post("/api/v1/push/subscriptions", json=https_only,
                       headers=headers).status_code == 422
    anonymous = app.test_client()  # no token, no cookie
    assert anonymous.post("/api/v1/push/subscriptions", json=subscription).status_code == 401
    device_id = response.get_json()["id"]
    assert client.delete(f"/api/v1/push/subscriptions/{device_id}",
                         headers=headers).status_code == 204
    assert client.delete(f"/api/v1/push/subscriptions/{device_id}",
                         headers=headers).status_code == 404


def test_another_users_device_cannot_be_removed(app, client, push_service):
    owner = sign_in(app.test_client(), vendor=make_vendor("Other Co"))
    device = services.subscribe(owner, push_service.new_subscription(), label="theirs")
    db.session.commit()
    sign_in(client)
    post(client, f"/settings/notifications/devices/{device.id}/delete",
         token_from="/settings/notifications")
    assert db.session.get(PushSubscription, device.id) is not None


def test_test_button_pushes_to_every_device_through_the_queue(app, client, push_service):
    user = sign_in(client)
    for _ in range(2):
        services.subscribe(user, push_service.new_subscription(), label="x")
    db.session.commit()
    response = post(client, "/settings/notifications/test", token_from="/settings/notifications")
    assert response.status_code == 302
    build_worker(app, ["notify"]).work(burst=True)
    assert len(push_service.delivered()) == 2
    assert "Test notification" in push_service.delivered()[0].payload["title"]


def test_saving_settings_and_the_inbox(app, client):
    user = sign_in(client)
    response = post(client, "/settings/notifications", {
        "enabled": ["new_po", "deadline"], "deadline_hours": "8, 2",
        "quiet_start": "22:00", "quiet_end": "07:00"}, token_from="/settings/notifications")
    assert response.status_code == 302
    prefs = services.preferences_for(user.id)
    assert prefs.deadline_hours == (8, 2) and prefs.quiet_start == 22 * 60
    assert prefs.wants("new_po") and not prefs.wants("low_stock")
    html = client.get("/settings/notifications").get_data(as_text=True)
    assert 'value="22:00"' in html and 'value="8, 2"' in html
    response = post(client, "/settings/notifications", {"deadline_hours": "99"},
                    token_from="/settings/notifications")
    assert services.preferences_for(user.id).deadline_hours == (8, 2)
    services.send_test_notification(user, queue=False)
    html = client.get("/alerts").get_data(as_text=True)
    assert "Test notification from ACORN" in html and "Mark all read" in html
    post(client, "/alerts/read", token_from="/alerts")
    assert db.session.scalar(select(func.count()).select_from(Alert)
                             .where(Alert.read_at.is_(None))) == 0


def test_alerts_follow_the_users_language(app, client, push_service):
    user = sign_in(client)
    user.locale = "zh_Hans"
    db.session.commit()
    services.subscribe(user, push_service.new_subscription(), label="x")
    db.session.commit()
    delivery.deliver_batch(services.send_test_notification(user, queue=False))
    title = push_service.delivered()[0].payload["title"]
    assert re.search(r"[\u4e00-\u9fff]", title), title


def test_signing_out_removes_this_browsers_device_only(app, client, push_service):
    from tests.auth_helpers import make_user
    from webapp.push.devices import subscribe

    user = sign_in(client)
    this_browser, other_phone = push_service.new_subscription(), push_service.new_subscription()
    subscribe(user, this_browser, label="This browser")
    subscribe(user, other_phone, label="Other phone")
    colleague, _secret = make_user(user.vendor)
    subscribe(colleague, push_service.new_subscription(), label="Colleague's phone")
    db.session.commit()
    colleague_endpoint = services.list_devices(colleague)[0].endpoint

    # The page's JS adds the browser's endpoint to the sign-out form; someone else's endpoint
    # in that field is left alone.
    response = post(client, "/logout", {"push_endpoint": this_browser["endpoint"]},
                    token_from="/settings/notifications")
    assert response.status_code == 200
    db.session.expire_all()
    assert [d.label for d in services.list_devices(user)] == ["Other phone"]
    assert [d.label for d in services.list_devices(colleague)] == ["Colleague's phone"]
    assert client.get("/settings/notifications").status_code == 302  # signed out

    # Alerts now reach the user's other phone only.
    sign_in(client, user=user)
    post(client, "/logout", {"push_endpoint": colleague_endpoint},
         token_from="/settings/notifications")
    db.session.expire_all()
    assert len(services.list_devices(colleague)) == 1
    ids = services.send_test_notification(user, queue=False)
    delivery.deliver_batch(ids)
    other_token = other_phone["endpoint"].rsplit("/", 1)[1]
    assert {m.token for m in push_service.delivered()} == {other_token}


@pytest.mark.parametrize(("role", "offered"), [("admin", True), ("manager", True),
                                               ("finance", False), ("viewer", False)])
def test_approval_alerts_are_offered_to_those_who_may_approve(client, role, offered):
    sign_in(client, role=role)
    html = client.get("/settings/notifications").get_data(as_text=True)
    assert ('value="approval"' in html) is offered
    assert 'value="new_po"' in html
