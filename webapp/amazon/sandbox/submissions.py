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


def _eaches(quantity: dict | None, line: dict) -> int:
    if not quantity:
        return 0
    amount = int(quantity.get("amount") or 0)
    unit = quantity.get("unitOfMeasure") or line["unit"]
    if unit.lower() == "cases":
        return amount * int(quantity.get("unitSize") or line["unit_size"] or 1)
    return amount


def _all_values(node, key: str):
    """Yield every value stored under `key` anywhere in a JSON document."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield value
            else:
                yield from _all_values(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _all_values(value, key)


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
        """submitInvoices: POs must exist and costs match what was acknowledged."""
        with self.lock:
            errors = []
            for invoice in body.get("invoices") or []:
                for item in invoice.get("items") or []:
                    number = item.get("purchaseOrderNumber")
                    if not number:
                        continue
                    po = self.pos.get(number)
                    if po is None or po["account"] != account["refresh_token"]:
                        errors.append(
                            {
                                "code": "InvalidPurchaseOrder",
                                "message": f"Invoice {invoice.get('id')}: unknown PO {number}.",
                                "details": number,
                            }
                        )
                        continue
                    line = next(
                        (
                            i
                            for i in po["items"]
                            if item.get("amazonProductIdentifier") == i["asin"]
                            or item.get("vendorProductIdentifier") == i["sku"]
                        ),
                        None,
                    )
                    cost = (item.get("netCost") or {}).get("amount")
                    if (
                        line
                        and line["ack_net_cost"]
                        and cost is not None
                        and Decimal(cost) != Decimal(line["ack_net_cost"])
                    ):
                        errors.append(
                            {
                                "code": "NetCostMismatch",
                                "message": f"Invoice {invoice.get('id')}: {line['asin']} invoiced "
                                f"at {cost}, acknowledged at {line['ack_net_cost']}.",
                                "details": number,
                            }
                        )
            keys = [str(i.get("id", "")) for i in body.get("invoices") or []]
            return self._record(account, "invoice", keys, body, errors)

    def submit_shipment_confirmations(self, account: dict, body: dict) -> str:
        """submitShipmentConfirmations: every PO named must exist for this vendor."""
        with self.lock:
            errors = []
            for confirmation in body.get("shipmentConfirmations") or []:
                for number in set(_all_values(confirmation, "purchaseOrderNumber")):
                    po = self.pos.get(number)
                    if po is None or po["account"] != account["refresh_token"]:
                        errors.append(
                            {
                                "code": "InvalidPurchaseOrder",
                                "message": f"Shipment {confirmation.get('shipmentIdentifier')}: "
                                f"unknown PO {number}.",
                                "details": str(number),
                            }
                        )
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
