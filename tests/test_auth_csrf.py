"""CSRF: every state-changing route refuses a request without a token; nothing changes."""

from __future__ import annotations

import re

from tests.auth_helpers import dump_database, make_user, sign_in
from webapp.auth import services, tokens
from webapp.extensions import db

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _fill(rule) -> str:
    """Build a URL for `rule` with plausible values for its arguments."""
    values = {}
    for arg, conv in rule._converters.items():
        values[arg] = 1 if type(conv).__name__ in ("IntegerConverter",) else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_state_changing_route_refuses_without_csrf_token(app):
    client = app.test_client()
    admin = sign_in(client, role="admin")
    other, _ = make_user(admin.vendor)
    tokens.create_token(admin, "t")
    services.invite_user(admin.vendor, f"new@{admin.vendor.domains[0].domain}", "viewer",
                         invited_by=admin)
    db.session.commit()
    before = dump_database()
    routes = [r for r in app.url_map.iter_rules() if r.methods & STATE_CHANGING]
    checked = []
    for rule in routes:
        url = _fill(rule)
        for method in sorted(rule.methods & STATE_CHANGING):
            if url.startswith("/api/"):
                # The API takes the session too (issue 5): its writes need X-CSRFToken.
                for headers in ({}, {"X-CSRFToken": "forged"}):
                    r = client.open(url, method=method, json={}, headers=headers)
                    assert r.status_code == 400, (method, url, r.status_code)
                    assert r.get_json()["error"]["code"] == "csrf_failed", (method, url)
            else:
                r = client.open(url, method=method, data={"role": "viewer", "name": "n"})
                assert r.status_code == 400, (method, url, r.status_code)
                assert re.search(r"CSRF", r.get_data(as_text=True)), (method, url)
                r = client.open(url, method=method, json={"name": "n"},
                                headers={"X-CSRFToken": "forged"})
                assert r.status_code == 400, (method, url, r.status_code)
            checked.append(f"{method} {rule.rule}")
    db.session.expire_all()
    after = dump_database()
    print(f"\n[csrf] state-changing routes checked={len(checked)} refused={len(checked)} "
          f"database_unchanged={before == after}")
    assert before == after
    assert len(checked) >= 20
    assert other.id  # the objects the ids point at exist
