"""Purchase orders as Amazon's vendorOrders v1 model has them, with acknowledgements, receipts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import MONEY, Money, UTCDateTime, utcnow
from webapp.extensions import db


class PoState(StrEnum):
    """Amazon's `purchaseOrderState`."""

    NEW = "New"
    ACKNOWLEDGED = "Acknowledged"
    CLOSED = "Closed"


class AckState(StrEnum):
    """Where ACORN's answer to a PO stands."""

    NONE = "none"  # nothing sent yet
    PENDING = "pending"  # in the outbox or awaiting Amazon's transaction status
    ACCEPTED = "accepted"  # Amazon's transaction succeeded
    FAILED = "failed"  # Amazon's transaction failed, or it could not be sent
    MISMATCH = "mismatch"  # Amazon's view of the PO disagrees with what was sent


class AckCode(StrEnum):
    """Amazon's `acknowledgementCode` per line."""

    ACCEPTED = "Accepted"
    BACKORDERED = "Backordered"
    REJECTED = "Rejected"


class RejectionReason(StrEnum):
    """Amazon's `rejectionReason` codes."""

    TEMPORARILY_UNAVAILABLE = "TemporarilyUnavailable"
    INVALID_PRODUCT_IDENTIFIER = "InvalidProductIdentifier"
    OBSOLETE_PRODUCT = "ObsoleteProduct"


def eaches(amount: int | None, unit_of_measure: str | None, unit_size: int | None) -> int | None:
    """Convert an Amazon ItemQuantity to single units (Cases and Pallets hold unit_size each)."""
    if amount is None:
        return None
    if unit_of_measure in ("Cases", "Pallets"):
        return amount * (unit_size or 1)
    return amount


class PurchaseOrder(db.Model):
    """One Amazon purchase order of one vendor (keyed by vendor and PO number)."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("vendor_id", "po_number"),
        # The inbox: open POs of a vendor by acknowledgement deadline (keyset on id).
        Index("ix_purchase_orders_inbox", "vendor_id", "state", "ack_due_at", "id"),
        Index("ix_purchase_orders_vendor_ordered", "vendor_id", "ordered_at"),
        Index("ix_purchase_orders_vendor_delivery", "vendor_id", "delivery_window_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    po_number: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=PoState.NEW.value)
    po_type: Mapped[str] = mapped_column(String(32), default="RegularOrder")
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amazon_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Amazon sends windows as "start--end" ISO 8601 intervals; both ends are kept.
    ship_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ship_window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    selling_party_id: Mapped[str | None] = mapped_column(String(16))
    buying_party_id: Mapped[str | None] = mapped_column(String(16))
    ship_to_party_id: Mapped[str | None] = mapped_column(String(16), index=True)
    bill_to_party_id: Mapped[str | None] = mapped_column(String(16))
    # Full party objects (addresses, tax info) as Amazon sent them, for labels and invoices.
    parties: Mapped[dict | None] = mapped_column(JSON)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    deal_code: Mapped[str | None] = mapped_column(String(64))
    import_details: Mapped[dict | None] = mapped_column(JSON)
    marketplace_id: Mapped[str | None] = mapped_column(String(16))
    # Acknowledgement deadline (PO date + the vendor's ack_deadline_hours) and our answer's state.
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_state: Mapped[str] = mapped_column(String(16), default=AckState.NONE.value)
    changed_by_amazon: Mapped[bool] = mapped_column(default=False)
    first_synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="purchase_order",
        cascade="all, delete-orphan",
        order_by="PurchaseOrderLine.id",
    )

    def __repr__(self) -> str:
        return f"<PurchaseOrder {self.po_number} {self.state}>"


class PurchaseOrderLine(db.Model):
    """One item of a PO, with Amazon's ordered quantity, unit of measure and costs."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "item_sequence_number"),
        Index("ix_purchase_order_lines_vendor_asin", "vendor_id", "asin"),
        # The inbox search by SKU (issue 5).
        Index("ix_purchase_order_lines_vendor_sku", "vendor_id", "vendor_sku"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE")
    )
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    item_sequence_number: Mapped[str] = mapped_column(String(8))
    asin: Mapped[str | None] = mapped_column(String(16))
    vendor_sku: Mapped[str | None] = mapped_column(String(64))
    ordered_quantity: Mapped[int]
    ordered_unit_of_measure: Mapped[str] = mapped_column(String(8), default="Eaches")
    ordered_unit_size: Mapped[int | None]
    ordered_eaches: Mapped[int]  # derived on write: quantity x unit size for Cases/Pallets
    back_order_allowed: Mapped[bool] = mapped_column(default=False)
    net_cost_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    net_cost_currency: Mapped[str | None] = mapped_column(String(3))
    net_cost_unit_of_measure: Mapped[str | None] = mapped_column(String(8))
    list_price_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    list_price_currency: Mapped[str | None] = mapped_column(String(3))
    cancelled: Mapped[bool] = mapped_column(default=False)
    # Amazon's view from getPurchaseOrdersStatus (acknowledgement and receiving status).
    confirmation_status: Mapped[str | None] = mapped_column(String(24))
    accepted_quantity: Mapped[int | None]
    accepted_unit_of_measure: Mapped[str | None] = mapped_column(String(8))
    accepted_unit_size: Mapped[int | None]
    accepted_eaches: Mapped[int | None]
    rejected_eaches: Mapped[int | None]
    received_quantity: Mapped[int | None]
    received_unit_of_measure: Mapped[str | None] = mapped_column(String(8))
    received_unit_size: Mapped[int | None]
    received_eaches: Mapped[int | None]
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")

    @property
    def net_cost(self) -> Money | None:
        if self.net_cost_amount is None:
            return None
        return Money(self.net_cost_amount, self.net_cost_currency)

    @property
    def list_price(self) -> Money | None:
        if self.list_price_amount is None:
            return None
        return Money(self.list_price_amount, self.list_price_currency)


