"""Roles checked in one place: every view declares its permission; the map holds."""

from __future__ import annotations

from tests.auth_helpers import make_user, post, sign_in
from webapp.auth.access import PERMISSIONS, permissions_of
from webapp.extensions import db

PUBLIC_ENDPOINTS = {
    "static", "core.index", "core.healthz", "core.service_worker", "core.manifest",
    "core.offline", "auth.login", "auth.code", "auth.passkey_options", "auth.passkey_verify",
    "auth.invite", "auth.enrol", "auth.logout", "auth.logout_page", "dev.dev_outbox",
    "api.openapi",  # the API's description is public; every operation in it needs sign-in
}


def test_role_map():
    assert "users.manage" in permissions_of("admin") and "po.acknowledge" in permissions_of("admin")
    assert {"po.acknowledge", "invoice.submit", "shipment.submit"} <= permissions_of("manager")
    assert "payment.manage" not in permissions_of("manager")
    assert {"invoice.submit", "payment.manage"} <= permissions_of("finance")
    assert "po.acknowledge" not in permissions_of("finance")
    assert all(p.endswith(".view") or p == "account.manage" for p in permissions_of("viewer"))
    assert set(PERMISSIONS) >= {"po.view", "users.manage", "audit.view"}


def test_every_view_of_mine_declares_a_permission(app):
    """Views outside the public sign-in pages go through require_permission."""
    mine = ("webapp.auth.", "webapp.settings.", "webapp.admin.", "webapp.orders.routes",
            "webapp.api.routes")
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in PUBLIC_ENDPOINTS or not view.__module__.startswith(mine):
            continue
        if not getattr(view, "required_permission", None):
            missing.append(rule.endpoint)
    assert missing == []


def test_viewer_cannot_administer_and_admin_can(app):
    viewer_client, admin_client = app.test_client(), app.test_client()
    admin = sign_in(admin_client, role="admin")
    viewer = sign_in(viewer_client, role="viewer", vendor=admin.vendor)
    assert viewer_client.get("/admin/users").status_code == 403
    assert viewer_client.get("/admin/audit").status_code == 403
    assert admin_client.get("/admin/users").status_code == 200
    r = post(admin_client, f"/admin/users/{viewer.id}/role", {"role": "finance"},
             token_from="/admin/users")
    assert r.status_code == 302
    db.session.refresh(viewer)
    assert viewer.role == "finance"
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "user.role.change" in audit and "auth.login.success" in audit


def test_last_admin_cannot_be_demoted_or_deactivated(app):
    client = app.test_client()
    admin = sign_in(client, role="admin")
    post(client, f"/admin/users/{admin.id}/role", {"role": "viewer"}, token_from="/admin/users")
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_deactivate_signs_the_user_out(app):
    admin_client, user_client = app.test_client(), app.test_client()
    admin = sign_in(admin_client, role="admin")
    user = sign_in(user_client, role="manager", vendor=admin.vendor)
    post(admin_client, f"/admin/users/{user.id}/deactivate", token_from="/admin/users")
    assert user_client.get("/orders").status_code == 302
    _, _ = make_user(admin.vendor)
