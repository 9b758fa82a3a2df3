"""Invite-only onboarding: company domains only, single use, expiring, stored hashed."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest

from tests.auth_helpers import make_user, make_vendor, post, sign_in
from webapp.auth import services
from webapp.auth.models import Invite, User
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.mail import outbox


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_cli_invite_prints_link_and_mails_it(app, runner):
    make_vendor("Acme Trading", domain="acme.cn")
    result = runner.invoke(args=["users", "invite", "Li.Wei@Acme.cn", "--vendor", "Acme Trading",
                                 "--role", "manager"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert re.match(r"^https?://[^ ]+/invite/[A-Za-z0-9_-]{40,}$", link)
    assert link in outbox()[-1].body and outbox()[-1].to == "li.wei@acme.cn"
    invite = db.session.query(Invite).one()
    assert _token(link) not in invite.token_hash and len(invite.token_hash) == 64


@pytest.mark.parametrize("email", ["boss@gmail.com", "li@qq.com", "wang@163.com",
                                   "x@outlook.com"])
def test_public_mail_domains_refused_with_a_clear_message(app, email):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    with pytest.raises(services.AuthError, match="Public mail addresses"):
        services.invite_user(vendor, email, "viewer")


def test_other_company_domains_refused(app, runner):
    make_vendor("Acme Trading", domain="acme.cn")
    result = runner.invoke(args=["users", "invite", "a@other.cn", "--vendor", "Acme Trading"])
    assert result.exit_code != 0 and "acme.cn" in result.output


def test_invite_flow_password_totp_recovery_codes_then_orders(app, client):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    _invite, link = services.invite_user(vendor, "li@acme.cn", "manager")
    db.session.commit()
    path = "/invite/" + _token(link)
    assert client.get(path).status_code == 200
    r = post(client, path, {"password": "short", "confirm": "short"}, token_from=path)
    assert "at least 12" in r.get_data(as_text=True)
    r = post(client, path, {"password": "password1234", "confirm": "password1234"},
             token_from=path)
    assert "too common" in r.get_data(as_text=True)
    good = "jade-river-41-lantern"
    r = post(client, path, {"password": good, "confirm": good}, token_from=path)
    assert r.status_code == 302 and r.location.endswith("/enrol")
    page = client.get("/enrol").get_data(as_text=True)
    assert "data:image/svg+xml" in page
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    r = post(client, "/enrol", {"code": "000000"}, token_from="/enrol")
    assert "not right" in r.get_data(as_text=True)
    r = post(client, "/enrol", {"code": pyotp.TOTP(secret).now()}, token_from="/enrol")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and len(re.findall(r"<code>[A-Z0-9-]{14}</code>", html)) == 10
    assert client.get("/orders").status_code == 200
    user = db.session.query(User).filter_by(email="li@acme.cn").one()
    assert user.mfa_enrolled_at and user.role == "manager" and user.vendor_id == vendor.id
    # Single use: the link is dead now.
    assert app.test_client().get(path).status_code == 404


def test_expired_and_revoked_invites_refused(app, client):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    invite, link = services.invite_user(vendor, "old@acme.cn", "viewer")
    invite.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/invite/" + _token(link)).status_code == 404
    invite2, link2 = services.invite_user(vendor, "gone@acme.cn", "viewer")
    admin, _ = make_user(vendor, role="admin")
    services.revoke_invite(invite2, actor=admin)
    db.session.commit()
    assert client.get("/invite/" + _token(link2)).status_code == 404
    assert client.get("/invite/not-a-token").status_code == 404


def test_admin_invites_from_the_app(app, client):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    sign_in(client, role="admin", vendor=vendor)
    r = post(client, "/admin/users/invite", {"email": "zhang@acme.cn", "role": "finance"},
             token_from="/admin/users/invite")
    assert r.status_code == 302
    assert outbox()[-1].to == "zhang@acme.cn"
    r = post(client, "/admin/users/invite", {"email": "zhang@qq.com", "role": "finance"},
             token_from="/admin/users/invite")
    assert "Public mail addresses" in r.get_data(as_text=True)


def test_unfinished_enrolment_resumes_at_next_sign_in(app, client):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    invite, _link = services.invite_user(vendor, "late@acme.cn", "viewer")
    services.accept_invite(invite, "jade-river-41-lantern")
    db.session.commit()
    r = post(client, "/login", {"email": "late@acme.cn", "password": "jade-river-41-lantern"})
    assert r.location.endswith("/enrol")
    assert client.get("/orders").status_code == 302  # not signed in without the second factor
