"""A user's devices: push subscriptions saved from the browser, listed and removed."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlparse

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from webapp.auth.models import User
from webapp.extensions import db

# Imported here (not lazily) so the worker process loads pywebpush and the crypto stack once
# and every forked work horse inherits them instead of importing them per job.
from webapp.push.models import (
    PushSubscription,
)
from webapp.push.preferences import PushError

# --- devices --------------------------------------------------------------------------------

def _b64url_bytes(value: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PushError(_("The subscription's %(field)s key is not base64url.", field=field)) \
            from exc


def _check_endpoint(endpoint: str) -> None:
    url = urlparse(endpoint)
    local = url.hostname in ("127.0.0.1", "localhost", "::1")
    # Browsers only ever hand out https endpoints; plain http is for the local test service.
    if url.scheme != "https" and not (url.scheme == "http" and local
                                      and current_app.config["ENV_NAME"] != "production"):
        raise PushError(_("A push endpoint must be an https URL."))
    if len(endpoint) > 1024 or not url.netloc:
        raise PushError(_("That push endpoint is not valid."))


def subscribe(user: User, subscription: dict, *, label: str | None = None,
              user_agent: str | None = None) -> PushSubscription:
    """Store a browser's `PushSubscription.toJSON()` as a device of `user` (idempotent)."""
    if not isinstance(subscription, dict):
        raise PushError(_("Expected the browser's subscription as JSON."))
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") or {}
    if not isinstance(endpoint, str) or not isinstance(keys, dict):
        raise PushError(_("The subscription needs an endpoint and keys."))
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise PushError(_("The subscription needs p256dh and auth keys."))
    _check_endpoint(endpoint)
    if len(_b64url_bytes(p256dh, "p256dh")) != 65 or len(_b64url_bytes(auth, "auth")) != 16:
        raise PushError(_("The subscription's keys have the wrong length."))
    label = (label or "").strip()[:80] or _device_label(user_agent)
    device = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint))
    fields = {"user_id": user.id, "vendor_id": user.vendor_id, "p256dh": p256dh, "auth": auth,
              "label": label, "user_agent": (user_agent or "")[:256] or None}
    if device is None:
        device = PushSubscription(endpoint=endpoint, **fields)
        db.session.add(device)
    else:
        # One browser profile has one endpoint: whoever subscribes it last owns the device.
        for name, value in fields.items():
            setattr(device, name, value)
    db.session.flush()
    return device


def _device_label(user_agent: str | None) -> str:
    ua = user_agent or ""
    for needle, name in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
                         ("Windows", "Windows"), ("Macintosh", "Mac"), ("Linux", "Linux")):
        if needle in ua:
            return _("%(system)s browser", system=name)
    return _("Browser")


def list_devices(user: User) -> list[PushSubscription]:
    """Return the user's devices, newest first."""
    return list(db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
    ))


def remove_device(user: User, *, device_id: int | None = None,
                  endpoint: str | None = None) -> bool:
    """Delete one of the user's devices (by id or endpoint); tell whether one was deleted."""
    criteria = [PushSubscription.user_id == user.id]
    if device_id is not None:
        criteria.append(PushSubscription.id == device_id)
    elif endpoint:
        criteria.append(PushSubscription.endpoint == endpoint)
    else:
        return False
    result = db.session.execute(delete(PushSubscription).where(*criteria))
    return bool(result.rowcount)
