"""What Amazon's order endpoints answer: `Order` and `OrderStatus` JSON, filters, paging.

getPurchaseOrders, getPurchaseOrder and getPurchaseOrdersStatus. Mixed into `SandboxStore`
(see store.py), whose `lock`, `pos`, `order_keys`, `accounts` and `now()` it reads; the JSON
caches `_order_cache` and `_status_cache` live there too, keyed by PO number and version.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json

from webapp.amazon.sandbox import generator as gen
from webapp.amazon.sandbox.errors import ApiError, invalid_input
from webapp.amazon.sandbox.generator import iso
from webapp.amazon.sandbox.params import MAX_WINDOW, enum_param, flag_param, window


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _eaches_quantity(amount: int) -> dict:
    return {"amount": amount, "unitOfMeasure": "Eaches", "unitSize": 1}


class OrderQueries:
    """Render purchase orders as Amazon does and answer the paged order and status listings."""

    def order_json(self, po: dict) -> bytes:
        """Return the `Order` JSON of a PO, serialised once per version."""
        cached = self._order_cache.get(po["number"])
        if cached and cached[0] == po["version"]:
            return cached[1]
        data = _dumps(self.order_dict(po))
        self._order_cache[po["number"]] = (po["version"], data)
        return data

    def order_dict(self, po: dict, details: bool = True) -> dict:
        """Build the model's `Order` for a PO."""
        order = {"purchaseOrderNumber": po["number"], "purchaseOrderState": po["state"]}
        if not details:
            return order
        account = self.accounts[po["account"]]
        info = {
            "purchaseOrderDate": po["ordered_at"],
            "purchaseOrderStateChangedDate": po["state_changed_at"],
            "purchaseOrderType": po["type"],
            "paymentMethod": po["payment_method"],
            "buyingParty": gen.BUYING_PARTY,
            "sellingParty": gen.party(po["vendor_code"], account["name"]),
            "shipToParty": gen.party(po["ship_to"]),
            "billToParty": gen.BILL_TO_PARTY,
            "shipWindow": "--".join(po["ship_window"]),
            "deliveryWindow": "--".join(po["delivery_window"]),
            "items": [
                {
                    "itemSequenceNumber": item["seq"],
                    "amazonProductIdentifier": item["asin"],
                    "vendorProductIdentifier": item["sku"],
                    "orderedQuantity": {
                        "amount": item["amount"],
                        "unitOfMeasure": item["unit"],
                        "unitSize": item["unit_size"],
                    },
                    "isBackOrderAllowed": item["backorder"],
                    "netCost": {"currencyCode": item["currency"], "amount": item["net_cost"]},
                    "listPrice": {"currencyCode": item["currency"], "amount": item["list_price"]},
                }
                for item in po["items"]
            ],
        }
        if po["changed_at"]:
            info["purchaseOrderChangedDate"] = po["changed_at"]
        if po["deal_code"]:
            info["dealCode"] = po["deal_code"]
        order["orderDetails"] = info
        return order

    def status_json(self, po: dict) -> bytes:
        """Return the `OrderStatus` JSON of a PO, serialised once per version."""
        cached = self._status_cache.get(po["number"])
        if cached and cached[0] == po["version"]:
            return cached[1]
        data = _dumps(self.status_dict(po))
        self._status_cache[po["number"]] = (po["version"], data)
        return data

    def status_dict(self, po: dict) -> dict:
        """Build the model's `OrderStatus` (acknowledgement and receiving per line)."""
        items = []
        for item in po["items"]:
            ordered = {
                "amount": item["amount"],
                "unitOfMeasure": item["unit"],
                "unitSize": item["unit_size"],
            }
            detail = {
                "updatedDate": item["quantity_updated_at"] or po["ordered_at"],
                "orderedQuantity": ordered,
            }
            cut = item["original_amount"] - item["amount"]
            if cut:
                detail["cancelledQuantity"] = {
                    "amount": cut,
                    "unitOfMeasure": item["unit"],
                    "unitSize": item["unit_size"],
                }
            ack = {"confirmationStatus": item["confirmation"]}
            if item["ack_date"]:
                ack["acceptedQuantity"] = _eaches_quantity(item["accepted"])
                ack["rejectedQuantity"] = _eaches_quantity(item["rejected"])
                ack["acknowledgementStatusDetails"] = [
                    {
                        "acknowledgementDate": item["ack_date"],
                        "acceptedQuantity": _eaches_quantity(item["accepted"]),
                        "rejectedQuantity": _eaches_quantity(item["rejected"]),
                    }
                ]
            receiving = {
                "receiveStatus": self._receive_status(item),
                "receivedQuantity": _eaches_quantity(item["received"]),
            }
            if item["last_received"]:
                receiving["lastReceiveDate"] = item["last_received"]
            items.append(
                {
                    "itemSequenceNumber": item["seq"],
                    "buyerProductIdentifier": item["asin"],
                    "vendorProductIdentifier": item["sku"],
                    "netCost": {"currencyCode": item["currency"], "amount": item["net_cost"]},
                    "listPrice": {"currencyCode": item["currency"], "amount": item["list_price"]},
                    "orderedQuantity": {
                        "orderedQuantity": ordered,
                        "orderedQuantityDetails": [detail],
                    },
                    "acknowledgementStatus": ack,
                    "receivingStatus": receiving,
                }
            )
        return {
            "purchaseOrderNumber": po["number"],
            "purchaseOrderStatus": self._po_status(po),
            "purchaseOrderDate": po["ordered_at"],
            "lastUpdatedDate": po["updated_at"],
            "sellingParty": {"partyId": po["vendor_code"]},
            "shipToParty": gen.party(po["ship_to"]),
            "itemStatus": items,
        }

    @staticmethod
    def _receive_status(item: dict) -> str:
        if item["received"] <= 0:
            return "NOT_RECEIVED"
        return "RECEIVED" if item["received"] >= item["accepted"] else "PARTIALLY_RECEIVED"

    @staticmethod
    def _po_status(po: dict) -> str:
        return "CLOSED" if po["state"] == "Closed" else "OPEN"

    def _page(
        self, account: dict, operation: str, params, parse_filters, matches, render, list_key: str
    ) -> bytes:
        """Run a filtered, keyset-paged listing; return the whole response body."""
        limit = params.get("limit", "100")
        try:
            limit = int(limit)
        except ValueError:
            raise invalid_input(f"Invalid limit: {limit!r}.") from None
        if not 1 <= limit <= 100:
            raise invalid_input("limit must be between 1 and 100.")
        token = params.get("nextToken")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                assert state["op"] == operation and state["acct"] == self._account_key(account)
            except Exception:
                raise invalid_input("Invalid nextToken.") from None
            filters, after = state["f"], tuple(state["k"])
        else:
            filters, after = parse_filters(params), None
        descending = filters.get("sort") == "DESC"
        with self.lock:
            keys = self.order_keys
            low, high = filters.get("created_after"), filters.get("created_before")
            start = bisect.bisect_left(keys, (low, "")) if low else 0
            stop = bisect.bisect_right(keys, (high, "\uffff")) if high else len(keys)
            if after is not None:
                if descending:
                    stop = min(stop, bisect.bisect_left(keys, after))
                else:
                    start = max(start, bisect.bisect_right(keys, after))
            indexes = range(stop - 1, start - 1, -1) if descending else range(start, stop)
            chosen, more, last = [], False, None
            for index in indexes:
                key = keys[index]
                po = self.pos[key[1]]
                if po["account"] != account["refresh_token"] or not matches(po, filters):
                    continue
                if len(chosen) == limit:
                    more = True
                    break
                chosen.append(render(po, filters))
                last = key
        head = b'{"payload":{'
        if more:
            next_token = base64.urlsafe_b64encode(
                _dumps(
                    {
                        "op": operation,
                        "acct": self._account_key(account),
                        "f": filters,
                        "k": list(last),
                    }
                )
            ).decode()
            head += b'"pagination":{"nextToken":"' + next_token.encode() + b'"},'
        return head + b'"' + list_key.encode() + b'":[' + b",".join(chosen) + b"]}}"

    @staticmethod
    def _account_key(account: dict) -> str:
        return hashlib.sha256(account["refresh_token"].encode()).hexdigest()[:12]

    def list_purchase_orders(self, account: dict, params) -> bytes:
        """getPurchaseOrders: filters, 7-day windows, nextToken paging."""

        def parse(p):
            now = self.now()
            created_after, created_before = window(p, "createdAfter", "createdBefore", now)
            changed_after, changed_before = window(p, "changedAfter", "changedBefore", now)
            if not (created_after or changed_after):
                # Like Amazon, no date filter means the last 7 days of new orders.
                created_after, created_before = iso(now - MAX_WINDOW), iso(now)
            return {
                "created_after": created_after,
                "created_before": created_before,
                "changed_after": changed_after,
                "changed_before": changed_before,
                "sort": enum_param(p, "sortOrder", ("ASC", "DESC")) or "ASC",
                "details": flag_param(p, "includeDetails") is not False,
                "changed": flag_param(p, "isPOChanged"),
                "state": enum_param(p, "purchaseOrderState", ("New", "Acknowledged", "Closed")),
                "item_state": enum_param(p, "poItemState", ("Cancelled",)),
                "vendor": p.get("orderingVendorCode") or None,
            }

        def matches(po, f):
            if f["changed_after"] and not (
                f["changed_after"] <= po["updated_at"] <= f["changed_before"]
            ):
                return False
            if f["changed"] is not None and bool(po["changed_at"]) != f["changed"]:
                return False
            if f["state"] and po["state"] != f["state"]:
                return False
            if f["vendor"] and po["vendor_code"] != f["vendor"]:
                return False
            if f["item_state"] and not any(i["cancelled"] for i in po["items"]):
                return False
            return True

        def render(po, f):
            return self.order_json(po) if f["details"] else _dumps(self.order_dict(po, False))

        return self._page(account, "orders", params, parse, matches, render, "orders")

    def get_purchase_order(self, account: dict, number: str) -> bytes:
        """getPurchaseOrder: one PO of this account, or 404."""
        with self.lock:
            po = self.pos.get(number)
            if po is None or po["account"] != account["refresh_token"]:
                raise ApiError(
                    404, "NotFound", "The requested purchase order was not found.", number
                )
            return b'{"payload":' + self.order_json(po) + b"}"

    def list_purchase_order_statuses(self, account: dict, params) -> bytes:
        """getPurchaseOrdersStatus: acknowledgement and receiving status per line."""

        def parse(p):
            now = self.now()
            created_after, created_before = window(p, "createdAfter", "createdBefore", now)
            updated_after, updated_before = window(p, "updatedAfter", "updatedBefore", now)
            number = p.get("purchaseOrderNumber") or None
            if not (created_after or updated_after or number):
                updated_after, updated_before = iso(now - MAX_WINDOW), iso(now)
            return {
                "created_after": created_after,
                "created_before": created_before,
                "updated_after": updated_after,
                "updated_before": updated_before,
                "number": number,
                "sort": enum_param(p, "sortOrder", ("ASC", "DESC")) or "ASC",
                "status": enum_param(p, "purchaseOrderStatus", ("OPEN", "CLOSED")),
                "confirmation": enum_param(
                    p,
                    "itemConfirmationStatus",
                    ("ACCEPTED", "PARTIALLY_ACCEPTED", "REJECTED", "UNCONFIRMED"),
                ),
                "receive": enum_param(
                    p, "itemReceiveStatus", ("NOT_RECEIVED", "PARTIALLY_RECEIVED", "RECEIVED")
                ),
                "vendor": p.get("orderingVendorCode") or None,
                "ship_to": p.get("shipToPartyId") or None,
            }

        def matches(po, f):
            if f["number"] and po["number"] != f["number"]:
                return False
            if f["updated_after"] and not (
                f["updated_after"] <= po["updated_at"] <= f["updated_before"]
            ):
                return False
            if f["status"] and self._po_status(po) != f["status"]:
                return False
            if f["vendor"] and po["vendor_code"] != f["vendor"]:
                return False
            if f["ship_to"] and po["ship_to"] != f["ship_to"]:
                return False
            if f["confirmation"] and not any(
                i["confirmation"] == f["confirmation"] for i in po["items"]
            ):
                return False
            if f["receive"] and not any(
                self._receive_status(i) == f["receive"] for i in po["items"]
            ):
                return False
            return True

        return self._page(
            account,
            "status",
            params,
            parse,
            matches,
            lambda po, _filters: self.status_json(po),
            "ordersStatus",
        )
