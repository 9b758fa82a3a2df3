"""Server-side sessions: a random id in the cookie, its hash in the database, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, bindparam, select, update

from webapp.auth.models import User, UserSession
from webapp.auth.principal import SignedInUser, VendorSettings
from webapp.db_types import utcnow
from webapp.extensions import db, read_rows
from webapp.vendors.models import Vendor

# Touching last_seen_at on every request would make every page view a write.
TOUCH_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A browser session that still works, with its user (`g.user_session`)."""

    id: int
    expires_at: datetime
    last_seen_at: datetime
    reauth_at: datetime | None
    revoked_at: datetime | None
    user: SignedInUser


def _columns(model, view) -> tuple:
    # The model's columns named as the view's fields, in their order (nested views aside).
    return tuple(getattr(model, f.name) for f in fields(view) if f.name not in ("user", "vendor"))


# What every signed-in request reads, in one round trip: exactly the views' fields. Secrets
# (password hash, TOTP and SP-API secrets) are not among them.
_SESSION_COLUMNS = _columns(UserSession, LiveSession)
_USER_COLUMNS = _columns(User, SignedInUser)
_VENDOR_COLUMNS = _columns(Vendor, VendorSettings)


@cache
def _live_session_statement() -> Select:
    """The statement every signed-in request runs, built once (bind parameter: the hash)."""
    return (select(*_SESSION_COLUMNS, *_USER_COLUMNS, *_VENDOR_COLUMNS)
            .join(User, User.id == UserSession.user_id)
            .join(Vendor, Vendor.id == User.vendor_id)
            .where(UserSession.sid_hash == bindparam("sid_hash")))


def _live_session(row) -> LiveSession:
    n_session, n_user = len(_SESSION_COLUMNS), len(_USER_COLUMNS)
    vendor = VendorSettings(*row[n_session + n_user:])
    user = SignedInUser(*row[n_session:n_session + n_user], vendor=vendor)
    return LiveSession(*row[:n_session], user=user)


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


def load_session(sid: str | None) -> LiveSession | None:
    """Return the live session for a cookie id: not revoked, not idle too long, not too old."""
    if not sid or len(sid) > 100:
        return None
    row = read_rows(_live_session_statement(), {"sid_hash": _hash(sid)}).first()
    if row is None:
        return None
    live = _live_session(row)
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if live.revoked_at is not None or now >= live.expires_at \
            or now - live.last_seen_at >= idle or not live.user.active:
        return None
    if now - live.last_seen_at >= TOUCH_RESOLUTION:
        db.session.execute(update(UserSession).where(UserSession.id == live.id)
                           .values(last_seen_at=now))
        db.session.commit()
        live = replace(live, last_seen_at=now)
    return live


def is_recently_authenticated(row: UserSession | LiveSession) -> bool:
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
