"""Ship plans: which acknowledged PO lines go, how many, packed into which cartons and pallets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.orders.models import (
    Acknowledgement,
    AcknowledgementLine,
    AckState,
    PoState,
    PurchaseOrder,
    PurchaseOrderLine,
    eaches,
)
from webapp.shipments.models import (
    Shipment,
    ShipmentCarton,
    ShipmentCartonItem,
    ShipmentItem,
    ShipmentPallet,
)
from webapp.vendors.models import Vendor

# Shipments that no longer hold goods back from a new plan.
RELEASED = ("cancelled",)
SHIPMENT_TYPES = ("LessThanTruckLoad", "TruckLoad", "SmallParcel")
TRANSPORT_MODES = ("Road", "Air", "Ocean")
WEIGHT_UNITS = ("Kg", "Lb")
DIMENSION_UNITS = ("In", "Meter")
MAX_CONTAINERS = 500


class PlanError(ValueError):
    """A ship plan breaks a rule; the message says which, in the user's language."""


@dataclass
class LineRoom:
    """How much of one PO line may still ship, in the line's unit of measure."""

    line: PurchaseOrderLine
    po: PurchaseOrder
    accepted_eaches: int
    shipped_eaches: int

    @property
    def unit(self) -> str:
        return "Cases" if self.line.ordered_unit_of_measure in ("Cases", "Pallets") else "Eaches"

    @property
    def unit_size(self) -> int:
        return (self.line.ordered_unit_size or 1) if self.unit == "Cases" else 1

    @property
    def room_eaches(self) -> int:
        return max(0, self.accepted_eaches - self.shipped_eaches)

    @property
    def room(self) -> int:
        """Whole units (cases or eaches) that may still ship."""
        return self.room_eaches // self.unit_size


@dataclass
class PlanLine:
    """One chosen line: quantity in its unit, and units per carton for standard packing."""

    line_id: int
    quantity: int
    per_carton: int | None = None


@dataclass
class Transport:
    """Carrier and dates of a shipment."""

    shipment_type: str = "LessThanTruckLoad"
    transport_mode: str = "Road"
    carrier_scac: str | None = None
    bill_of_lading: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    estimated_delivery_at: datetime | None = None


@dataclass
class Packing:
    """How the chosen lines go into cartons (and pallets), with carton measurements."""

    mode: str = "standard"  # standard: cartons of one item; mixed: every carton holds all
    mixed_cartons: int = 1
    pallets: int = 0
    weight: Decimal | None = None  # per carton
    weight_unit: str = "Kg"
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    dimension_unit: str = "In"
    lines: list[PlanLine] = field(default_factory=list)


def acknowledged(po: PurchaseOrder) -> bool:
    """A PO whose answer Amazon has (ours accepted, or Amazon says Acknowledged)."""
    return po.state == PoState.ACKNOWLEDGED.value or (
        po.ack_state == AckState.ACCEPTED.value and po.state != PoState.CLOSED.value)


def _accepted_eaches(line: PurchaseOrderLine) -> int:
    if line.accepted_eaches is not None:  # Amazon's own view wins once synced
        return line.accepted_eaches
    ack_id = db.session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.purchase_order_id == line.purchase_order_id,
            Acknowledgement.state == AckState.ACCEPTED.value)
        .order_by(Acknowledgement.id.desc()).limit(1))
    if ack_id is None:
        return 0
    answers = db.session.scalars(select(AcknowledgementLine).where(
        AcknowledgementLine.acknowledgement_id == ack_id,
        AcknowledgementLine.purchase_order_line_id == line.id,
        AcknowledgementLine.code.in_(("Accepted", "Backordered")))).all()
    return sum(eaches(a.quantity, a.unit_of_measure, a.unit_size) or 0 for a in answers)


def shipped_eaches(line_id: int, *, excluding: int | None = None) -> int:
    """Eaches of a line on every other shipment that still holds goods."""
    query = select(func.coalesce(func.sum(ShipmentItem.shipped_eaches), 0)).join(
        Shipment, Shipment.id == ShipmentItem.shipment_id).where(
        ShipmentItem.purchase_order_line_id == line_id, Shipment.status.not_in(RELEASED))
    if excluding is not None:
        query = query.where(Shipment.id != excluding)
    return int(db.session.scalar(query) or 0)


