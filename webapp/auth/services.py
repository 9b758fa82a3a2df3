"""Sign-in domain verbs: invite, accept, sign in step by step, change factors, manage users.

Views call these; they take plain values (no `request`), add audit entries and leave the commit
to the caller unless they say otherwise.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from webapp.audit.services import record
from webapp.auth import passwords, recovery, sessions, throttle, totp
from webapp.auth.models import Invite, RecoveryCode, Role, User, WebAuthnCredential
from webapp.crypto import decrypt, encrypt
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.vendors.models import Vendor

# Free and public mailbox providers: an invite must go to a company address.
PUBLIC_MAIL_DOMAINS = frozenset("""
gmail.com googlemail.com qq.com foxmail.com 163.com 126.com yeah.net sina.com sina.cn
sohu.com aliyun.com 139.com 189.cn 21cn.com tom.com outlook.com hotmail.com live.com msn.com
yahoo.com yahoo.com.cn yahoo.co.jp ymail.com icloud.com me.com mac.com aol.com gmx.com gmx.de
gmx.net web.de mail.com mail.ru yandex.com yandex.ru protonmail.com proton.me pm.me zoho.com
hey.com fastmail.com tutanota.com naver.com daum.net hanmail.net
""".split())
_EMAIL = re.compile(r"^[^@\s<>\"'\x00-\x1f]{1,64}@([a-z0-9.-]{1,253})$")


class AuthError(ValueError):
    """A request that cannot be done as asked; the message is safe to show the user."""


def normalise_email(email: str) -> str:
    """Lower-case and trim an e-mail address."""
    return (email or "").strip().lower()


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _audit_user(action: str, user: User, *, actor: User | None = None, **details) -> None:
    record(action, actor=(actor or user).email, vendor_id=user.vendor_id,
           actor_user_id=(actor or user).id, target_type="user", target_id=user.id,
           details=details or None)


# --- invites ---------------------------------------------------------------------------------

def check_invite_address(vendor: Vendor, email: str) -> str:
    """Return the normalised address if it may be invited into `vendor`, else raise AuthError."""
    email = normalise_email(email)
    match = _EMAIL.match(email)
    if not match:
        raise AuthError(_l("Enter a valid e-mail address."))
    domain = match.group(1)
    if domain in PUBLIC_MAIL_DOMAINS:
        raise AuthError(_l("Public mail addresses (%(domain)s) cannot be invited. Use a company "
                           "address.", domain=domain))
    allowed = {d.domain for d in vendor.domains}
    if domain not in allowed:
        raise AuthError(_l("Only addresses at %(domains)s can be invited to this vendor.",
                           domains=", ".join(sorted(allowed))))
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise AuthError(_l("This address already has an account."))
    return email


def invite_user(vendor: Vendor, email: str, role: str, *, invited_by: User | None = None):
    """Create a single-use invite, mail its link; return (Invite, link)."""
    email = check_invite_address(vendor, email)
    if role not in {r.value for r in Role}:
        raise AuthError(_l("Unknown role."))
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    hours = current_app.config["INVITE_TTL_HOURS"]
    invite = Invite(vendor_id=vendor.id, email=email, role=role, token_hash=_hash_token(raw),
                    invited_by_user_id=invited_by.id if invited_by else None, created_at=now,
                    expires_at=now + timedelta(hours=hours))
    db.session.add(invite)
    db.session.flush()
    # Built by hand: the CLI has no request to build URLs from.
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/invite/{raw}"
    record("user.invite", actor=invited_by.email if invited_by else "cli", vendor_id=vendor.id,
           actor_user_id=invited_by.id if invited_by else None, target_type="invite",
           target_id=invite.id, details={"email": email, "role": role})
    send_mail(email, str(_l("You are invited to ACORN")), str(_l(
        "%(vendor)s invited you to ACORN as %(role)s.\n\nSet your password here (the link works "
        "once, for %(hours)d hours):\n%(link)s\n", vendor=vendor.name, role=role, hours=hours,
        link=link)))
    return invite, link


def find_invite(raw: str) -> Invite | None:
    """Return the usable invite for a link token (unused, not revoked, not expired)."""
    if not raw or len(raw) > 100:
        return None
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == _hash_token(raw)))
    if invite is None or invite.used_at or invite.revoked_at or invite.expires_at <= utcnow():
        return None
    return invite


def accept_invite(invite: Invite, password: str) -> User:
    """Create the invited user with `password` and a pending TOTP secret; use up the invite."""
    problems = passwords.password_problems(password, email=invite.email)
    if problems:
        raise AuthError(problems[0])
    if db.session.scalar(select(User.id).where(User.email == invite.email)):
        raise AuthError(_l("This address already has an account."))
    user = User(vendor_id=invite.vendor_id, email=invite.email, role=invite.role,
                password_hash=passwords.hash_password(password), password_changed_at=utcnow())
    db.session.add(user)
    invite.used_at = utcnow()
    db.session.flush()
    start_totp_enrolment(user)
    _audit_user("user.invite.accept", user, invite_id=invite.id)
    return user


def revoke_invite(invite: Invite, *, actor: User) -> None:
    """Stop an invite link from working."""
    invite.revoked_at = invite.revoked_at or utcnow()
    record("user.invite.revoke", actor=actor.email, vendor_id=invite.vendor_id,
           actor_user_id=actor.id, target_type="invite", target_id=invite.id)


def pending_invites(vendor_id: int) -> list[Invite]:
    """List the vendor's invites that can still be used."""
    return list(db.session.scalars(
        select(Invite).where(Invite.vendor_id == vendor_id, Invite.used_at.is_(None),
                             Invite.revoked_at.is_(None), Invite.expires_at > utcnow())
        .order_by(Invite.created_at.desc())
    ))


