"""ASN status: shipments by state, late ASNs, received versus shipped units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from webapp.dashboards.periods import last_synced
from webapp.extensions import db
from webapp.orders.models import PurchaseOrderLine as Line
from webapp.shipments.models import Shipment, ShipmentItem
from webapp.vendors.models import Vendor

STATES = ("submitted", "in_transit", "received", "discrepancy")
OPEN = ("submitted", "in_transit")
FEEDS = ("status",)


@dataclass
class AsnStatus:
    """Counts of the vendor's ASNs and units."""

    by_state: dict[str, int]
    late: int  # submitted or in transit past their estimated delivery
    shipped_units: int  # on received or discrepant ASNs
    received_units: int  # of the lines on those ASNs, as Amazon reports them
    synced_at: datetime | None

    @property
    def empty(self) -> bool:
        return not any(self.by_state.values())

    def to_json(self) -> dict:
        """Figures for the JSON API."""
        return {"by_state": self.by_state, "late": self.late,
                "shipped_units": self.shipped_units, "received_units": self.received_units,
                "synced_at": self.synced_at and self.synced_at.isoformat()}


def asn_status(vendor: Vendor, now: datetime) -> AsnStatus:
    """Count the vendor's ASNs by state and compare shipped with received units."""
    counts = dict(db.session.execute(
        select(Shipment.status, func.count(Shipment.id)).where(Shipment.vendor_id == vendor.id)
        .group_by(Shipment.status)).all())
    late = db.session.scalar(select(func.count(Shipment.id)).where(
        Shipment.vendor_id == vendor.id, Shipment.status.in_(OPEN),
        Shipment.estimated_delivery_at < now)) or 0
    done = select(ShipmentItem.purchase_order_line_id, ShipmentItem.shipped_eaches).join(
        Shipment, Shipment.id == ShipmentItem.shipment_id).where(
        Shipment.vendor_id == vendor.id, Shipment.status.in_(("received", "discrepancy")))
    rows = db.session.execute(done).all()
    shipped = sum(r.shipped_eaches for r in rows)
    line_ids = {r.purchase_order_line_id for r in rows}
    received = 0
    if line_ids:
        received = db.session.scalar(select(func.coalesce(func.sum(Line.received_eaches), 0))
                                     .where(Line.id.in_(line_ids),
                                            Line.vendor_id == vendor.id)) or 0
    return AsnStatus({s: int(counts.get(s, 0)) for s in STATES}, int(late), int(shipped),
                     int(received), last_synced(vendor.id, FEEDS))
