"""Shipment confirmations (ASNs) as Amazon keeps them, and the receipts that settle them.

Mixed into `SandboxStore` (see store.py), whose `lock`, `pos`, `shipments`, `now()` and
`_touch()` it uses. Each ASN is recorded once per (account, shipment identifier): a second
`Original` with the same identifier is refused, a `Replace` swaps the recorded one (refused
for an unknown identifier or once the warehouse received it). A PO closes once received ASNs
cover all it accepted. Tests make
Amazon receive a shipment (in full, without some cartons, or short per line) through the
control API, and the PO status feed then reports the received units.
"""

from __future__ import annotations

from webapp.amazon.sandbox.errors import ApiError
from webapp.amazon.sandbox.generator import iso


def _sscc_ok(code: str) -> bool:
    if not (isinstance(code, str) and len(code) == 18 and code.isascii() and code.isdigit()):
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(code[:-1])))
    return (10 - total % 10) % 10 == int(code[-1])


def _eaches(quantity: dict) -> int:
    amount = int(quantity.get("amount") or 0)
    if quantity.get("unitOfMeasure") == "Cases":
        return amount * int(quantity.get("unitSize") or 1)
    return amount


def _ssccs(identifiers: list | None) -> list[str]:
    return [i.get("containerIdentificationNumber", "") for i in identifiers or []
            if i.get("containerIdentificationType") == "SSCC"]


