"""The ASN: a shipment as Amazon's ShipmentConfirmation, queued through the outbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.amazon import outbox
from webapp.amazon.client import isoformat
from webapp.amazon.models import OutboxMessage
from webapp.audit.services import record as audit
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.shipments import loading
from webapp.shipments.models import Shipment, ShipmentCarton
from webapp.shipments.plans import PlanError

# Amazon wants the ASN within 30 minutes of departure: remind a little after that.
OVERDUE_AFTER = timedelta(minutes=30)
NEEDS_BOL = ("TruckLoad", "LessThanTruckLoad")


def _quantity(amount: int, unit: str, size: int | None) -> dict:
    quantity = {"amount": amount, "unitOfMeasure": unit}
    if unit == "Cases":
        quantity["unitSize"] = size or 1
    else:
        quantity["unitSize"] = 1
    return quantity


def _number(value) -> str:
    """Amazon's Decimal: a plain string with two places, never a float."""
    return str(Decimal(value).quantize(Decimal("0.01")))


def _weight(container) -> dict | None:
    if container.weight_value is None:
        return None
    return {"unitOfMeasure": container.weight_unit or "Kg",
            "value": _number(container.weight_value)}


def _dimensions(container) -> dict | None:
    if None in (container.length, container.width, container.height):
        return None
    return {"length": _number(container.length), "width": _number(container.width),
            "height": _number(container.height),
            "unitOfMeasure": container.dimension_unit or "In"}


def _structure(shipment: Shipment, cartons: list[ShipmentCarton]) -> str:
    mixed = any(len(c.contents) > 1 for c in cartons)
    if any(c.pallet_id for c in cartons):
        return "PalletizedAssortmentCase" if mixed else "PalletizedStandardCase"
    return "LooseAssortmentCase" if mixed else "LooseStandardCase"


def build_confirmation(shipment: Shipment, *, confirmed_at=None) -> dict:
    """Render a shipment as one vendorShipments `ShipmentConfirmation`."""
    cartons = [c for c in shipment.cartons if not c.excluded]
    items = [i for i in shipment.items if i.quantity > 0]
    sequence = {item.id: f"{n:03d}" for n, item in enumerate(items, start=1)}
    shipped_items = []
    for item in items:
        line = item.line
        entry = {"itemSequenceNumber": sequence[item.id],
                 "shippedQuantity": _quantity(item.quantity, item.unit_of_measure,
                                              item.unit_size),
                 "itemDetails": {"purchaseOrderNumber": line.purchase_order.po_number}}
        if line.asin:
            entry["amazonProductIdentifier"] = line.asin
        if line.vendor_sku:
            entry["vendorProductIdentifier"] = line.vendor_sku
        shipped_items.append(entry)
    carton_seq = {c.id: f"{n:03d}" for n, c in enumerate(cartons, start=1)}
    carton_bodies = []
    for carton in cartons:
        body = {"cartonIdentifiers": [{"containerIdentificationType": "SSCC",
                                       "containerIdentificationNumber": carton.sscc}],
                "cartonSequenceNumber": carton_seq[carton.id],
                "items": [{"itemReference": sequence[c.shipment_item_id],
                           "shippedQuantity": _quantity(c.quantity, c.unit_of_measure,
                                                        c.unit_size),
                           "itemDetails": {"purchaseOrderNumber":
                                           c.item.line.purchase_order.po_number}}
                          for c in carton.contents
                          if c.shipment_item_id in sequence and c.quantity > 0]}
        if (weight := _weight(carton)) is not None:
            body["weight"] = weight
        if (dimensions := _dimensions(carton)) is not None:
            body["dimensions"] = dimensions
        if carton.tracking_number:
            body["trackingNumber"] = carton.tracking_number
        carton_bodies.append(body)
    pallet_bodies = []
    for pallet in shipment.pallets:
        on_it = [carton_seq[c.id] for c in pallet.cartons if c.id in carton_seq]
        if not on_it:
            continue
        body = {"palletIdentifiers": [{"containerIdentificationType": "SSCC",
                                       "containerIdentificationNumber": pallet.sscc}],
                "cartonReferenceDetails": {"cartonCount": len(on_it),
                                           "cartonReferenceNumbers": on_it}}
        if (weight := _weight(pallet)) is not None:
            body["weight"] = weight
        if (dimensions := _dimensions(pallet)) is not None:
            body["dimensions"] = dimensions
        pallet_bodies.append(body)
    transport = {"transportationMode": shipment.transport_mode or "Road"}
    if shipment.carrier_scac:
        transport["carrierScac"] = shipment.carrier_scac
    if shipment.tracking_number:
        transport["carrierShipmentReferenceNumber"] = shipment.tracking_number
    if shipment.bill_of_lading:
        transport["billOfLadingNumber"] = shipment.bill_of_lading
    party = shipment.selling_party_id or ""
    confirmation = {
        "shipmentIdentifier": shipment.shipment_identifier,
        "shipmentConfirmationType": shipment.confirmation_type,
        "shipmentType": shipment.shipment_type,
        "shipmentStructure": _structure(shipment, cartons),
        "transportationDetails": transport,
        "shipmentConfirmationDate": isoformat(confirmed_at or utcnow()),
        "sellingParty": {"partyId": party},
        "shipFromParty": {"partyId": party},
        "shipToParty": {"partyId": shipment.ship_to_party_id or ""},
        "shippedItems": shipped_items,
        "cartons": carton_bodies,
    }
    if shipment.shipped_at:
        confirmation["shippedDate"] = isoformat(shipment.shipped_at)
    if shipment.estimated_delivery_at:
        confirmation["estimatedDeliveryDate"] = isoformat(shipment.estimated_delivery_at)
    measurements = {}
    weights = [c.weight_value for c in cartons if c.weight_value is not None]
    if weights and len(weights) == len(cartons):
        measurements["grossShipmentWeight"] = {"unitOfMeasure": cartons[0].weight_unit or "Kg",
                                               "value": _number(sum(weights))}
    if pallet_bodies:
        confirmation["pallets"] = pallet_bodies
        measurements["palletCount"] = len(pallet_bodies)
    else:
        measurements["cartonCount"] = len(carton_bodies)
    confirmation["shipmentMeasurements"] = measurements
    return {"shipmentConfirmations": [confirmation]}


