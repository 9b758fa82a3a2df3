"""Encrypt secrets at rest (SP-API credentials, TOTP secrets) with rotatable Fernet keys."""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


@functools.lru_cache(maxsize=8)
def _cipher_for(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])


def cipher(config=None) -> MultiFernet:
    """The MultiFernet of DATA_ENCRYPTION_KEYS (first key encrypts, all decrypt), built once."""
    return _cipher_for((config or current_app.config)["DATA_ENCRYPTION_KEYS"])


def encrypt(plaintext: str) -> bytes:
    """Encrypt with the first configured key."""
    return cipher().encrypt(plaintext.encode())


def decrypt(token: bytes) -> str:
    """Decrypt with any configured key."""
    return cipher().decrypt(bytes(token)).decode()