# --- TOTP enrolment --------------------------------------------------------------------------

def start_totp_enrolment(user: User) -> str:
    """Give the user a new pending secret (the current factor keeps working until confirmed)."""
    secret = totp.new_secret()
    user.totp_pending_secret_enc = encrypt(secret)
    return secret


def pending_secret(user: User) -> str | None:
    """Return the pending secret for showing during enrolment."""
    return decrypt(user.totp_pending_secret_enc) if user.totp_pending_secret_enc else None


def confirm_totp_enrolment(user: User, code: str) -> list[str] | None:
    """Save the pending secret once a code from it checks out; return new recovery codes."""
    secret = pending_secret(user)
    step = totp.matching_step(secret, code) if secret else None
    if step is None:
        _audit_user("auth.mfa.enrol.failure", user)
        return None
    first = user.mfa_enrolled_at is None
    user.totp_secret_enc = user.totp_pending_secret_enc
    user.totp_pending_secret_enc = None
    user.totp_last_step = step  # the confirming code cannot be replayed to sign in
    user.mfa_enrolled_at = utcnow()
    codes = recovery.new_recovery_codes(user)
    _audit_user("auth.mfa.enrol" if first else "auth.mfa.change", user)
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """Replace the recovery codes; return the new ones for showing once."""
    codes = recovery.new_recovery_codes(user)
    _audit_user("auth.mfa.recovery_codes.regenerate", user)
    return codes


# --- signing in ------------------------------------------------------------------------------

class Outcome(StrEnum):
    """What a sign-in step came to."""

    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"
    REPLAY = "replay"


@dataclass
class StepResult:
    """The outcome of one sign-in step, the user when it succeeded, the wait when throttled."""

    outcome: Outcome
    user: User | None = None
    wait_seconds: float = 0.0


def check_password_step(email: str, password: str) -> StepResult:
    """First step: the password (same answer and cost for unknown, inactive and wrong)."""
    email = normalise_email(email)
    attempt = throttle.begin_attempt(email)
    if not attempt.allowed:
        record("auth.login.throttled", actor=email[:254], details={"step": "password"})
        return StepResult(Outcome.THROTTLED, wait_seconds=attempt.wait_seconds)
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    ok = passwords.verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        record("auth.login.failure", actor=email[:254] or "-",
               vendor_id=user.vendor_id if user else None, details={"step": "password"})
        return StepResult(Outcome.WRONG)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    throttle.end_delay(email)
    record("auth.login.password_ok", actor=user.email, vendor_id=user.vendor_id,
           actor_user_id=user.id)
    return StepResult(Outcome.OK, user)


def check_code_step(user: User, code: str) -> StepResult:
    """Second step: a TOTP code or a recovery code; throttled on the same account counter."""
    attempt = throttle.begin_attempt(user.email)
    if not attempt.allowed:
        record("auth.login.throttled", actor=user.email, vendor_id=user.vendor_id,
               actor_user_id=user.id, details={"step": "code"})
        return StepResult(Outcome.THROTTLED, wait_seconds=attempt.wait_seconds)
    if recovery.looks_like_recovery_code(code):
        if recovery.use_recovery_code(user, code):
            _audit_user("auth.mfa.recovery_code.used", user, left=recovery.remaining(user))
            return StepResult(Outcome.OK, user)
        _audit_user("auth.login.failure", user, step="recovery_code")
        return StepResult(Outcome.WRONG)
    result = totp.check_code(user, code)
    if result is totp.CodeResult.ACCEPTED:
        return StepResult(Outcome.OK, user)
    if result is totp.CodeResult.REPLAY:
        _audit_user("auth.mfa.replay", user)
        return StepResult(Outcome.REPLAY)
    _audit_user("auth.login.failure", user, step="totp")
    return StepResult(Outcome.WRONG)


