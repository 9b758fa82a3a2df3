"""Invoices (and credit notes) against POs, their lines and the photos they were read from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import MONEY, UTCDateTime, utcnow
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine


class InvoiceStatus(StrEnum):
    """Where an invoice stands with Amazon (payments are `PaymentState`, recorded by finance)."""

    DRAFT = "draft"  # being written and checked; editable
    PENDING = "pending"  # in the outbox or awaiting Amazon's transaction status
    ACCEPTED = "accepted"  # Amazon's transaction succeeded
    FAILED = "failed"  # Amazon's transaction failed (errors kept); editable and resendable


class PaymentState(StrEnum):
    """How much of an accepted invoice was paid, from the payments finance recorded.

    Amazon's vendor APIs report no remittance, so people record what reached the bank.
    """

    UNPAID = "unpaid"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"


# A number may be sent once per vendor: these statuses hold it (a failed one frees it).
NUMBER_HOLDING = (InvoiceStatus.PENDING.value, InvoiceStatus.ACCEPTED.value)
_HOLDS_NUMBER = sa.text("status IN ('pending', 'accepted')")


class Invoice(db.Model):
    """A vendorInvoices `Invoice` or `CreditNote` for one PO."""

    __tablename__ = "invoices"
    __table_args__ = (
        # Drafts may share a number (the check says so); a number Amazon holds is unique.
        Index("ix_invoices_vendor_number_sent", "vendor_id", "invoice_number", unique=True,
              sqlite_where=_HOLDS_NUMBER, postgresql_where=_HOLDS_NUMBER),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="SET NULL"), index=True
    )
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    invoice_type: Mapped[str] = mapped_column(String(16), default="Invoice")  # or CreditNote
    invoice_date: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    tax_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    tax_type: Mapped[str | None] = mapped_column(String(16))  # Amazon's TaxDetails.taxType
    charges_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    charge_type: Mapped[str | None] = mapped_column(String(32))  # ChargeDetails.type
    allowances_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    allowance_type: Mapped[str | None] = mapped_column(String(32))  # AllowanceDetails.type
    reference_invoice_number: Mapped[str | None] = mapped_column(String(64))  # credit notes
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.DRAFT.value)
    # Bumped by every change of the user's data; one mismatch alert per version.
    version: Mapped[int] = mapped_column(default=1)
    # Header fields the user typed (OCR never overwrites them) and what OCR read, with
    # confidences: {"invoice_number": {"value": "INV-1", "confidence": 0.97}, ...}.
    entered_fields: Mapped[list | None] = mapped_column(JSON)
    ocr_fields: Mapped[dict | None] = mapped_column(JSON)
    errors: Mapped[list | None] = mapped_column(JSON)  # Amazon's, from the transaction status
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The PaymentState, kept by webapp.invoices.payments from exact Decimal sums (SQLite would
    # compare sums in SQL as floats); None until a payment is recorded (unpaid).
    payment_state: Mapped[str | None] = mapped_column(String(16))

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id"
    )
    photos: Mapped[list[InvoicePhoto]] = relationship(
        back_populates="invoice", order_by="InvoicePhoto.page_number"
    )
    purchase_order: Mapped[PurchaseOrder | None] = relationship()
    payments: Mapped[list[InvoicePayment]] = relationship(
        back_populates="invoice", order_by="InvoicePayment.paid_on, InvoicePayment.id",
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def shown_status(self) -> str:
        """The status people see: "paid" or "partly_paid" once money is recorded, else status."""
        if self.status == InvoiceStatus.ACCEPTED.value and self.payment_state in (
                PaymentState.PARTLY_PAID.value, PaymentState.PAID.value):
            return self.payment_state
        return self.status

    @property
    def editable(self) -> bool:
        """Drafts and failed invoices can be corrected; sent ones cannot."""
        return self.status in (InvoiceStatus.DRAFT.value, InvoiceStatus.FAILED.value)


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
    quantity_eaches: Mapped[int | None]  # derived on write: quantity x unit size for Cases
    net_cost_amount: Mapped[Decimal] = mapped_column(MONEY)
    net_cost_currency: Mapped[str] = mapped_column(String(3))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    purchase_order_line: Mapped[PurchaseOrderLine | None] = relationship()


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
    # Server-made keys in the media store (webapp.media.storage); never the upload's name.
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))  # of the re-encoded image
    width: Mapped[int | None]
    height: Mapped[int | None]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored bytes
    # The client's file name, cleaned, for display only (webapp.media.intake.display_name).
    original_filename: Mapped[str | None] = mapped_column(String(255))
    # queued, running, done, failed
    ocr_state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    ocr_result: Mapped[dict | None] = mapped_column(JSON)
    ocr_error: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice | None] = relationship(back_populates="photos")
    purchase_order: Mapped[PurchaseOrder | None] = relationship("PurchaseOrder")


class InvoicePayment(db.Model):
    """Money received for an accepted invoice, recorded by finance (partial payments too)."""

    __tablename__ = "invoice_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    paid_on: Mapped[date]  # the day the money arrived, in the vendor's time zone
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))  # always the invoice's currency
    reference: Mapped[str | None] = mapped_column(String(64))  # remittance / bank reference
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
