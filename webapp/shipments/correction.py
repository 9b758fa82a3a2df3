"""Correct an ASN Amazon already holds: edit cartons, quantities and transport, send a Replace."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.amazon import outbox
from webapp.amazon.models import OutboxMessage
from webapp.audit.services import record as audit
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.shipments import asn, plans, receipts
from webapp.shipments.models import Shipment
from webapp.shipments.plans import PlanError, Transport


@dataclass
class CartonEdit:
    """One carton as it really went: on the truck or not, units per content row, weight."""

    carton_id: int
    on_truck: bool = True
    quantities: dict[int, int] = field(default_factory=dict)  # content id -> units
    weight: Decimal | None = None


def refusal(shipment: Shipment) -> str | None:
    """Why this shipment's ASN cannot be corrected now (None when it can)."""
    replacing = shipment.status == "failed" and shipment.confirmation_type == "Replace"
    if shipment.status != "submitted" and not replacing:
        return _("Only an ASN that Amazon accepted can be corrected.")
    if receipts.receipt_started(shipment):
        return _("Amazon has started receiving this shipment: the ASN can no longer change.")
    return None


def _snapshot(shipment: Shipment) -> dict:
    return {"items": {str(i.line.id): i.shipped_eaches for i in shipment.items},
            "cartons": [c.sscc for c in shipment.cartons if not c.excluded],
            "carrier_scac": shipment.carrier_scac, "bill_of_lading": shipment.bill_of_lading,
            "tracking_number": shipment.tracking_number}


def _apply_cartons(shipment: Shipment, edits: dict[int, CartonEdit]) -> None:
    for carton in shipment.cartons:
        edit = edits.get(carton.id)
        if edit is None:
            continue
        carton.excluded = not edit.on_truck
        if edit.weight is not None:
            carton.weight_value = edit.weight
        for content in carton.contents:
            quantity = edit.quantities.get(content.id, content.quantity)
            if quantity < 0:
                raise PlanError(_("Quantities cannot be negative."))
            content.quantity, content.eaches = quantity, quantity * (content.unit_size or 1)
        if edit.on_truck and not any(c.quantity for c in carton.contents):
            raise PlanError(_("Carton %(n)s is empty: mark it as not shipped instead.",
                              n=carton.sequence_number))
    for item in shipment.items:
        live = [c for c in item.shipment.cartons if not c.excluded]
        item.quantity = sum(ci.quantity for c in live for ci in c.contents
                            if ci.shipment_item_id == item.id)
        item.shipped_eaches = item.quantity * (item.unit_size or 1)
    for pallet in shipment.pallets:
        weights = [c.weight_value for c in pallet.cartons
                   if not c.excluded and c.weight_value is not None]
        pallet.weight_value = sum(weights) if weights else None


def _check_limits(shipment: Shipment) -> None:
    """The same limit as a plan: accepted minus what other shipments hold, per line."""
    for item in shipment.items:
        line = item.line
        room = plans._accepted_eaches(line) - plans.shipped_eaches(line.id, excluding=shipment.id)
        if item.shipped_eaches > room:
            raise PlanError(_(
                "Line %(seq)s of PO %(number)s: %(qty)s is more than the %(room)s still to ship.",
                seq=line.item_sequence_number, number=line.purchase_order.po_number,
                qty=item.quantity, room=max(0, room) // (item.unit_size or 1)))
    if not any(i.shipped_eaches for i in shipment.items):
        raise PlanError(_("Nothing left to ship."))


def _set_transport(shipment: Shipment, transport: Transport) -> None:
    plans._check_transport(transport)
    if not transport.carrier_scac:
        raise PlanError(_("Enter the carrier's SCAC."))
    if transport.shipment_type in asn.NEEDS_BOL and not transport.bill_of_lading:
        raise PlanError(_("Enter the bill of lading number (required for truck shipments)."))
    shipment.shipment_type = transport.shipment_type
    shipment.transport_mode = transport.transport_mode
    shipment.carrier_scac = transport.carrier_scac.upper()
    shipment.bill_of_lading = transport.bill_of_lading or None
    shipment.tracking_number = transport.tracking_number or None
    now = utcnow()
    # The goods left already: a date in the future is refused by Amazon, so it is now.
    shipment.shipped_at = min(transport.shipped_at or shipment.shipped_at or now, now)
    shipment.estimated_delivery_at = transport.estimated_delivery_at


def correct_asn(shipment: Shipment, cartons: list[CartonEdit], transport: Transport, *,
                user_id: int | None = None, actor: str = "system") -> OutboxMessage:
    """Apply the corrections and queue a Replace (caller commits, then outbox.request_send)."""
    reason = refusal(shipment)
    if reason:
        raise PlanError(reason)
    before = _snapshot(shipment)
    _apply_cartons(shipment, {c.carton_id: c for c in cartons})
    _check_limits(shipment)
    _set_transport(shipment, transport)
    shipment.confirmation_type = "Replace"
    version = (db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.subject_type == "shipment",
        OutboxMessage.subject_id == shipment.id)) or 0) + 1
    now = utcnow()
    # A new key per version: the outbox would otherwise hand back the previous ASN.
    message = outbox.submit_to_amazon(
        shipment.vendor_id, "shipment_confirmation", shipment.id,
        asn.build_confirmation(shipment, confirmed_at=now),
        idempotency_key=f"asn:{shipment.id}:{version}", created_by_id=user_id)
    # From here only this version's transaction result counts on the shipment.
    shipment.outbox_id = message.id
    shipment.status = "pending"
    audit("shipment.asn_replace", actor=actor, actor_user_id=user_id,
          vendor_id=shipment.vendor_id, target_type="shipment", target_id=shipment.id,
          details={"shipment_identifier": shipment.shipment_identifier, "version": version,
                   "before": before, "after": _snapshot(shipment)})
    return message
