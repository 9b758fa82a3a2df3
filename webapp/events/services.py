"""Raise domain events exactly once per happening."""

from __future__ import annotations

from sqlalchemy import select

from webapp.events.models import Event
from webapp.extensions import db


def raise_event(
    vendor_id: int,
    kind: str,
    dedupe_key: str,
    *,
    purchase_order_id: int | None = None,
    payload: dict | None = None,
) -> Event | None:
    """Add an event unless one with the same dedupe key exists; return it if added.

    Runs inside the caller's transaction, so the event commits with the change that caused it.
    The unique index on `dedupe_key` is the final guard when two workers race.
    """
    key = f"{vendor_id}:{kind}:{dedupe_key}"[:200]
    if db.session.scalar(select(Event.id).where(Event.dedupe_key == key)) is not None:
        return None
    event = Event(
        vendor_id=vendor_id,
        kind=kind,
        dedupe_key=key,
        purchase_order_id=purchase_order_id,
        payload=payload,
    )
    db.session.add(event)
    return event
