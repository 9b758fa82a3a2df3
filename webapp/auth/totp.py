"""TOTP (RFC 6238) with replay protection: one atomic update of the last accepted time step."""

from __future__ import annotations

import hmac
import time
from enum import StrEnum

import pyotp
import segno
from sqlalchemy import or_, update

from webapp.auth.models import User
from webapp.crypto import decrypt
from webapp.extensions import db

STEP_SECONDS = 30
ISSUER = "ACORN"


class CodeResult(StrEnum):
    """The outcome of checking a one-time code."""

    ACCEPTED = "accepted"
    REPLAY = "replay"
    WRONG = "wrong"


def new_secret() -> str:
    """Return a new random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """Render the QR code as an SVG data: URI (server-side, no script, CSP-safe)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def group_secret(secret: str) -> str:
    """Split the secret in groups of four so it can be typed from the screen."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(code: str) -> str:
    """Strip spaces and dashes people type into codes."""
    return "".join(ch for ch in (code or "") if ch.isdigit() or ch.isalnum()).strip()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """Return the time step `code` belongs to: current, or one step of drift either way."""
    code = normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in (current - 1, current, current + 1):
        # Compare every candidate so timing does not tell which step matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def claim_step(user_id: int, step: int) -> bool:
    """Record `step` as the last accepted one unless it is not newer: one atomic UPDATE."""
    result = db.session.execute(
        update(User)
        .where(User.id == user_id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def check_code(user: User, code: str, now: float | None = None) -> CodeResult:
    """Check a code against the user's confirmed secret; the caller commits and audits."""
    if user.totp_secret_enc is None:
        return CodeResult.WRONG
    step = matching_step(decrypt(user.totp_secret_enc), code, now)
    if step is None:
        return CodeResult.WRONG
    return CodeResult.ACCEPTED if claim_step(user.id, step) else CodeResult.REPLAY