class ShipmentLife:
    """Check and record ASNs; receive them, fully or short."""

    def _shipment_key(self, account: dict, identifier: str) -> str:
        return f"{account['refresh_token']}|{identifier}"

    def _shipped_elsewhere(self, account: dict, skip: str | None) -> dict[tuple[str, str], int]:
        totals: dict[tuple[str, str], int] = {}
        for key, shipment in self.shipments.items():
            if key == skip or shipment["account"] != account["refresh_token"]:
                continue
            for line in shipment["lines"]:
                pair = (line["po"], line["seq"])
                totals[pair] = totals.get(pair, 0) + line["eaches"]
        return totals

    def _check_confirmation(self, account: dict, confirmation: dict):
        """Return (errors, record) for one ShipmentConfirmation under Amazon's rules."""
        identifier = str(confirmation.get("shipmentIdentifier") or "")
        errors = []

        def fail(code, message, details=""):
            errors.append({"code": code, "message": f"Shipment {identifier}: {message}",
                           "details": str(details)})

        key = self._shipment_key(account, identifier)
        kind = confirmation.get("shipmentConfirmationType")
        if kind == "Original" and key in self.shipments:
            fail("DuplicateShipmentIdentifier", "this shipment identifier was already used.",
                 identifier)
        if kind == "Replace" and key not in self.shipments:
            fail("ShipmentNotFound", "there is no shipment to replace.", identifier)
        elif kind == "Replace" and self.shipments[key]["received"]:
            fail("ShipmentAlreadyReceived", "the warehouse has received it; it cannot be "
                 "replaced.", identifier)
        selling = (confirmation.get("sellingParty") or {}).get("partyId")
        if selling not in account["vendor_codes"]:
            fail("InvalidSellingParty", f"sellingParty {selling!r} is not yours.", selling)
        ship_to = (confirmation.get("shipToParty") or {}).get("partyId")
        before = self._shipped_elsewhere(account, key if kind == "Replace" else None)
        lines, by_ref = [], {}
        for entry in confirmation.get("shippedItems") or []:
            seq_ref = entry.get("itemSequenceNumber")
            number = (entry.get("itemDetails") or {}).get("purchaseOrderNumber")
            po = self.pos.get(number or "")
            if po is None or po["account"] != account["refresh_token"]:
                fail("InvalidPurchaseOrder", f"unknown PO {number}.", number)
                continue
            if po["state"] == "New":
                fail("PurchaseOrderNotAcknowledged", f"PO {number} is not acknowledged.", number)
            if po["ship_to"] != ship_to:
                fail("InvalidShipToParty", f"PO {number} ships to {po['ship_to']}.", ship_to)
            item = next((i for i in po["items"]
                         if entry.get("amazonProductIdentifier") in (i["asin"],)
                         or entry.get("vendorProductIdentifier") in (i["sku"],)), None)
            if item is None:
                fail("InvalidItem", f"item {seq_ref} is not on PO {number}.", seq_ref)
                continue
            shipped = _eaches(entry.get("shippedQuantity") or {})
            total = before.get((number, item["seq"]), 0) + shipped
            if total > item["accepted"]:
                fail("QuantityExceedsAccepted",
                     f"PO {number} item {item['seq']}: {total} shipped, {item['accepted']} "
                     "accepted.", item["seq"])
            line = {"po": number, "seq": item["seq"], "ref": seq_ref, "eaches": shipped,
                    "cartons": {}}
            lines.append(line)
            by_ref[seq_ref] = line
        seen: set[str] = set()
        packed: dict[str, int] = {}
        for carton in confirmation.get("cartons") or []:
            codes = _ssccs(carton.get("cartonIdentifiers"))
            for code in codes:
                if not _sscc_ok(code):
                    fail("InvalidSSCC", f"carton label {code!r} is not a valid SSCC.", code)
                elif code in seen:
                    fail("DuplicateSSCC", f"carton label {code} is used twice.", code)
                seen.add(code)
            for content in carton.get("items") or []:
                ref = content.get("itemReference")
                line = by_ref.get(ref)
                if line is None:
                    fail("InvalidItemReference", f"a carton refers to unknown item {ref}.", ref)
                    continue
                amount = _eaches(content.get("shippedQuantity") or {})
                packed[ref] = packed.get(ref, 0) + amount
                label = codes[0] if codes else carton.get("cartonSequenceNumber", "")
                line["cartons"][label] = line["cartons"].get(label, 0) + amount
        if confirmation.get("cartons"):
            for ref, line in by_ref.items():
                if packed.get(ref, 0) != line["eaches"]:
                    fail("CartonQuantityMismatch",
                         f"item {ref}: cartons hold {packed.get(ref, 0)}, {line['eaches']} "
                         "shipped.", ref)
        for pallet in confirmation.get("pallets") or []:
            for code in _ssccs(pallet.get("palletIdentifiers")):
                if not _sscc_ok(code) or code in seen:
                    fail("InvalidSSCC", f"pallet label {code!r} is invalid or repeated.", code)
                seen.add(code)
        previous = self.shipments.get(key) if kind == "Replace" else None
        record = {"account": account["refresh_token"], "identifier": identifier,
                  "lines": lines, "received": False, "body": confirmation,
                  "version": (previous or {}).get("version", 1) + (1 if previous else 0)}
        return errors, key, record

    def _record_shipments(self, account: dict, body: dict) -> list[dict]:
        """Check every confirmation; record them all only if none has an error."""
        errors, records = [], []
        for confirmation in body.get("shipmentConfirmations") or []:
            problems, key, record = self._check_confirmation(account, confirmation)
            errors += problems
            records.append((key, record))
        if not errors:
            stamp = iso(self.now())
            for key, record in records:
                record["recorded_at"] = stamp
                self.shipments[key] = record
        return errors

    def shipment_summary(self) -> dict:
        """Recorded ASNs by identifier (control API)."""
        with self.lock:
            return {"shipments": [
                {"identifier": s["identifier"], "recorded_at": s.get("recorded_at"),
                 "received": s["received"], "lines": s["lines"],
                 "version": s.get("version", 1),
                 "type": s.get("body", {}).get("shipmentConfirmationType")}
                for s in self.shipments.values()]}

    def receive_shipment(self, refresh_token: str | None, identifier: str, *,
                         missing_cartons=(), short: dict | None = None) -> dict:
        """Amazon receives a recorded ASN: all of it but missing cartons and per-line shorts.

        `short` maps "PO:itemSequenceNumber" (the PO's own line number) to eaches not received.
        """
        with self.lock:
            account = self.account(refresh_token)
            record = self.shipments.get(self._shipment_key(account, identifier))
            if record is None:
                raise ApiError(404, "NotFound", f"No shipment {identifier}.", identifier)
            if record["received"]:
                raise ApiError(409, "AlreadyReceived", f"Shipment {identifier} was received.")
            missing = set(missing_cartons or ())
            short = short or {}
            moment = self.now()
            stamp = iso(moment)
            received = {}
            for line in record["lines"]:
                got = line["eaches"]
                if line["cartons"]:
                    got = sum(n for label, n in line["cartons"].items() if label not in missing)
                got = max(0, got - int(short.get(f"{line['po']}:{line['seq']}", 0)))
                po = self.pos[line["po"]]
                item = next(i for i in po["items"] if i["seq"] == line["seq"])
                item["received"] += got
                item["last_received"] = stamp
                # Amazon's own planned receipt must not overwrite what this ASN brought.
                po["plan"]["asn_receipts"] = True
                self._touch(po, moment)
                received[f"{line['po']}:{line['seq']}"] = received.get(
                    f"{line['po']}:{line['seq']}", 0) + got
            record["received"] = True
            self._close_received_pos(account, {line["po"] for line in record["lines"]}, moment)
            self.dirty = True
            return {"identifier": identifier, "received_eaches": received, "at": stamp}

    def _close_received_pos(self, account: dict, numbers: set[str], moment) -> None:
        """Close a PO once received ASNs cover all it accepted: no more units are expected."""
        covered: dict[tuple[str, str], int] = {}
        for shipment in self.shipments.values():
            if shipment["account"] != account["refresh_token"] or not shipment["received"]:
                continue
            for line in shipment["lines"]:
                pair = (line["po"], line["seq"])
                covered[pair] = covered.get(pair, 0) + line["eaches"]
        for number in numbers:
            po = self.pos.get(number)
            if po is None or po["state"] == "Closed":
                continue
            if all(covered.get((number, item["seq"]), 0) >= item["accepted"]
                   for item in po["items"] if not item["cancelled"]):
                self._touch(po, moment, "Closed")