def submission_problems(shipment: Shipment) -> list[str]:
    """What must be fixed before the ASN may go (empty when it may)."""
    problems = []
    if not shipment.editable:
        problems.append(_("This shipment was already sent to Amazon."))
    if not shipment.carrier_scac:
        problems.append(_("Enter the carrier's SCAC."))
    if shipment.shipment_type in NEEDS_BOL and not shipment.bill_of_lading:
        problems.append(_("Enter the bill of lading number (required for truck shipments)."))
    if not any(i.quantity > 0 for i in shipment.items):
        problems.append(_("Nothing left to ship."))
    return problems


def submit_asn(shipment: Shipment, *, user_id: int | None = None, actor: str = "system",
               ship_without: bool = False) -> OutboxMessage:
    """Queue the ASN in the outbox (caller commits, then calls outbox.request_send).

    Refused while the loading check has missing or extra cartons, unless `ship_without`
    (the user's explicit choice) takes the missing cartons out of the ASN.
    """
    check = loading.load_check(shipment)
    if check.extra:
        raise PlanError(_("Extra cartons were scanned that are not in the plan: take them "
                          "off the truck and clear them first."))
    if check.missing and check.started:
        if not ship_without:
            raise PlanError(_("%(n)s carton(s) were not scanned. Scan them, or confirm "
                              "shipping without them.", n=len(check.missing)))
        loading.ship_without(shipment, check.missing)
    problems = submission_problems(shipment)
    if problems:
        raise PlanError(" ".join(problems))
    now = utcnow()
    if shipment.shipped_at is None or shipment.shipped_at > now:
        shipment.shipped_at = now  # the ASN goes at departure; Amazon refuses a future date
    if shipment.estimated_delivery_at and shipment.estimated_delivery_at < shipment.shipped_at:
        shipment.estimated_delivery_at = None
    attempt = (db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.subject_type == "shipment",
        OutboxMessage.subject_id == shipment.id)) or 0) + 1
    message = outbox.submit_to_amazon(
        shipment.vendor_id, "shipment_confirmation", shipment.id,
        build_confirmation(shipment, confirmed_at=now),
        idempotency_key=f"asn:{shipment.id}:{attempt}", created_by_id=user_id)
    shipment.outbox_id = message.id
    shipment.status = "pending"
    shipment.asn_submitted_at = now
    audit("shipment.asn_submit", actor=actor, actor_user_id=user_id,
          vendor_id=shipment.vendor_id, target_type="shipment", target_id=shipment.id,
          details={"shipment_identifier": shipment.shipment_identifier,
                   "cartons": len([c for c in shipment.cartons if not c.excluded]),
                   "shipped_without": [c.sscc for c in shipment.cartons if c.excluded]})
    return message


def overdue_shipments(now=None) -> list[Shipment]:
    """Shipments whose ship date passed without an ASN that Amazon took."""
    now = now or utcnow()
    return list(db.session.scalars(select(Shipment).where(
        Shipment.status.in_(("draft", "failed")),
        # A failed Replace: Amazon holds the earlier ASN (and shipment.failed already alerted).
        Shipment.confirmation_type != "Replace",
        Shipment.shipped_at.is_not(None),
        Shipment.shipped_at < now - OVERDUE_AFTER).order_by(Shipment.id)))


def raise_overdue_reminders(now=None) -> int:
    """Raise one `shipment.asn_overdue` event per overdue shipment (deduplicated)."""
    raised = 0
    for shipment in overdue_shipments(now):
        po_id = next((i.line.purchase_order_id for i in shipment.items), None)
        number = next((i.line.purchase_order.po_number for i in shipment.items), "")
        event = raise_event(
            shipment.vendor_id, "shipment.asn_overdue", f"shipment:{shipment.id}",
            purchase_order_id=po_id,
            payload={"shipment_id": shipment.id, "po_number": number,
                     "shipment_identifier": shipment.shipment_identifier,
                     "shipped_at": isoformat(shipment.shipped_at),
                     "detail": f"Shipment {shipment.shipment_identifier}: ship date passed "
                               "without an ASN"})
        raised += event is not None
    db.session.commit()
    return raised
