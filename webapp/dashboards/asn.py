"""ASN status: shipments by state, late ASNs, received versus shipped units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select

from webapp.dashboards.periods import last_synced
from webapp.extensions import db
from webapp.orders.models import PurchaseOrderLine as Line
from webapp.shipments.models import Shipment, ShipmentItem
from webapp.vendors.models import Vendor

# Shipment states once an ASN has left ACORN (webapp/shipments/models.py); drafts and
# cancelled plans are not ASNs.
STATES = ("pending", "submitted", "receiving", "received", "discrepancy", "failed")
OPEN = ("pending", "submitted")  # sent, nothing received yet: late once past the ETA
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


def _statements():
    # Built once: two statements per overview instead of four, without rebuilding them per call.
    vendor_id = bindparam("vendor_id")
    now = bindparam("now", type_=Shipment.estimated_delivery_at.type)
    late = case((Shipment.status.in_(OPEN) & (Shipment.estimated_delivery_at < now), 1), else_=0)
    by_state = select(Shipment.status, func.count(Shipment.id), func.sum(late)).where(
        Shipment.vendor_id == vendor_id).group_by(Shipment.status)
    done = select(ShipmentItem.purchase_order_line_id, ShipmentItem.shipped_eaches).join(
        Shipment, Shipment.id == ShipmentItem.shipment_id).where(
        Shipment.vendor_id == vendor_id, Shipment.status.in_(("received", "discrepancy"))
    ).subquery()
    shipped = select(func.coalesce(func.sum(done.c.shipped_eaches), 0)).scalar_subquery()
    received = select(func.coalesce(func.sum(Line.received_eaches), 0)).where(
        Line.id.in_(select(done.c.purchase_order_line_id)),
        Line.vendor_id == vendor_id).scalar_subquery()
    return by_state, select(shipped, received)


_BY_STATE, _UNITS = _statements()


def asn_status(vendor: Vendor, now: datetime) -> AsnStatus:
    """Count the vendor's ASNs by state and compare shipped with received units."""
    counts, late = {}, 0
    for status, count, late_here in db.session.execute(_BY_STATE,
                                                       {"vendor_id": vendor.id, "now": now}):
        counts[status], late = count, late + int(late_here or 0)
    shipped, received = db.session.execute(_UNITS, {"vendor_id": vendor.id}).one()
    return AsnStatus({s: int(counts.get(s, 0)) for s in STATES}, int(late), int(shipped),
                     int(received), last_synced(vendor.id, FEEDS))
