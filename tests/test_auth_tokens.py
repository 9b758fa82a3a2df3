"""API tokens: shown once, stored hashed, role no higher than the user's, revocable, last used."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.auth_helpers import make_user, post, sign_in
from webapp.audit.models import AuditEntry
from webapp.auth import tokens
from webapp.auth.access import grantable_roles
from webapp.auth.models import ApiToken
from webapp.extensions import db


def _bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_cli_prints_the_token_alone_on_its_last_line(app, runner, client):
    user, _ = make_user(role="finance")
    result = runner.invoke(args=["tokens", "create", user.email, "--name", "ERP sync"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"acorn_[A-Za-z0-9_-]{43}", raw)
    r = client.get("/api/v1/me", headers=_bearer(raw))
    assert r.status_code == 200
    body = r.get_json()
    assert body["user"]["email"] == user.email and body["token"]["role"] == "finance"
    row = db.session.scalar(select(ApiToken))
    assert row.last_used_at is not None and raw not in row.token_hash
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "token.use"))


def test_role_never_higher_than_the_creator(app, runner):
    assert grantable_roles("admin") == ["admin", "manager", "finance", "viewer"]
    assert grantable_roles("manager") == ["manager", "viewer"]
    assert grantable_roles("finance") == ["finance", "viewer"]
    assert grantable_roles("viewer") == ["viewer"]
    user, _ = make_user(role="viewer")
    result = runner.invoke(args=["tokens", "create", user.email, "--name", "x", "--role", "admin"])
    assert result.exit_code != 0 and "higher" in result.output


def test_create_in_settings_shown_once_then_revoke(app, client):
    sign_in(client, role="manager")
    r = post(client, "/settings/tokens", {"name": "ERP", "role": "viewer"},
             token_from="/settings/tokens")
    raw = re.search(r"data-new-token>([^<]+)<", r.get_data(as_text=True)).group(1)
    assert raw not in client.get("/settings/tokens").get_data(as_text=True)  # shown once
    api = client.application.test_client()
    assert api.get("/api/v1/me", headers=_bearer(raw)).get_json()["token"]["role"] == "viewer"
    r = post(client, "/settings/tokens", {"name": "too much", "role": "admin"},
             token_from="/settings/tokens")
    assert db.session.query(ApiToken).count() == 1  # admin is not a choice for a manager
    token_id = db.session.scalar(select(ApiToken.id))
    post(client, f"/settings/tokens/{token_id}/revoke", token_from="/settings/tokens")
    r = api.get("/api/v1/me", headers=_bearer(raw))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthenticated"


def test_api_takes_tokens_or_session_and_pages_take_cookies_only(app, client):
    user = sign_in(client)
    # Issue 5: the browser session opens the API too (its writes need X-CSRFToken).
    r = client.get("/api/v1/me")
    assert r.status_code == 200 and r.get_json()["token"] is None
    # A bad token never falls back to the cookie.
    r = client.get("/api/v1/me", headers=_bearer("acorn_wrong"))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthenticated"
    _token, raw = tokens.create_token(user, "script")
    db.session.commit()
    # A token does not open HTML pages.
    other = app.test_client()
    r = other.get("/orders", headers=_bearer(raw))
    assert r.status_code == 302 and "/login" in r.location
    assert other.get("/api/v1/me", headers=_bearer("acorn_wrong")).status_code == 401
    missing = other.get("/api/v1/nope", headers=_bearer(raw)).get_json()
    assert missing["error"]["code"] == "not_found"


def test_deactivated_user_token_stops(app, client):
    user, _ = make_user()
    _token, raw = tokens.create_token(user, "script")
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 401


def test_token_loses_rights_its_user_lost(app, client):
    """A manager's manager-token stops acknowledging once the user is made a viewer."""
    from webapp.auth.access import has_permission

    user, _ = make_user(role="manager")
    token, raw = tokens.create_token(user, "erp")
    db.session.commit()
    with app.test_request_context("/api/v1/me", headers=_bearer(raw)):
        from flask_login import current_user

        assert current_user.is_authenticated and has_permission("po.acknowledge")
    user.role = "viewer"
    db.session.commit()
    with app.test_request_context("/api/v1/me", headers=_bearer(raw)):
        assert not has_permission("po.acknowledge") and has_permission("po.view")
