"""OTIF pre-aggregates: counts per vendor, delivery-window end and warehouse or ASIN.

Rows hold every counted line (not cancelled, something confirmed) whatever `now` is; the
"due" rule is applied when reading, on `delivery_window_end`, which every line of a row
shares. Database triggers (migration 0006) mark a (vendor, window end) dirty whenever a
line or a PO's window or warehouse changes, from any writer (ORM, Core, COPY); readers
refresh the dirty marks before reading (`webapp.dashboards.facts`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db_types import UTCDateTime
from webapp.extensions import db


class OtifFact(db.Model):
    """OTIF counts of one vendor's lines sharing a window end and a warehouse (or an ASIN)."""

    __tablename__ = "otif_facts"
    __table_args__ = (UniqueConstraint("vendor_id", "kind", "delivery_window_end", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(1))  # "w": key is a warehouse; "a": an ASIN
    key: Mapped[str] = mapped_column(String(16))  # "" when Amazon gave none
    delivery_window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    lines: Mapped[int] = mapped_column(default=0)
    lines_on_time: Mapped[int] = mapped_column(default=0)
    lines_in_full: Mapped[int] = mapped_column(default=0)
    lines_otif: Mapped[int] = mapped_column(default=0)
    lines_in_full_ordered: Mapped[int] = mapped_column(default=0)
    lines_otif_ordered: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)
    units_ordered: Mapped[int] = mapped_column(default=0)
    units_on_time: Mapped[int] = mapped_column(default=0)
    units_in_full: Mapped[int] = mapped_column(default=0)
    units_otif: Mapped[int] = mapped_column(default=0)
    units_in_full_ordered: Mapped[int] = mapped_column(default=0)
    units_otif_ordered: Mapped[int] = mapped_column(default=0)


class OtifDirty(db.Model):
    """A (vendor, window end) whose facts must be recomputed; `marks` counts the changes."""

    __tablename__ = "otif_dirty"

    # No foreign key: triggers write here while a vendor's rows are being deleted.
    vendor_id: Mapped[int] = mapped_column(primary_key=True)
    delivery_window_end: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    marks: Mapped[int] = mapped_column(default=1)


class OtifFactState(db.Model):
    """The grace the vendor's facts were computed with (a change rebuilds them)."""

    __tablename__ = "otif_fact_states"

    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True)
    grace_days: Mapped[int]
