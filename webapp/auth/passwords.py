"""Passwords: NIST SP 800-63B rules (length and a blocklist, no composition rules), argon2id."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common_passwords.txt"


def _hasher() -> PasswordHasher:
    """Return this app's argon2id hasher (cost from config)."""
    hasher = current_app.extensions.get("acorn.argon2")
    if hasher is None:
        cfg = current_app.config
        hasher = PasswordHasher(
            time_cost=cfg["ARGON2_TIME_COST"],
            memory_cost=cfg["ARGON2_MEMORY_KIB"],
            parallelism=cfg["ARGON2_PARALLELISM"],
            type=Type.ID,
        )
        current_app.extensions["acorn.argon2"] = hasher
    return hasher


def _normalise(password: str) -> str:
    # NFKC so the same password typed on a Chinese IME and a Latin keyboard hashes alike.
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    """Load the bundled list of common and breached passwords (lower-case)."""
    with open(COMMON_PASSWORDS_FILE, encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Return why `password` is refused (empty when it is fine)."""
    value = _normalise(password)
    if len(value) < MIN_LENGTH:
        return [str(_l("Use at least %(n)d characters.", n=MIN_LENGTH))]
    if len(value) > MAX_LENGTH:
        return [str(_l("Use at most %(n)d characters.", n=MAX_LENGTH))]
    lowered = value.lower()
    context = {"acorn", "amazon"}
    if email:
        context.update({email.lower(), email.lower().split("@")[0]})
    if lowered in common_passwords() or lowered in context or len(set(lowered)) < 4:
        return [str(_l("This password is too common or easy to guess. Choose another."))]
    return []


def hash_password(password: str) -> str:
    """Hash with argon2id (the whole password: no truncation)."""
    return _hasher().hash(_normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and say no (no user enumeration)."""
    hasher = _hasher()
    if not password_hash:
        dummy = current_app.extensions.get("acorn.argon2.dummy")
        if dummy is None:
            dummy = current_app.extensions["acorn.argon2.dummy"] = hasher.hash("not-a-password")
        password_hash = dummy
        password = password + "\x00"  # never matches the dummy
    try:
        return hasher.verify(password_hash, _normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with older cost settings."""
    return _hasher().check_needs_rehash(password_hash)
