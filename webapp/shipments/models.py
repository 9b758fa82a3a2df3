"""Shipments (advance ship notices) of acknowledged PO lines to an Amazon warehouse."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db


class Shipment(db.Model):
    """One shipment to one warehouse, confirmed to Amazon as a ShipmentConfirmation (ASN)."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("vendor_id", "shipment_identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    shipment_identifier: Mapped[str] = mapped_column(String(64))
    ship_to_party_id: Mapped[str | None] = mapped_column(String(16))
    # draft, submitted, in_transit, received, discrepancy
    status: Mapped[str] = mapped_column(String(16), default="draft")
    transaction_type: Mapped[str] = mapped_column(String(8), default="New")
    transport_mode: Mapped[str | None] = mapped_column(String(16))
    carrier_scac: Mapped[str | None] = mapped_column(String(8))
    bill_of_lading: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    estimated_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[ShipmentItem]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan"
    )


class ShipmentItem(db.Model):
    """Units of one PO line in a shipment."""

    __tablename__ = "shipment_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    purchase_order_line_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_order_lines.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]
    unit_of_measure: Mapped[str] = mapped_column(String(8))
    unit_size: Mapped[int | None]
    shipped_eaches: Mapped[int]

    shipment: Mapped[Shipment] = relationship(back_populates="items")
