"""Passkeys (WebAuthn) as an optional second factor, with the `webauthn` package."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import webauthn
from flask import current_app
from sqlalchemy import select
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from webapp.auth.models import User, WebAuthnCredential
from webapp.db_types import utcnow
from webapp.extensions import db


class PasskeyError(ValueError):
    """A passkey could not be registered or did not check out."""


def relying_party() -> tuple[str, str]:
    """Return (rp_id, expected origin) from WEBAUTHN_RP_ID / PUBLIC_URL."""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    rp_id = current_app.config.get("WEBAUTHN_RP_ID") or public.hostname
    return rp_id, f"{public.scheme}://{public.netloc}"


def user_passkeys(user: User) -> list[WebAuthnCredential]:
    """List the user's passkeys."""
    return list(db.session.scalars(
        select(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)
        .order_by(WebAuthnCredential.id)
    ))


def registration_options(user: User) -> tuple[str, bytes]:
    """Options for navigator.credentials.create(), as JSON, and the challenge to keep."""
    rp_id, _ = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=current_app.config["WEBAUTHN_RP_NAME"], user_name=user.email,
        user_id=f"acorn-user-{user.id}".encode(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c.credential_id)
                             for c in user_passkeys(user)],
    )
    return webauthn.options_to_json(options), options.challenge


def register(user: User, credential: dict | str, challenge: bytes, name: str):
    """Verify a new passkey's attestation and store its public key."""
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError("the passkey could not be verified") from exc
    raw = json.loads(credential) if isinstance(credential, str) else credential
    row = WebAuthnCredential(
        user_id=user.id, credential_id=verified.credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count,
        name=(name or "Passkey").strip()[:80] or "Passkey",
        transports=(raw.get("response") or {}).get("transports"))
    db.session.add(row)
    db.session.flush()
    return row


def authentication_options(user: User) -> tuple[str, bytes]:
    """Options for navigator.credentials.get() limited to the user's passkeys, and the challenge."""
    rp_id, _ = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c.credential_id)
                           for c in user_passkeys(user)],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return webauthn.options_to_json(options), options.challenge


def authenticate(user: User, credential: dict | str, challenge: bytes) -> WebAuthnCredential:
    """Verify an assertion by one of the user's passkeys; raise PasskeyError otherwise."""
    rp_id, origin = relying_party()
    raw = json.loads(credential) if isinstance(credential, str) else credential
    try:
        cred_id = webauthn.base64url_to_bytes(raw["rawId"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PasskeyError("malformed passkey answer") from exc
    row = db.session.scalar(select(WebAuthnCredential).where(
        WebAuthnCredential.user_id == user.id, WebAuthnCredential.credential_id == cred_id))
    if row is None:
        raise PasskeyError("unknown passkey")
    try:
        verified = webauthn.verify_authentication_response(
            credential=raw, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError("the passkey could not be verified") from exc
    row.sign_count = verified.new_sign_count
    row.last_used_at = utcnow()
    return row


def encode_challenge(challenge: bytes) -> str:
    """Challenge as text for the (signed) session cookie."""
    return bytes_to_base64url(challenge)
