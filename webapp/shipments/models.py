"""Shipments (advance ship notices) of acknowledged PO lines to an Amazon warehouse."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db

if TYPE_CHECKING:
    from webapp.orders.models import PurchaseOrderLine

MEASURE = Numeric(10, 2, asdecimal=True)


class Shipment(db.Model):
    """One shipment to one warehouse, confirmed to Amazon as a ShipmentConfirmation (ASN)."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("vendor_id", "shipment_identifier"),
        Index("ix_shipments_vendor_status", "vendor_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    shipment_identifier: Mapped[str] = mapped_column(String(64))
    ship_to_party_id: Mapped[str | None] = mapped_column(String(16))
    # draft -> pending (in the outbox) -> submitted (Amazon accepted) | failed; then received
    # or discrepancy once Amazon's receipts are in; cancelled frees the quantities again.
    status: Mapped[str] = mapped_column(String(16), default="draft")
    transaction_type: Mapped[str] = mapped_column(String(8), default="New")
    transport_mode: Mapped[str | None] = mapped_column(String(16))
    carrier_scac: Mapped[str | None] = mapped_column(String(8))
    bill_of_lading: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # planned, then actual
    estimated_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Issue 11 (migration 0009).
    selling_party_id: Mapped[str | None] = mapped_column(String(16))
    shipment_type: Mapped[str] = mapped_column(String(24), default="LessThanTruckLoad")
    confirmation_type: Mapped[str] = mapped_column(String(8), default="Original")
    asn_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    items: Mapped[list[ShipmentItem]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ShipmentItem.id"
    )
    cartons: Mapped[list[ShipmentCarton]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan",
        order_by="ShipmentCarton.sequence_number"
    )
    pallets: Mapped[list[ShipmentPallet]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan",
        order_by="ShipmentPallet.sequence_number"
    )
    photos: Mapped[list[ShipmentPhoto]] = relationship(
        back_populates="shipment", order_by="ShipmentPhoto.id"
    )
    scans: Mapped[list[ShipmentScan]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ShipmentScan.id"
    )

    @property
    def editable(self) -> bool:
        return self.status in ("draft", "failed")


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
    line: Mapped[PurchaseOrderLine] = relationship()


class ShipmentPallet(db.Model):
    """A pallet of cartons, identified by its own SSCC."""

    __tablename__ = "shipment_pallets"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    sequence_number: Mapped[int]
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    weight_value: Mapped[Decimal | None] = mapped_column(MEASURE)
    weight_unit: Mapped[str | None] = mapped_column(String(4))
    length: Mapped[Decimal | None] = mapped_column(MEASURE)
    width: Mapped[Decimal | None] = mapped_column(MEASURE)
    height: Mapped[Decimal | None] = mapped_column(MEASURE)
    dimension_unit: Mapped[str | None] = mapped_column(String(8))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shipment: Mapped[Shipment] = relationship(back_populates="pallets")
    cartons: Mapped[list[ShipmentCarton]] = relationship(
        back_populates="pallet", order_by="ShipmentCarton.sequence_number"
    )


class ShipmentCarton(db.Model):
    """One carton with its SSCC label, measurements and contents."""

    __tablename__ = "shipment_cartons"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    pallet_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipment_pallets.id", ondelete="SET NULL"), index=True
    )
    sequence_number: Mapped[int]
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    weight_value: Mapped[Decimal | None] = mapped_column(MEASURE)
    weight_unit: Mapped[str | None] = mapped_column(String(4))
    length: Mapped[Decimal | None] = mapped_column(MEASURE)
    width: Mapped[Decimal | None] = mapped_column(MEASURE)
    height: Mapped[Decimal | None] = mapped_column(MEASURE)
    dimension_unit: Mapped[str | None] = mapped_column(String(8))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not loaded, and the user chose to ship without it: left out of the ASN.
    excluded: Mapped[bool] = mapped_column(default=False)

    shipment: Mapped[Shipment] = relationship(back_populates="cartons")
    pallet: Mapped[ShipmentPallet | None] = relationship(back_populates="cartons")
    contents: Mapped[list[ShipmentCartonItem]] = relationship(
        back_populates="carton", cascade="all, delete-orphan", order_by="ShipmentCartonItem.id"
    )


class ShipmentCartonItem(db.Model):
    """Units of one shipment item packed in one carton."""

    __tablename__ = "shipment_carton_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    carton_id: Mapped[int] = mapped_column(
        ForeignKey("shipment_cartons.id", ondelete="CASCADE"), index=True
    )
    shipment_item_id: Mapped[int] = mapped_column(
        ForeignKey("shipment_items.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]
    unit_of_measure: Mapped[str] = mapped_column(String(8))
    unit_size: Mapped[int | None]
    eaches: Mapped[int]

    carton: Mapped[ShipmentCarton] = relationship(back_populates="contents")
    item: Mapped[ShipmentItem] = relationship()


class ShipmentScan(db.Model):
    """A scanned code that matched no carton or pallet of the plan (an extra carton)."""

    __tablename__ = "shipment_scans"
    __table_args__ = (UniqueConstraint("shipment_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(48))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="scans")


class ShipmentPhoto(db.Model):
    """A re-encoded dispatch photo (truck, pallet label, signed BOL), kept outside static/."""

    __tablename__ = "shipment_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # truck, pallet_label, bol, other
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None]
    height: Mapped[int | None]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shipment: Mapped[Shipment | None] = relationship(back_populates="photos")

