"""Helpers for purchase-order tests: a PO with two lines for a vendor, saved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine


def add_po(vendor_id: int, number: str = "2JK3S9VC", *, hours_ago: float = 2,
           due_in_hours: float | None = None, state: str = "New", **overrides) -> PurchaseOrder:
    """Save a New PO (10 cases of 12 + 5 eaches) ordered `hours_ago`."""
    ordered = utcnow().replace(microsecond=0) - timedelta(hours=hours_ago)
    due = ordered + timedelta(hours=24) if due_in_hours is None \
        else utcnow().replace(microsecond=0) + timedelta(hours=due_in_hours)
    po = PurchaseOrder(vendor_id=vendor_id, po_number=number, state=state, ordered_at=ordered,
                       ack_due_at=due, ship_to_party_id="ABE8", marketplace_id="ATVPDKIKX0DER",
                       selling_party_id="DEMO1", ship_window_start=ordered + timedelta(days=3),
                       ship_window_end=ordered + timedelta(days=10),
                       delivery_window_end=ordered + timedelta(days=14), **overrides)
    po.lines = [
        PurchaseOrderLine(vendor_id=vendor_id, item_sequence_number="1", asin="B07DFVDRAB",
                          vendor_sku="SKU-TEA-1", ordered_quantity=10,
                          ordered_unit_of_measure="Cases", ordered_unit_size=12,
                          ordered_eaches=120, back_order_allowed=True,
                          net_cost_amount=Decimal("10.50"), net_cost_currency="USD"),
        PurchaseOrderLine(vendor_id=vendor_id, item_sequence_number="2", asin="B07DFYF5CM",
                          vendor_sku="SKU-CUP-2", ordered_quantity=5,
                          ordered_unit_of_measure="Eaches", ordered_unit_size=1,
                          ordered_eaches=5, back_order_allowed=False,
                          net_cost_amount=Decimal("3.99"), net_cost_currency="USD"),
    ]
    db.session.add(po)
    db.session.commit()
    return po
