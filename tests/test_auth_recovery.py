"""Recovery codes: ten, shown once, each works once; admin and CLI can reset MFA (audited)."""

from __future__ import annotations

from sqlalchemy import select

from tests.auth_helpers import PASSWORD, make_user, post, sign_in
from webapp.audit.models import AuditEntry
from webapp.auth import recovery, services
from webapp.auth.models import RecoveryCode
from webapp.extensions import db


def test_each_recovery_code_works_once(app):
    user, _ = make_user()
    codes = services.regenerate_recovery_codes(user)
    db.session.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    first_use = [recovery.use_recovery_code(user, c) for c in codes]
    second_use = [recovery.use_recovery_code(user, c) for c in codes]
    print(f"\n[recovery] first_use_ok={sum(first_use)} second_use_ok={sum(second_use)}")
    assert all(first_use) and not any(second_use)
    assert recovery.remaining(user) == 0


def test_recovery_code_signs_in_through_the_page(app, client):
    user, _ = make_user()
    codes = services.regenerate_recovery_codes(user)
    db.session.commit()
    post(client, "/login", {"email": user.email, "password": PASSWORD})
    r = post(client, "/login/code", {"code": codes[3].lower()}, token_from="/login/code")
    assert r.status_code == 302 and r.location.endswith("/orders")
    other = app.test_client()
    post(other, "/login", {"email": user.email, "password": PASSWORD})
    r = post(other, "/login/code", {"code": codes[3]}, token_from="/login/code")
    assert r.status_code == 200 and "not right" in r.get_data(as_text=True)


def test_codes_are_stored_hashed(app):
    user, _ = make_user()
    codes = services.regenerate_recovery_codes(user)
    db.session.commit()
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert all(h.startswith("$argon2id$") for h in stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)


def test_admin_resets_mfa_audited_and_user_re_enrols(app, client):
    admin_client = app.test_client()
    admin = sign_in(admin_client, role="admin")
    user, _ = make_user(admin.vendor)
    r = post(admin_client, f"/admin/users/{user.id}/reset-mfa", token_from="/admin/users")
    assert r.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret_enc is None and user.mfa_enrolled_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.mfa.reset"))
    assert entry.actor == admin.email and entry.target_id == str(user.id)
    r = post(client, "/login", {"email": user.email, "password": PASSWORD})
    assert r.location.endswith("/enrol")


def test_cli_reset_mfa(app, runner):
    user, _ = make_user()
    result = runner.invoke(args=["users", "reset-mfa", user.email])
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.mfa_enrolled_at is None
    actor = select(AuditEntry.actor).where(AuditEntry.action == "auth.mfa.reset")
    assert db.session.scalar(actor) == "cli"


def test_factor_change_needs_recent_password(app, client):
    sign_in(client)
    from webapp.auth.models import UserSession

    db.session.execute(UserSession.__table__.update().values(reauth_at=None))
    db.session.commit()
    r = post(client, "/settings/recovery-codes", token_from="/settings/security")
    assert r.status_code == 302 and "/settings/reauth" in r.location
    r = post(client, "/settings/reauth?next=/settings/security", {"password": PASSWORD},
             token_from="/settings/reauth")
    assert r.status_code == 302
    r = post(client, "/settings/recovery-codes", token_from="/settings/security")
    assert r.status_code == 200 and "Save your recovery codes" in r.get_data(as_text=True)
