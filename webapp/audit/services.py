"""Record audited actions."""

from __future__ import annotations

import re

from flask import has_request_context, request

from webapp.audit.models import AuditEntry
from webapp.extensions import db

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean(value: str | None, limit: int) -> str | None:
    """Strip control characters (no forged log lines) and cut to the column size."""
    if value is None:
        return None
    return _CONTROL.sub(" ", str(value))[:limit]


def record(
    action: str,
    *,
    actor: str = "system",
    vendor_id: int | None = None,
    actor_user_id: int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller commits."""
    entry = AuditEntry(
        action=_clean(action, 64),
        actor=_clean(actor, 254),
        vendor_id=vendor_id,
        actor_user_id=actor_user_id,
        target_type=_clean(target_type, 32),
        target_id=_clean(None if target_id is None else str(target_id), 64),
        details=details,
    )
    if has_request_context():
        entry.ip = _clean(request.remote_addr, 45)
        entry.user_agent = _clean(request.user_agent.string, 256)
    db.session.add(entry)
    return entry
