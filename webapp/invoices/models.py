"""Invoices (and credit notes) against POs, their lines and the photos they were read from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import MONEY, UTCDateTime, utcnow
from webapp.extensions import db


class Invoice(db.Model):
    """A vendorInvoices `Invoice` or `CreditNote` for one PO."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("vendor_id", "invoice_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="SET NULL"), index=True
    )
    invoice_number: Mapped[str] = mapped_column(String(64))
    invoice_type: Mapped[str] = mapped_column(String(16), default="Invoice")
    invoice_date: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    tax_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    charges_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    allowances_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    # draft, pending, accepted, failed, paid
    status: Mapped[str] = mapped_column(String(16), default="draft")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan"
    )
    photos: Mapped[list[InvoicePhoto]] = relationship(
        back_populates="invoice", order_by="InvoicePhoto.page_number"
    )


class InvoiceLine(db.Model):
    """One invoiced item: quantity in Amazon's unit of measure and unit cost."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    purchase_order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_order_lines.id", ondelete="SET NULL")
    )
    item_sequence_number: Mapped[str] = mapped_column(String(8))
    asin: Mapped[str | None] = mapped_column(String(16))
    vendor_sku: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_of_measure: Mapped[str] = mapped_column(String(8), default="Eaches")
    unit_size: Mapped[int | None]
    net_cost_amount: Mapped[Decimal] = mapped_column(MONEY)
    net_cost_currency: Mapped[str] = mapped_column(String(3))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoicePhoto(db.Model):
    """A re-encoded photo (or PDF page) of a paper invoice, stored outside static/."""

    __tablename__ = "invoice_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL"), index=True
    )
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="SET NULL")
    )
    page_number: Mapped[int] = mapped_column(default=1)
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None]
    height: Mapped[int | None]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # queued, running, done, failed
    ocr_state: Mapped[str] = mapped_column(String(16), default="queued")
    ocr_result: Mapped[dict | None] = mapped_column(JSON)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice | None] = relationship(back_populates="photos")
