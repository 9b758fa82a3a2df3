"""A shipment's carton and pallet labels, as LabelData for the labels PDF."""

from __future__ import annotations

from webapp.extensions import db
from webapp.shipments.labels import LabelData, LabelParty, render_labels_pdf
from webapp.shipments.models import Shipment
from webapp.vendors.models import Vendor


def _parties(shipment: Shipment) -> tuple[LabelParty, LabelParty]:
    po = next((i.line.purchase_order for i in shipment.items), None)
    parties = (po.parties or {}) if po else {}
    vendor = db.session.get(Vendor, shipment.vendor_id)
    ship_from = parties.get("shipFromParty") or parties.get("sellingParty") or {
        "partyId": shipment.selling_party_id}
    ship_to = parties.get("shipToParty") or {"partyId": shipment.ship_to_party_id}
    return (LabelParty.from_amazon(ship_from, default_name=vendor.name),
            LabelParty.from_amazon(ship_to, default_name=shipment.ship_to_party_id or ""))


def shipment_labels(shipment: Shipment) -> list[LabelData]:
    """One label per carton (shipped ones), then one per pallet."""
    ship_from, ship_to = _parties(shipment)
    vendor = db.session.get(Vendor, shipment.vendor_id)
    prefix = len(vendor.gs1_company_prefix) if vendor.gs1_company_prefix else None
    cartons = [c for c in shipment.cartons if not c.excluded]
    common = {"ship_from": ship_from, "ship_to": ship_to, "company_prefix_length": prefix,
              "shipment_identifier": shipment.shipment_identifier,
              "carrier": shipment.carrier_scac, "bill_of_lading": shipment.bill_of_lading,
              "tracking_number": shipment.tracking_number}
    labels = []
    for number, carton in enumerate(cartons, start=1):
        pos = sorted({c.item.line.purchase_order.po_number for c in carton.contents})
        contents = tuple(
            f"{c.item.line.asin or c.item.line.vendor_sku} x {c.quantity}"
            f"{' cs' if c.unit_of_measure == 'Cases' else ''}" for c in carton.contents[:4])
        labels.append(LabelData(sscc=carton.sscc, po_numbers=tuple(pos), number=number,
                                total=len(cartons), kind="carton", contents=contents,
                                tracking_number=carton.tracking_number
                                or shipment.tracking_number,
                                **{k: v for k, v in common.items() if k != "tracking_number"}))
    for number, pallet in enumerate(shipment.pallets, start=1):
        pos = sorted({c.item.line.purchase_order.po_number
                      for carton in pallet.cartons for c in carton.contents})
        labels.append(LabelData(sscc=pallet.sscc, po_numbers=tuple(pos), number=number,
                                total=len(shipment.pallets), kind="pallet",
                                contents=(f"{len(pallet.cartons)} cartons",), **common))
    return labels


def labels_pdf(shipment: Shipment) -> bytes:
    """The shipment's labels as one 4x6 inch PDF, a page per label."""
    return render_labels_pdf(shipment_labels(shipment))
