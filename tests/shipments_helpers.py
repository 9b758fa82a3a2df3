"""Helpers for shipment tests: an acknowledged PO and a vendor with a GS1 company prefix."""

from __future__ import annotations

from tests.orders_helpers import add_po
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder
from webapp.shipments import plans

GS1_PREFIX = "0614141"  # GS1's own example company prefix


def acknowledged_po(vendor_id: int, number: str = "2JK3S9VC", *, accepted: tuple = (120, 5),
                    ship_to: str = "ABE8") -> PurchaseOrder:
    """A PO (10 cases of 12 + 5 eaches) that Amazon shows as acknowledged, with accepted eaches."""
    po = add_po(vendor_id, number, state="Acknowledged")
    po.ack_state = "accepted"
    po.ship_to_party_id = ship_to
    for line, eaches in zip(po.lines, accepted, strict=True):
        line.accepted_eaches = eaches
        line.confirmation_status = "ACCEPTED"
    db.session.commit()
    return po


def with_prefix(vendor):
    """Give the vendor a GS1 company prefix (needed for SSCCs)."""
    vendor.gs1_company_prefix = GS1_PREFIX
    db.session.commit()
    return vendor


def plan(vendor, pos, quantities: dict, *, mode="standard", per: dict | None = None,
         mixed_cartons=1, pallets=0, **transport):
    """Create and commit a ship plan; `quantities` maps line -> quantity in its unit."""
    per = per or {}
    packing = plans.Packing(
        mode=mode, mixed_cartons=mixed_cartons, pallets=pallets,
        lines=[plans.PlanLine(line.id, qty, per.get(line)) for line, qty in quantities.items()])
    defaults = {"carrier_scac": "ABFS", "bill_of_lading": "BOL-1", "transport_mode": "Road"}
    shipment = plans.create_plan(vendor, pos, packing,
                                 plans.Transport(**{**defaults, **transport}))
    db.session.commit()
    return shipment


def sandbox_acknowledged_po(sandbox, vendor, lines: int = 2) -> PurchaseOrder:
    """A PO made by the sandbox, accepted in full through the outbox, its status synced."""
    from sqlalchemy import select

    from tests.amazon_fixtures import control
    from webapp.amazon import outbox
    from webapp.amazon.sync_orders import sync_orders
    from webapp.amazon.sync_status import sync_status
    from webapp.db_types import utcnow
    from webapp.orders.models import Acknowledgement, AcknowledgementLine

    made = control(sandbox, "purchase-orders", {"count": 1, "days_back": 0.2,
                                                "lines_per_po": lines})
    [number] = made["purchase_order_numbers"]
    sync_orders(vendor.id, now=sandbox.store.now())
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == number))
    ack = Acknowledgement(vendor_id=vendor.id, purchase_order_id=po.id, acknowledged_at=utcnow())
    for line in po.lines:
        ack.lines.append(AcknowledgementLine(
            purchase_order_line=line, code="Accepted", quantity=line.ordered_quantity,
            unit_of_measure=line.ordered_unit_of_measure, unit_size=line.ordered_unit_size,
            net_cost_amount=line.net_cost_amount, net_cost_currency=line.net_cost_currency))
    db.session.add(ack)
    db.session.flush()
    message = outbox.queue_acknowledgement(ack)
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    sync_status(vendor.id, now=sandbox.store.now())
    db.session.refresh(po)
    return po
