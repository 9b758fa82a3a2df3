"""The loading check: scanned labels ticked off against the plan; missing and extra cartons."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.shipments.models import Shipment, ShipmentCarton, ShipmentScan
from webapp.shipments.plans import PlanError
from webapp.shipments.sscc import parse_sscc


@dataclass
class LoadCheck:
    """Where the loading check stands."""

    scanned: list[ShipmentCarton]
    missing: list[ShipmentCarton]
    extra: list[str]
    pallets_scanned: int
    pallets_total: int

    @property
    def started(self) -> bool:
        return bool(self.scanned or self.extra or self.pallets_scanned)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.extra


def load_check(shipment: Shipment) -> LoadCheck:
    """Compare the scans with the plan's cartons (cartons shipped without are left out)."""
    live = [c for c in shipment.cartons if not c.excluded]
    return LoadCheck(scanned=[c for c in live if c.scanned_at],
                     missing=[c for c in live if not c.scanned_at],
                     extra=[s.code for s in shipment.scans],
                     pallets_scanned=sum(1 for p in shipment.pallets if p.scanned_at),
                     pallets_total=len(shipment.pallets))


def record_scan(shipment: Shipment, text: str) -> tuple[str, str]:
    """Tick off one scanned label; return (outcome, SSCC): carton, pallet, repeat or extra."""
    if not shipment.editable:
        raise PlanError(_("This shipment was already sent to Amazon."))
    code = parse_sscc(text or "")
    if code is None:
        raise PlanError(_("That is not a valid SSCC label."))
    now = utcnow()
    for carton in shipment.cartons:
        if carton.sscc == code:
            if carton.scanned_at or carton.excluded:
                return "repeat", code
            carton.scanned_at = now
            return "carton", code
    for pallet in shipment.pallets:
        if pallet.sscc == code:
            if pallet.scanned_at:
                return "repeat", code
            pallet.scanned_at = now
            return "pallet", code
    if any(s.code == code for s in shipment.scans):
        return "repeat", code
    shipment.scans.append(ShipmentScan(code=code, scanned_at=now))
    return "extra", code


def clear_extras(shipment: Shipment) -> int:
    """Forget scanned cartons that are not in the plan (they were taken off the truck)."""
    count = len(shipment.scans)
    db.session.execute(delete(ShipmentScan).where(ShipmentScan.shipment_id == shipment.id))
    db.session.expire(shipment, ["scans"])
    return count


def reset_scans(shipment: Shipment) -> None:
    """Start the loading check again."""
    for carton in shipment.cartons:
        carton.scanned_at = None
    for pallet in shipment.pallets:
        pallet.scanned_at = None
    clear_extras(shipment)


def ship_without(shipment: Shipment, cartons: list[ShipmentCarton]) -> None:
    """Take unloaded cartons out of the shipment: their units are free to ship later."""
    for carton in cartons:
        carton.excluded = True
        for content in carton.contents:
            item = content.item
            item.quantity -= content.quantity
            item.shipped_eaches -= content.eaches
