"""What Amazon received of a shipment, from the PO lines' synced receipts; the gap per item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from webapp.amazon.client import isoformat
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders.models import PoState
from webapp.shipments.models import Shipment, ShipmentItem

# Shipments whose units Amazon should have (ASN accepted) and that receipts settle.
SENT = ("submitted", "receiving", "received", "discrepancy")
# Statuses that more receipts may still change (received is final: receipts only grow).
OPEN = ("submitted", "receiving", "discrepancy")


@dataclass
class ItemGap:
    """Shipped versus received units (eaches) of one shipment item."""

    item: ShipmentItem
    shipped: int
    received: int | None  # None until Amazon reports a receipt for the line

    @property
    def gap(self) -> int:
        return max(0, self.shipped - (self.received or 0)) if self.received is not None else 0


def _received_for(shipment: Shipment, item: ShipmentItem) -> int | None:
    """Amazon's received eaches of the line, given to this line's shipments oldest first."""
    line = item.line
    if line.last_received_at is None and not line.received_eaches:
        return None
    left = line.received_eaches or 0
    earlier = db.session.execute(
        select(ShipmentItem.id, ShipmentItem.shipped_eaches).join(
            Shipment, Shipment.id == ShipmentItem.shipment_id).where(
            ShipmentItem.purchase_order_line_id == line.id, Shipment.status.in_(SENT),
            Shipment.vendor_id == shipment.vendor_id)
        .order_by(Shipment.shipped_at, Shipment.id)).all()
    for row in earlier:
        if row.id == item.id:
            return min(left, item.shipped_eaches)
        left = max(0, left - row.shipped_eaches)
    return min(left, item.shipped_eaches)


def item_gaps(shipment: Shipment) -> list[ItemGap]:
    """Per item: shipped, received (if known) and the shortfall."""
    return [ItemGap(item, item.shipped_eaches, _received_for(shipment, item))
            for item in shipment.items if item.shipped_eaches > 0]


def receipt_started(shipment: Shipment) -> bool:
    """Whether Amazon has received any unit of this shipment (then an ASN is final)."""
    return any(g.received for g in item_gaps(shipment))


def grace() -> timedelta:
    return timedelta(days=current_app.config.get("SHIPMENT_RECEIPT_GRACE_DAYS", 7))


def receiving_closes_at(shipment: Shipment) -> datetime | None:
    """When a still-short shipment is judged: grace after delivery and after the last unit."""
    moments = [m for m in [shipment.estimated_delivery_at or shipment.shipped_at]
               + [i.line.last_received_at for i in shipment.items] if m is not None]
    return max(moments) + grace() if moments else None


def _line_done(item: ShipmentItem) -> bool:
    """Amazon finished receiving the line: the PO is closed or the line is fully received."""
    line = item.line
    if line.purchase_order.state == PoState.CLOSED.value:
        return True
    return line.accepted_eaches is not None and (line.received_eaches or 0) >= \
        line.accepted_eaches


def receiving_over(shipment: Shipment, now: datetime | None = None) -> bool:
    """Amazon says every line is done, or the grace period passed without more units."""
    if all(_line_done(i) for i in shipment.items if i.shipped_eaches > 0):
        return True
    closes = receiving_closes_at(shipment)
    return closes is not None and (now or utcnow()) >= closes


def judge(shipment: Shipment, now: datetime | None = None) -> str:
    """The status Amazon's receipts give a sent shipment (without changing it)."""
    if shipment.status not in OPEN:
        return shipment.status
    gaps = item_gaps(shipment)
    if not gaps or all(g.received is None for g in gaps):
        # Nothing received yet; a closed PO means Amazon is done: all of it is missing.
        if gaps and all(_line_done(g.item) for g in gaps):
            return "discrepancy"
        return "submitted"
    if not any(g.received is None or g.gap for g in gaps):
        return "received"
    return "discrepancy" if receiving_over(shipment, now) else "receiving"


def _raise_shortage(shipment: Shipment) -> None:
    gaps = item_gaps(shipment)
    short = sum(g.gap if g.received is not None else g.shipped for g in gaps)
    first = shipment.items[0].line if shipment.items else None
    raise_event(
        shipment.vendor_id, "shipment.shortage", f"shipment:{shipment.id}",
        purchase_order_id=first.purchase_order_id if first else None,
        payload={"shipment_id": shipment.id,
                 "shipment_identifier": shipment.shipment_identifier,
                 "po_number": first.purchase_order.po_number if first else "",
                 "short_eaches": short, "judged_at": isoformat(utcnow()),
                 "detail": f"Shipment {shipment.shipment_identifier}: Amazon received "
                           f"{short} unit(s) fewer than shipped"})


def settle_receipts(shipment: Shipment, now: datetime | None = None) -> str:
    """Move a sent shipment to receiving, received or discrepancy (caller commits)."""
    before = shipment.status
    shipment.status = judge(shipment, now)
    if shipment.status == "discrepancy" and before != "discrepancy":
        _raise_shortage(shipment)  # deduplicated per shipment: one push however often
    return shipment.status


def settle_all(vendor_id: int | None = None, now: datetime | None = None) -> int:
    """Settle every open sent shipment (of one vendor) and commit; return how many changed."""
    query = select(Shipment).where(Shipment.status.in_(OPEN)).order_by(Shipment.id)
    if vendor_id is not None:
        query = query.where(Shipment.vendor_id == vendor_id)
    changed = 0
    for shipment in db.session.scalars(query).all():
        before = shipment.status
        changed += settle_receipts(shipment, now) != before
    db.session.commit()
    return changed
