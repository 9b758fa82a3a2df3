"""A PO's answer as Amazon's SubmitAcknowledgementRequest (what the outbox sends)."""

from __future__ import annotations

from webapp.amazon.client import isoformat
from webapp.db_types import Money
from webapp.extensions import db
from webapp.orders.models import Acknowledgement, PurchaseOrder


def build_acknowledgement_payload(ack: Acknowledgement) -> dict:
    """Render an Acknowledgement as Amazon's SubmitAcknowledgementRequest."""
    po: PurchaseOrder = db.session.get(PurchaseOrder, ack.purchase_order_id)
    by_line: dict[int, list] = {}
    for answer in ack.lines:
        by_line.setdefault(answer.purchase_order_line_id, []).append(answer)
    items = []
    for line in po.lines:  # Amazon's order; lines left out count as rejected
        answers = by_line.get(line.id)
        if not answers:
            continue
        item = {
            "itemSequenceNumber": line.item_sequence_number,
            "orderedQuantity": _quantity(line.ordered_quantity, line.ordered_unit_of_measure,
                                         line.ordered_unit_size),
            "itemAcknowledgements": [],
        }
        if line.asin:
            item["amazonProductIdentifier"] = line.asin
        if line.vendor_sku:
            item["vendorProductIdentifier"] = line.vendor_sku
        cost = next((a for a in answers if a.net_cost_amount is not None), None)
        if cost is not None:
            item["netCost"] = Money(cost.net_cost_amount, cost.net_cost_currency).to_amazon()
        elif line.net_cost is not None:
            item["netCost"] = line.net_cost.to_amazon()
        if line.list_price is not None:
            item["listPrice"] = line.list_price.to_amazon()
        for answer in answers:
            entry = {
                "acknowledgementCode": answer.code,
                "acknowledgedQuantity": _quantity(answer.quantity, answer.unit_of_measure,
                                                  answer.unit_size),
            }
            if answer.scheduled_ship_at:
                entry["scheduledShipDate"] = isoformat(answer.scheduled_ship_at)
            if answer.scheduled_delivery_at:
                entry["scheduledDeliveryDate"] = isoformat(answer.scheduled_delivery_at)
            if answer.rejection_reason:
                entry["rejectionReason"] = answer.rejection_reason
            item["itemAcknowledgements"].append(entry)
        items.append(item)
    return {"acknowledgements": [{
        "purchaseOrderNumber": po.po_number,
        "sellingParty": {"partyId": po.selling_party_id},
        "acknowledgementDate": isoformat(ack.acknowledged_at),
        "items": items,
    }]}


def _quantity(amount: int, unit: str | None, size: int | None) -> dict:
    # The model's ItemQuantity knows Eaches and Cases only; a pallet is sent as its eaches.
    unit = unit or "Eaches"
    if unit == "Pallets":
        return {"amount": amount * (size or 1), "unitOfMeasure": "Eaches", "unitSize": 1}
    quantity = {"amount": amount, "unitOfMeasure": unit}
    if size:
        quantity["unitSize"] = size
    return quantity
