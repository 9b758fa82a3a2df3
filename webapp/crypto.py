"""Encrypt secrets at rest (SP-API credentials, TOTP secrets) with rotatable Fernet keys."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in current_app.config["DATA_ENCRYPTION_KEYS"].split(",") if k.strip()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plaintext: str) -> bytes:
    """Encrypt with the first configured key."""
    return _fernet().encrypt(plaintext.encode())


def decrypt(token: bytes) -> str:
    """Decrypt with any configured key."""
    return _fernet().decrypt(bytes(token)).decode()
