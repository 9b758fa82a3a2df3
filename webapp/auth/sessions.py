"""Server-side sessions: a random id in the cookie, its hash in the database, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload, load_only

from webapp.auth.models import User, UserSession
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.vendors.models import Vendor

# Touching last_seen_at on every request would make every page view a write.
TOUCH_RESOLUTION = timedelta(seconds=60)


@cache
def _live_session_statement() -> Select:
    """The statement every signed-in request runs, built once (bind parameter: the hash).

    One round trip for what every page needs: the session, its user and the user's vendor.
    Only the columns pages use are read; secrets (password hash, TOTP and SP-API secrets) and
    rarely used columns load on access, on the few pages that need them.
    """
    return (
        select(UserSession)
        .options(
            load_only(UserSession.user_id, UserSession.expires_at, UserSession.last_seen_at,
                      UserSession.reauth_at, UserSession.revoked_at),
            joinedload(UserSession.user).load_only(
                User.vendor_id, User.email, User.display_name, User.role, User.active,
                User.locale, User.mfa_enrolled_at)
            .joinedload(User.vendor).load_only(
                Vendor.name, Vendor.timezone, Vendor.currency, Vendor.ack_deadline_hours,
                Vendor.otif_target_percent, Vendor.otif_grace_days,
                Vendor.weeks_of_cover_threshold, Vendor.return_rate_threshold_percent,
                Vendor.dual_control_reject_above))
        .where(UserSession.sid_hash == bindparam("sid_hash")))


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start_session(user: User, *, ip: str | None, user_agent: str | None) -> str:
    """Open a new session for `user` (a fresh id every login); return the raw id for the cookie."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    hours = current_app.config["SESSION_ABSOLUTE_HOURS"]
    db.session.add(UserSession(
        user_id=user.id, sid_hash=_hash(sid), created_at=now, last_seen_at=now, reauth_at=now,
        expires_at=now + timedelta(hours=hours), ip=(ip or "")[:45] or None,
        user_agent=(user_agent or "")[:256] or None,
    ))
    user.last_login_at = now
    db.session.flush()
    return sid


def load_session(sid: str | None) -> UserSession | None:
    """Return the live session for a cookie id: not revoked, not idle too long, not too old."""
    if not sid or len(sid) > 100:
        return None
    row = db.session.scalar(_live_session_statement(), {"sid_hash": _hash(sid)})
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if now >= row.expires_at or now - row.last_seen_at >= idle or not row.user.active:
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = now
        db.session.commit()
    return row


def is_recently_authenticated(row: UserSession) -> bool:
    """Tell whether the password was entered in the last REAUTH_MINUTES (for factor changes)."""
    window = timedelta(minutes=current_app.config["REAUTH_MINUTES"])
    return row.reauth_at is not None and utcnow() - row.reauth_at < window


def mark_reauthenticated(row: UserSession) -> None:
    """Note that the password was just entered again in this session."""
    row.reauth_at = utcnow()


def revoke_session(row: UserSession) -> None:
    """End one session; its cookie stops working on the next request."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def revoke_user_sessions(user_id: int, *, except_id: int | None = None) -> int:
    """End every live session of a user (but `except_id`); return how many were ended."""
    stmt = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(UserSession.id != except_id)
    result = db.session.execute(
        stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount


def live_sessions(user: User) -> list[UserSession]:
    """List a user's sessions that still work, most recent first."""
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
               UserSession.expires_at > now, UserSession.last_seen_at > now - idle)
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(rows)
