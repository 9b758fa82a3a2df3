"""Render an invoice as Amazon's SubmitInvoicesRequest (vendorInvoices v1)."""

from __future__ import annotations

from webapp.db_types import Money
from webapp.invoices.models import Invoice, InvoiceLine
from webapp.orders.models import PurchaseOrder

# Amazon's PO parties keep their address in vendorOrders' shape; invoices name two fields apart.
_ADDRESS_FIELDS = {
    "name": "name", "addressLine1": "addressLine1", "addressLine2": "addressLine2",
    "addressLine3": "addressLine3", "city": "city", "county": "county", "district": "district",
    "stateOrRegion": "stateOrRegion", "postalCode": "postalOrZipCode",
    "postalOrZipCode": "postalOrZipCode", "countryCode": "countryCode", "phone": "phone",
}


def build_invoice_body(invoice: Invoice) -> dict:
    """Return the SubmitInvoicesRequest for one invoice (or credit note) and its PO."""
    po: PurchaseOrder = invoice.purchase_order
    money = _money_of(invoice.currency)
    body = {
        "invoiceType": invoice.invoice_type,
        "id": invoice.invoice_number.strip(),
        "date": f"{invoice.invoice_date.isoformat()}T00:00:00Z",
        "remitToParty": _party(po, "sellingParty", po.selling_party_id),
        "invoiceTotal": money(invoice.total_amount),
        "items": [_item(invoice, line, po, n) for n, line in
                  enumerate((x for x in invoice.lines if x.quantity > 0), start=1)],
    }
    if po.bill_to_party_id or (po.parties or {}).get("billToParty"):
        body["billToParty"] = _party(po, "billToParty", po.bill_to_party_id)
    if po.ship_to_party_id or (po.parties or {}).get("shipToParty"):
        body["shipToParty"] = _party(po, "shipToParty", po.ship_to_party_id)
    if invoice.tax_amount:
        body["taxDetails"] = [{"taxType": invoice.tax_type or "VAT",
                               "taxAmount": money(invoice.tax_amount)}]
    if invoice.charges_amount:
        body["chargeDetails"] = [{"type": invoice.charge_type or "Freight",
                                  "chargeAmount": money(invoice.charges_amount)}]
    if invoice.allowances_amount:
        body["allowanceDetails"] = [{"type": invoice.allowance_type or "Discount",
                                     "allowanceAmount": money(invoice.allowances_amount)}]
    return {"invoices": [body]}


def _money_of(currency: str):
    return lambda amount: Money(amount, currency).to_amazon()


def _item(invoice: Invoice, line: InvoiceLine, po: PurchaseOrder, position: int) -> dict:
    seq = line.item_sequence_number
    item = {
        # Amazon's item sequence number where it is numeric (it always is on real POs).
        "itemSequenceNumber": int(seq) if seq and seq.isdigit() else position,
        "invoicedQuantity": _quantity(line),
        "netCost": Money(line.net_cost_amount, line.net_cost_currency).to_amazon(),
        "purchaseOrderNumber": po.po_number,
    }
    if line.asin:
        item["amazonProductIdentifier"] = line.asin
    if line.vendor_sku:
        item["vendorProductIdentifier"] = line.vendor_sku
    if invoice.invoice_type == "CreditNote" and invoice.reference_invoice_number:
        item["creditNoteDetails"] = {"referenceInvoiceNumber": invoice.reference_invoice_number}
    return item


def _quantity(line: InvoiceLine) -> dict:
    # The model's ItemQuantity knows Eaches and Cases only; a pallet is sent as its eaches.
    if line.unit_of_measure == "Pallets":
        return {"amount": line.quantity * (line.unit_size or 1), "unitOfMeasure": "Eaches",
                "unitSize": 1}
    quantity = {"amount": line.quantity, "unitOfMeasure": line.unit_of_measure or "Eaches"}
    if line.unit_size:
        quantity["unitSize"] = line.unit_size
    return quantity


def _party(po: PurchaseOrder, key: str, party_id: str | None) -> dict:
    """A PartyIdentification as the PO gives it: id, address and tax registration."""
    given = (po.parties or {}).get(key) or {}
    party = {"partyId": str(given.get("partyId") or party_id or "")}
    address = given.get("address")
    if isinstance(address, dict):
        converted = {_ADDRESS_FIELDS[k]: str(v) for k, v in address.items()
                     if k in _ADDRESS_FIELDS and v not in (None, "")}
        if {"name", "addressLine1", "countryCode"} <= converted.keys():
            party["address"] = converted
    tax = given.get("taxInfo")
    if isinstance(tax, dict) and tax.get("taxRegistrationType") in ("VAT", "GST") \
            and tax.get("taxRegistrationNumber"):
        party["taxRegistrationDetails"] = [{
            "taxRegistrationType": tax["taxRegistrationType"],
            "taxRegistrationNumber": str(tax["taxRegistrationNumber"])}]
    return party