def complete_sign_in(user: User, *, ip: str | None, user_agent: str | None, method: str) -> str:
    """Both factors passed: reset the throttle, open a new session; return its id."""
    throttle.reset(user.email)
    sid = sessions.start_session(user, ip=ip, user_agent=user_agent)
    _audit_user("auth.login.success", user, method=method)
    return sid


def sign_out(session_row) -> None:
    """End this session server-side."""
    sessions.revoke_session(session_row)
    _audit_user("auth.logout", session_row.user)


# --- changing one's own account --------------------------------------------------------------

def reauthenticate(user: User, session_row, password: str) -> bool:
    """Check the password again before a factor change; note it in the session."""
    attempt = throttle.begin_attempt(user.email)
    if attempt.allowed and passwords.verify_password(user.password_hash, password):
        sessions.mark_reauthenticated(session_row)
        _audit_user("auth.reauth", user)
        return True
    _audit_user("auth.reauth.failure", user)
    return False


def change_password(user: User, current: str, new: str, *, keep_session_id: int | None) -> None:
    """Change the password; every other session of the user ends."""
    if not passwords.verify_password(user.password_hash, current):
        raise AuthError(_l("Your current password is not right."))
    problems = passwords.password_problems(new, email=user.email)
    if problems:
        raise AuthError(problems[0])
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    ended = sessions.revoke_user_sessions(user.id, except_id=keep_session_id)
    _audit_user("auth.password.change", user, sessions_ended=ended)


def factors_changed(user: User, *, keep_session_id: int | None, action: str) -> None:
    """After any factor change: end other sessions and audit."""
    ended = sessions.revoke_user_sessions(user.id, except_id=keep_session_id)
    _audit_user(action, user, sessions_ended=ended)


def set_locale(user: User, locale: str) -> None:
    """Choose the interface language."""
    if locale not in current_app.config["LANGUAGES"]:
        raise AuthError(_l("Unknown language."))
    user.locale = locale


# --- administering users ---------------------------------------------------------------------

def vendor_users(vendor_id: int) -> list[User]:
    """List a vendor's users by e-mail."""
    return list(db.session.scalars(
        select(User).where(User.vendor_id == vendor_id).order_by(User.email)
    ))


def _other_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.vendor_id == user.vendor_id, User.id != user.id,
                                          User.role == Role.ADMIN.value, User.active.is_(True))
    )


def set_role(user: User, role: str, *, actor: User) -> None:
    """Change a user's role (a vendor always keeps one active admin)."""
    if role not in {r.value for r in Role}:
        raise AuthError(_l("Unknown role."))
    if user.role == Role.ADMIN.value and role != Role.ADMIN.value and not _other_admins(user):
        raise AuthError(_l("A vendor needs at least one admin."))
    old, user.role = user.role, role
    _audit_user("user.role.change", user, actor=actor, old=old, new=role)


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Deactivate (ending all sessions and tokens' effect) or reactivate a user."""
    if not active and user.role == Role.ADMIN.value and not _other_admins(user):
        raise AuthError(_l("A vendor needs at least one admin."))
    user.active = active
    if not active:
        sessions.revoke_user_sessions(user.id)
    _audit_user("user.activate" if active else "user.deactivate", user, actor=actor)


def reset_mfa(user: User, *, actor: str, actor_user: User | None = None) -> None:
    """Remove every second factor; the user enrols again at the next sign-in. Audited."""
    user.totp_secret_enc = None
    user.totp_pending_secret_enc = None
    user.totp_last_step = None
    user.mfa_enrolled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id))
    sessions.revoke_user_sessions(user.id)
    throttle.reset(user.email)
    record("auth.mfa.reset", actor=actor, vendor_id=user.vendor_id,
           actor_user_id=actor_user.id if actor_user else None, target_type="user",
           target_id=user.id)


def unlock(user: User, *, actor: str) -> None:
    """Forget the account's failed sign-ins (after a hard limit). Audited."""
    throttle.reset(user.email)
    record("auth.unlock", actor=actor, vendor_id=user.vendor_id, target_type="user",
           target_id=user.id)
