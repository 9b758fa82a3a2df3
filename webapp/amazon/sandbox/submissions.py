"""What vendors send Amazon: acknowledgements, invoices, shipment confirmations, transactions.

Each submission is checked against Amazon's rules, applied all or nothing, and recorded with a
transaction whose status is polled with getTransaction. Mixed into `SandboxStore` (see
store.py), whose `lock`, `rng`, `pos`, `transactions`, `submissions` and `now()` it uses, and
the line-answer rules of orders.py (`_set_line_answer`, `_touch`, `_after_answer`).
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation

from webapp.amazon.sandbox.errors import ApiError
from webapp.amazon.sandbox.generator import iso, parse_iso

SUBMISSION_KINDS = ("acknowledgement", "invoice", "shipment_confirmation")
CENT = Decimal("0.01")


def _eaches(quantity: dict | None, line: dict) -> int:
    if not quantity:
        return 0
    amount = int(quantity.get("amount") or 0)
    unit = quantity.get("unitOfMeasure") or line["unit"]
    if unit.lower() == "cases":
        return amount * int(quantity.get("unitSize") or line["unit_size"] or 1)
    return amount


def _amount(money: dict | None) -> Decimal:
    try:
        return Decimal((money or {}).get("amount") or "0")
    except InvalidOperation:
        return Decimal(0)


class Submissions:
    """Take in vendor submissions, check them, and report their transactions."""

    def _record(
        self, account: dict, kind: str, keys: list[str], body: dict, errors: list[dict]
    ) -> str:
        transaction_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        stamp = iso(self.now())
        self.transactions[transaction_id] = {
            "id": transaction_id,
            "account": account["refresh_token"],
            "kind": kind,
            "status": "Failure" if errors else "Success",
            "errors": errors,
            "polls": 0,
            "created_at": stamp,
        }
        for key in keys:
            self.submissions.append(
                {
                    "kind": kind,
                    "key": key,
                    "transaction_id": transaction_id,
                    "received_at": stamp,
                    "accepted": not errors,
                }
            )
        self.submissions.append(
            {
                "kind": kind,
                "key": None,
                "transaction_id": transaction_id,
                "received_at": stamp,
                "body": body,
            }
        )
        self.dirty = True
        return transaction_id

    def submit_acknowledgements(self, account: dict, body: dict) -> str:
        """submitAcknowledgement: check Amazon's rules, apply all or nothing, return the id."""
        with self.lock:
            errors, plans = [], []
            for ack in body.get("acknowledgements") or []:
                problems, plan = self._check_acknowledgement(account, ack)
                errors += problems
                plans.append(plan)
            if not errors:
                for po, answers in plans:
                    moment = self.now()
                    for item, accepted, stamp, cost in answers:
                        self._set_line_answer(item, accepted, stamp, cost)
                    closed = all(i["accepted"] == 0 for i in po["items"])
                    self._touch(po, moment, "Closed" if closed else "Acknowledged")
                    self._after_answer(po, moment)
            keys = [a.get("purchaseOrderNumber", "") for a in body.get("acknowledgements") or []]
            return self._record(account, "acknowledgement", keys, body, errors)

    def _check_acknowledgement(self, account: dict, ack: dict):
        number = ack.get("purchaseOrderNumber", "")
        po = self.pos.get(number)
        if po is None or po["account"] != account["refresh_token"]:
            return [
                {
                    "code": "InvalidPurchaseOrder",
                    "message": f"Purchase order {number} was not found.",
                    "details": number,
                }
            ], None
        errors = []

        def fail(code, message, details=""):
            errors.append({"code": code, "message": f"{number}: {message}", "details": details})

        if po["state"] == "Closed":
            fail("PurchaseOrderClosed", "the purchase order is closed.")
        selling = (ack.get("sellingParty") or {}).get("partyId")
        if selling != po["vendor_code"]:
            fail("InvalidSellingParty", f"sellingParty {selling!r} does not own this order.")
        stamp = iso(parse_iso(ack["acknowledgementDate"]))
        by_seq = {i["seq"]: i for i in po["items"]}
        answers, answered = [], set()
        for entry in ack.get("items") or []:
            item = by_seq.get(entry.get("itemSequenceNumber") or "") or next(
                (
                    i
                    for i in po["items"]
                    if entry.get("amazonProductIdentifier") in (i["asin"],)
                    or entry.get("vendorProductIdentifier") in (i["sku"],)
                ),
                None,
            )
            if item is None or item["seq"] in answered:
                fail(
                    "InvalidItem",
                    "an acknowledged item is not on the order or is repeated.",
                    json.dumps(entry.get("itemSequenceNumber")),
                )
                continue
            answered.add(item["seq"])
            codes: dict[str, int] = {}
            for line in entry.get("itemAcknowledgements") or []:
                code = line["acknowledgementCode"]
                codes[code] = codes.get(code, 0) + _eaches(line["acknowledgedQuantity"], item)
            accepted = codes.get("Accepted", 0) + codes.get("Backordered", 0)
            ordered = item["amount"] * item["unit_size"]
            seq = item["seq"]
            if accepted > ordered:
                fail("QuantityExceedsOrdered", f"item {seq} accepts {accepted} of {ordered}.", seq)
            if codes.get("Backordered") and not item["backorder"]:
                fail("BackorderNotAllowed", f"item {seq} may not be backordered.", seq)
            if accepted and item["ever_rejected"]:
                fail("RejectedItemCannotBeAccepted", f"item {seq} was rejected before.", seq)
            cost = (entry.get("netCost") or {}).get("amount")
            if cost is not None:
                try:
                    if Decimal(cost) <= 0:
                        raise InvalidOperation
                except InvalidOperation:
                    fail("InvalidNetCost", f"item {seq} net cost must be positive.", seq)
            answers.append((item, accepted, stamp, cost or item["net_cost"]))
        for item in po["items"]:  # lines left out count as rejected
            if item["seq"] not in answered and not item["cancelled"]:
                answers.append((item, 0, stamp, None))
        return errors, (po, answers)

    def submit_invoices(self, account: dict, body: dict) -> str:
        """submitInvoices: Amazon's matching rules, all or nothing; an invoice id counts once.

        POs must exist for this vendor, items be on them, net costs and currencies match what
        was acknowledged, invoiced units stay within the accepted ones (over all accepted
        invoices), totals add up to the cent and an accepted invoice id is never taken twice.
        """
        with self.lock:
            errors, plans = [], []
            taken = self._accepted_invoice_ids(account)
            for invoice in body.get("invoices") or []:
                problems, plan = self._check_invoice(account, invoice, taken)
                errors += problems
                plans += plan
                taken.add(str(invoice.get("id", "")))
            if not errors:
                for line, units in plans:
                    line["invoiced"] = line.get("invoiced", 0) + units
            keys = [str(i.get("id", "")) for i in body.get("invoices") or []]
            return self._record(account, "invoice", keys, body, errors)

    def _accepted_invoice_ids(self, account: dict) -> set[str]:
        accepted = set()
        for row in self.submissions:
            if row["kind"] != "invoice" or row["key"] is None or not row.get("accepted"):
                continue
            record = self.transactions.get(row["transaction_id"]) or {}
            if record.get("account") == account["refresh_token"]:
                accepted.add(row["key"])
        return accepted

    def _check_invoice(self, account: dict, invoice: dict, taken: set[str]):
        invoice_id = str(invoice.get("id", ""))
        errors, plan = [], []
        counted: dict[int, int] = {}

        def fail(code, message, details=""):
            errors.append({"code": code, "message": f"Invoice {invoice_id}: {message}",
                           "details": str(details)})

        if invoice_id in taken:
            fail("DuplicateInvoice", "this invoice number was already accepted.", invoice_id)
        currency = (invoice.get("invoiceTotal") or {}).get("currencyCode")
        total = Decimal(0)
        for item in invoice.get("items") or []:
            cost = item.get("netCost") or {}
            quantity = item.get("invoicedQuantity") or {}
            try:
                amount = Decimal(cost.get("amount") or "0")
            except InvalidOperation:
                fail("InvalidNetCost", "a net cost is not a number.",
                     item.get("itemSequenceNumber"))
                continue
            units = _eaches(quantity, {"unit": "Eaches", "unit_size": 1})
            total += amount * units
            if cost.get("currencyCode") != currency:
                fail("CurrencyMismatch", f"item {item.get('itemSequenceNumber')} is in "
                     f"{cost.get('currencyCode')}, the invoice in {currency}.", currency)
            number = item.get("purchaseOrderNumber")
            if not number:
                continue
            po = self.pos.get(number)
            if po is None or po["account"] != account["refresh_token"]:
                fail("InvalidPurchaseOrder", f"unknown PO {number}.", number)
                continue
            asin, sku = item.get("amazonProductIdentifier"), item.get("vendorProductIdentifier")
            line = next((i for i in po["items"] if (asin and asin == i["asin"])
                         or (sku and sku == i["sku"])), None)
            if line is None:
                if asin or sku:
                    fail("InvalidItem", f"{asin or sku} is not on PO {number}.", number)
                continue
            if line["ack_net_cost"] and Decimal(cost.get("amount") or "0") != Decimal(
                    line["ack_net_cost"]):
                fail("NetCostMismatch", f"{line['asin']} invoiced at {cost.get('amount')}, "
                     f"acknowledged at {line['ack_net_cost']}.", number)
            if cost.get("currencyCode") and cost["currencyCode"] != line["currency"]:
                fail("CurrencyMismatch", f"{line['asin']} is ordered in {line['currency']}.",
                     number)
            if invoice.get("invoiceType") == "Invoice":
                units = _eaches(quantity, line)
                counted[id(line)] = counted.get(id(line), 0) + units
                if line.get("invoiced", 0) + counted[id(line)] > line["accepted"]:
                    fail("QuantityExceedsAccepted", f"{line['asin']} invoices "
                         f"{line.get('invoiced', 0) + counted[id(line)]} units, "
                         f"{line['accepted']} accepted.", number)
                plan.append((line, units))
        for key, name in (("taxDetails", "taxAmount"), ("chargeDetails", "chargeAmount")):
            total += sum(_amount(d.get(name)) for d in invoice.get(key) or [])
        total -= sum(_amount(d.get("allowanceAmount")) for d in invoice.get("allowanceDetails")
                     or [])
        stated = _amount(invoice.get("invoiceTotal"))
        if total.quantize(CENT) != stated.quantize(CENT):
            fail("InvoiceTotalMismatch", f"items, taxes and charges add up to "
                 f"{total.quantize(CENT)}, the total says {stated}.", invoice_id)
        return errors, plan

    def submit_shipment_confirmations(self, account: dict, body: dict) -> str:
        """submitShipmentConfirmations: Amazon's ASN rules (shipments.py); each ASN kept once."""
        with self.lock:
            errors = self._record_shipments(account, body)
            keys = [
                str(c.get("shipmentIdentifier", ""))
                for c in body.get("shipmentConfirmations") or []
            ]
            return self._record(account, "shipment_confirmation", keys, body, errors)

    def get_transaction(self, account: dict, transaction_id: str) -> dict:
        """getTransaction: Processing on the first look, then the final status."""
        with self.lock:
            record = self.transactions.get(transaction_id)
            if record is None or record["account"] != account["refresh_token"]:
                raise ApiError(404, "NotFound", "The transaction was not found.", transaction_id)
            record["polls"] += 1
            self.dirty = True
            status = "Processing" if record["polls"] == 1 else record["status"]
            result = {"transactionId": transaction_id, "status": status}
            if status == "Failure":
                result["errors"] = record["errors"]
            return {"payload": {"transactionStatus": result}}

    def submission_summary(self, kind: str | None) -> dict:
        """List received submissions of `kind` with counts per key (PO, invoice, shipment)."""
        with self.lock:
            rows = [
                s
                for s in self.submissions
                if s["key"] is not None and (kind is None or s["kind"] == kind)
            ]
            bodies = [
                {
                    "transaction_id": s["transaction_id"],
                    "kind": s["kind"],
                    "received_at": s["received_at"],
                    "body": s["body"],
                }
                for s in self.submissions
                if s["key"] is None and (kind is None or s["kind"] == kind)
            ]
            counts: dict[str, int] = {}
            for row in rows:
                counts[row["key"]] = counts.get(row["key"], 0) + 1
            return {
                "kind": kind,
                "total": len(bodies),
                "counts": counts,
                "items": rows,
                "requests": bodies,
            }
