"""Recovery codes: ten single-use codes, shown once, stored as argon2id hashes."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update

from webapp.auth.models import RecoveryCode, User
from webapp.auth.passwords import hash_password, verify_password
from webapp.db_types import utcnow
from webapp.extensions import db

COUNT = 10
# No 0/O/1/I/L: codes are read off paper and typed on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12  # about 59 bits each; hashed with argon2id and throttled like passwords


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_code(raw: str) -> str:
    """Show a code as XXXX-XXXX-XXXX."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def looks_like_recovery_code(code: str) -> bool:
    """Tell a recovery code from a six-digit TOTP code."""
    return len(_normalise(code)) == LENGTH


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; return them for showing once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(code)))
    db.session.flush()
    return [format_code(c) for c in codes]


def remaining(user: User) -> int:
    """Count unused recovery codes."""
    rows = db.session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(rows.all())


def use_recovery_code(user: User, code: str) -> bool:
    """Spend a matching unused code; each works once even when sent twice at the same time."""
    value = _normalise(code)
    if len(value) != LENGTH:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        if verify_password(row.code_hash, value):
            claimed = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return claimed.rowcount == 1
    return False