def line_rooms(vendor_id: int, pos: list[PurchaseOrder]) -> list[LineRoom]:
    """What may still ship of each live line of `pos` (the vendor's own)."""
    rooms = []
    for po in pos:
        if po.vendor_id != vendor_id:
            raise PlanError(_("Purchase order not found."))
        for line in po.lines:
            if line.cancelled:
                continue
            rooms.append(LineRoom(line, po, _accepted_eaches(line), shipped_eaches(line.id)))
    return rooms


def check_pos(vendor_id: int, pos: list[PurchaseOrder]) -> None:
    """Refuse POs that are not acknowledged or go to different warehouses."""
    if not pos:
        raise PlanError(_("Choose at least one purchase order."))
    for po in pos:
        if po.vendor_id != vendor_id:
            raise PlanError(_("Purchase order not found."))
        if not acknowledged(po):
            raise PlanError(_("PO %(number)s is not acknowledged yet.", number=po.po_number))
    if len({po.ship_to_party_id for po in pos}) > 1:
        raise PlanError(_("A shipment goes to one warehouse: these POs ship to different ones."))


def new_shipment_identifier(vendor_id: int) -> str:
    """A shipment id never used by this vendor (Amazon wants none repeated within a year)."""
    while True:
        candidate = "ACN" + secrets.token_hex(5).upper()
        taken = db.session.scalar(select(Shipment.id).where(
            Shipment.vendor_id == vendor_id, Shipment.shipment_identifier == candidate))
        if taken is None:
            return candidate


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _pack(items: list[tuple[ShipmentItem, LineRoom, PlanLine]], packing: Packing
          ) -> list[list[tuple[ShipmentItem, LineRoom, int]]]:
    """Return cartons as lists of (item, room, quantity in the item's unit)."""
    if packing.mode == "mixed":
        count = packing.mixed_cartons
        if count < 1:
            raise PlanError(_("A mixed plan needs at least one carton."))
        cartons = [[] for _slot in range(count)]
        for item, room, plan in items:
            for index, quantity in enumerate(_split(plan.quantity, count)):
                if quantity:
                    cartons[index].append((item, room, quantity))
        return [c for c in cartons if c]
    cartons = []
    for item, room, plan in items:
        per = plan.per_carton or (1 if room.unit == "Cases" else plan.quantity)
        if per < 1:
            raise PlanError(_("Units per carton must be at least 1."))
        left = plan.quantity
        while left > 0:
            take = min(per, left)
            cartons.append([(item, room, take)])
            left -= take
    return cartons


def _measure(target, packing: Packing) -> None:
    target.weight_value, target.weight_unit = packing.weight, packing.weight_unit
    target.length, target.width, target.height = packing.length, packing.width, packing.height
    target.dimension_unit = packing.dimension_unit


def _check_transport(transport: Transport) -> None:
    if transport.shipment_type not in SHIPMENT_TYPES:
        raise PlanError(_("Unknown shipment type."))
    if transport.transport_mode not in TRANSPORT_MODES:
        raise PlanError(_("Unknown transport mode."))
    scac = transport.carrier_scac
    if scac and not (2 <= len(scac) <= 4 and scac.isalpha()):
        raise PlanError(_("A carrier SCAC is 2 to 4 letters."))
    if transport.shipped_at and transport.estimated_delivery_at \
            and transport.estimated_delivery_at < transport.shipped_at:
        raise PlanError(_("Estimated delivery is before the ship date."))


def set_transport(shipment: Shipment, transport: Transport) -> None:
    """Record carrier, bill of lading, tracking and dates on an editable shipment."""
    if not shipment.editable:
        raise PlanError(_("This shipment was already sent to Amazon."))
    _check_transport(transport)
    shipment.shipment_type = transport.shipment_type
    shipment.transport_mode = transport.transport_mode
    shipment.carrier_scac = (transport.carrier_scac or "").upper() or None
    shipment.bill_of_lading = transport.bill_of_lading or None
    shipment.tracking_number = transport.tracking_number or None
    shipment.shipped_at = transport.shipped_at
    shipment.estimated_delivery_at = transport.estimated_delivery_at