class Acknowledgement(db.Model):
    """One answer ACORN sent (or will send) to Amazon for a PO, line by line."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    state: Mapped[str] = mapped_column(String(16), default=AckState.PENDING.value)

    lines: Mapped[list[AcknowledgementLine]] = relationship(
        back_populates="acknowledgement", cascade="all, delete-orphan"
    )


class AcknowledgementLine(db.Model):
    """The answer for one PO line: accepted, backordered or rejected, how many and when."""

    __tablename__ = "acknowledgement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    acknowledgement_id: Mapped[int] = mapped_column(
        ForeignKey("acknowledgements.id", ondelete="CASCADE"), index=True
    )
    purchase_order_line_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_order_lines.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int]
    unit_of_measure: Mapped[str] = mapped_column(String(8))
    unit_size: Mapped[int | None]
    scheduled_ship_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(32))
    net_cost_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    net_cost_currency: Mapped[str | None] = mapped_column(String(3))

    acknowledgement: Mapped[Acknowledgement] = relationship(back_populates="lines")
    purchase_order_line: Mapped[PurchaseOrderLine] = relationship()


class Receipt(db.Model):
    """Amazon's cumulative received quantity of a PO line as of a receive date."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("purchase_order_line_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_order_lines.id", ondelete="CASCADE")
    )
    received_quantity: Mapped[int]
    unit_of_measure: Mapped[str] = mapped_column(String(8))
    unit_size: Mapped[int | None]
    received_eaches: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApprovalState(StrEnum):
    """Where a dual-control request stands."""

    WAITING = "waiting"
    APPROVED = "approved"
    DECLINED = "declined"


class AckApproval(db.Model):
    """A rejection above the vendor's limit, waiting for a second manager (dual control)."""

    __tablename__ = "ack_approvals"
    __table_args__ = (Index("ix_ack_approvals_vendor_state", "vendor_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    # The answers as the API body has them, so an approval sends exactly what was asked.
    answers: Mapped[list] = mapped_column(JSON)
    rejected_value: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), default=ApprovalState.WAITING.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledgement_id: Mapped[int | None] = mapped_column(
        ForeignKey("acknowledgements.id", ondelete="SET NULL"))
