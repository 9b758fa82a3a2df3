"""Helpers for invoice tests: a vendor, users, a PO Amazon accepted, and a clean draft."""

from __future__ import annotations

from dataclasses import dataclass

from tests.auth_helpers import make_user, make_vendor
from tests.orders_helpers import add_po
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.invoices import services
from webapp.invoices.models import Invoice
from webapp.orders.models import Acknowledgement, AcknowledgementLine, PurchaseOrder


def accept(po: PurchaseOrder, quantities: dict[str, int] | None = None, *,
           state: str = "accepted", costs: dict | None = None) -> Acknowledgement:
    """Record an answer Amazon accepted: every line (or `quantities` by sequence) Accepted."""
    ack = Acknowledgement(vendor_id=po.vendor_id, purchase_order_id=po.id,
                          acknowledged_at=utcnow(), state=state)
    for line in po.lines:
        quantity = (quantities or {}).get(line.item_sequence_number, line.ordered_quantity)
        ack.lines.append(AcknowledgementLine(
            purchase_order_line=line, code="Accepted" if quantity else "Rejected",
            quantity=quantity, unit_of_measure=line.ordered_unit_of_measure,
            unit_size=line.ordered_unit_size,
            net_cost_amount=(costs or {}).get(line.item_sequence_number, line.net_cost_amount),
            net_cost_currency=line.net_cost_currency))
    db.session.add(ack)
    db.session.commit()
    return ack


@dataclass
class Setup:
    vendor: object
    user: object
    po: PurchaseOrder
    invoice: Invoice


def draft_setup(role: str = "finance", *, vendor_name: str = "Tea Trading",
                number: str = "INV-100", acknowledge: bool = True) -> Setup:
    """A vendor (UTC), a user of `role`, PO 2JK3S9VC accepted in full, and a clean draft."""
    vendor = make_vendor(vendor_name, timezone="UTC")
    user, _ = make_user(vendor, role=role)
    po = add_po(vendor.id, hours_ago=30)
    if acknowledge:
        accept(po)
    writer = user if role != "viewer" else make_user(vendor, role="manager")[0]
    invoice = services.create_invoice_from_po(po, user=writer)
    invoice.invoice_number = number
    db.session.commit()
    return Setup(vendor, user, po, invoice)