def create_plan(vendor: Vendor, pos: list[PurchaseOrder], packing: Packing,
                transport: Transport, *, user_id: int | None = None) -> Shipment:
    """Build a draft shipment with cartons, pallets and SSCCs (caller commits)."""
    from webapp.shipments.sscc import allocate_ssccs

    check_pos(vendor.id, pos)
    _check_transport(transport)
    if packing.weight_unit not in WEIGHT_UNITS or packing.dimension_unit not in DIMENSION_UNITS:
        raise PlanError(_("Unknown unit of weight or size."))
    rooms = {r.line.id: r for r in line_rooms(vendor.id, pos)}
    chosen = [p for p in packing.lines if p.quantity]
    if not chosen:
        raise PlanError(_("Choose at least one line and quantity to ship."))
    shipment = Shipment(
        vendor_id=vendor.id, shipment_identifier=new_shipment_identifier(vendor.id),
        ship_to_party_id=pos[0].ship_to_party_id, selling_party_id=pos[0].selling_party_id,
        status="draft", created_by_id=user_id)
    set_transport(shipment, transport)
    items = []
    for plan in chosen:
        room = rooms.get(plan.line_id)
        if room is None:
            raise PlanError(_("A chosen line is not on these purchase orders."))
        if plan.quantity < 0:
            raise PlanError(_("Quantities cannot be negative."))
        if plan.quantity > room.room:
            raise PlanError(_(
                "Line %(seq)s of PO %(number)s: %(qty)s is more than the %(room)s still to ship.",
                seq=room.line.item_sequence_number, number=room.po.po_number,
                qty=plan.quantity, room=room.room))
        item = ShipmentItem(purchase_order_line_id=room.line.id, quantity=plan.quantity,
                            unit_of_measure=room.unit, unit_size=room.unit_size,
                            shipped_eaches=plan.quantity * room.unit_size)
        shipment.items.append(item)
        items.append((item, room, plan))
    cartons = _pack(items, packing)
    if packing.pallets < 0 or packing.pallets > len(cartons):
        raise PlanError(_("There cannot be more pallets than cartons."))
    if len(cartons) + packing.pallets > MAX_CONTAINERS:
        raise PlanError(_("Too many cartons for one shipment."))
    codes = allocate_ssccs(vendor, len(cartons) + packing.pallets)
    pallets = []
    for index in range(packing.pallets):
        pallet = ShipmentPallet(vendor_id=vendor.id, sequence_number=index + 1,
                                sscc=codes[len(cartons) + index])
        shipment.pallets.append(pallet)
        pallets.append(pallet)
    blocks = _split(len(cartons), len(pallets)) if pallets else []
    owners = [p for p, n in zip(pallets, blocks, strict=True) for _slot in range(n)]
    for index, contents in enumerate(cartons):
        carton = ShipmentCarton(vendor_id=vendor.id, sequence_number=index + 1,
                                sscc=codes[index])
        _measure(carton, packing)
        if owners:
            carton.pallet = owners[index]
        for item, room, quantity in contents:
            carton.contents.append(ShipmentCartonItem(
                item=item, quantity=quantity, unit_of_measure=room.unit,
                unit_size=room.unit_size, eaches=quantity * room.unit_size))
        shipment.cartons.append(carton)
    for pallet in pallets:
        weights = [c.weight_value for c in pallet.cartons if c.weight_value is not None]
        if weights:
            pallet.weight_value, pallet.weight_unit = sum(weights), packing.weight_unit
    db.session.add(shipment)
    db.session.flush()
    return shipment


def cancel(shipment: Shipment) -> None:
    """Drop a draft or failed shipment so its quantities may ship on another."""
    if not shipment.editable or shipment.confirmation_type == "Replace":
        raise PlanError(_("This shipment was already sent to Amazon."))
    shipment.status = "cancelled"
