"""VAPID keys: from configuration in production, generated once under instance/ in development."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, current_app
from py_vapid import Vapid02

KEY_FILE = "vapid.json"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_raw(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def generate_key_pair() -> dict[str, str]:
    """Return a new P-256 key pair as base64url strings (raw private scalar, uncompressed point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return {"private_key": _b64url(private), "public_key": _public_raw(key)}


def _load_or_create_dev_keys(instance_dir: str) -> dict[str, str]:
    path = Path(instance_dir) / KEY_FILE
    if path.exists():
        return json.loads(path.read_text())
    pair = generate_key_pair()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: when two processes start at once, the first file wins and both use it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    with os.fdopen(fd, "w") as f:
        json.dump(pair, f)
    return pair


class VapidKeys:
    """The application server's signing key and the public key browsers subscribe with."""

    def __init__(self, private_key: str, public_key: str | None = None) -> None:
        self.signer = (Vapid02.from_pem(private_key.encode()) if "BEGIN" in private_key
                       else Vapid02.from_string(private_key))
        derived = _public_raw(self.signer.private_key)
        if public_key and public_key.strip() != derived:
            raise RuntimeError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY")
        self.public_key = derived


def vapid_keys(app: Flask | None = None) -> VapidKeys:
    """Return this app's VAPID keys, loading (or in development creating) them once."""
    app = app or current_app._get_current_object()
    keys = app.extensions.get("acorn.vapid")
    if keys is None:
        private = app.config.get("VAPID_PRIVATE_KEY")
        if private:
            keys = VapidKeys(private, app.config.get("VAPID_PUBLIC_KEY"))
        elif app.config.get("ENV_NAME") == "production":
            raise RuntimeError("VAPID_PRIVATE_KEY must be set in production")
        else:
            pair = _load_or_create_dev_keys(app.config["INSTANCE_DIR"])
            keys = VapidKeys(pair["private_key"], pair["public_key"])
        app.extensions["acorn.vapid"] = keys
    return keys


def vapid_claims(app: Flask | None = None) -> dict:
    """Return a fresh claims dict: pywebpush adds `aud` and `exp` to the one it is given."""
    app = app or current_app._get_current_object()
    return {"sub": app.config["VAPID_CONTACT"]}
