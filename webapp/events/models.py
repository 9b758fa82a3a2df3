"""Domain events (new PO, PO changed, submission failed, ...) that notifications fan out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db


class Event(db.Model):
    """Something that happened to a vendor's data; `dedupe_key` makes raising it idempotent."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_vendor_created", "vendor_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # po.new, po.changed, ack.failed, ...
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
