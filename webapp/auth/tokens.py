"""API tokens: random, shown once, stored as SHA-256, role no higher than the creator's."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from webapp.audit.services import record
from webapp.auth.access import grantable_roles
from webapp.auth.models import ApiToken, User
from webapp.db_types import utcnow
from webapp.extensions import db

PREFIX = "acorn_"
# Writing last_used_at on every call would make each GET a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token could not be created as asked; the message says why."""


def token_hash(raw: str) -> str:
    """Hash a token for storage and lookup (256 random bits need no slow hash)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user: User, name: str, role: str | None = None, *, actor: str | None = None):
    """Create a named token for `user`; return (ApiToken, the raw token to show once)."""
    name = (name or "").strip()
    role = role or user.role
    if not name or len(name) > 80:
        raise TokenError("a token needs a name of 1 to 80 characters")
    if role not in grantable_roles(user.role):
        raise TokenError(f"role {role!r} is higher than the user's role {user.role!r}")
    if not user.active:
        raise TokenError("the user is deactivated")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, vendor_id=user.vendor_id, name=name, role=role,
                     token_hash=token_hash(raw), prefix=raw[: len(PREFIX) + 4])
    db.session.add(token)
    db.session.flush()
    record("token.create", actor=actor or user.email, vendor_id=user.vendor_id,
           actor_user_id=user.id, target_type="api_token", target_id=token.id,
           details={"name": name, "role": role})
    return token, raw


def authenticate_token(raw: str) -> ApiToken | None:
    """Return the live token for `raw` (its user active), noting when it was last used."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        record("token.use", actor=f"token:{token.name}", vendor_id=token.vendor_id,
               actor_user_id=token.user_id, target_type="api_token", target_id=token.id)
        db.session.commit()
    return token


def user_tokens(user: User) -> list[ApiToken]:
    """List the user's tokens, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ))


def revoke_token(token: ApiToken, *, actor: User) -> None:
    """Revoke a token; it stops working on the next request."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("token.revoke", actor=actor.email, vendor_id=token.vendor_id,
               actor_user_id=actor.id, target_type="api_token", target_id=token.id)
