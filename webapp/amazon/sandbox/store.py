"""The sandbox's state and domain rules: accounts, POs, transactions, reports, the simulated clock.

All state sits in plain JSON-able dicts behind one lock, so a snapshot is a `json.dump`. Times
are stored as canonical "YYYY-MM-DDTHH:MM:SSZ" strings, which sort like the times they name.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import hashlib
import heapq
import json
import os
import random
import secrets
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from webapp.amazon.sandbox import generator as gen
from webapp.amazon.sandbox.generator import iso, money, parse_iso

DEFAULT_REFRESH_TOKEN = "sandbox-refresh-token"  # noqa: S105 - a public sandbox fixture
DEFAULT_VENDOR_CODES = ["DEMO1"]
MAX_WINDOW = timedelta(days=7)
REPORT_TYPES = ("GET_VENDOR_INVENTORY_REPORT", "GET_VENDOR_SALES_REPORT")
SUBMISSION_KINDS = ("acknowledgement", "invoice", "shipment_confirmation")


class ApiError(Exception):
    """An Amazon-style error answer: HTTP status plus one ErrorList entry."""

    def __init__(self, status: int, code: str, message: str, details: str = ""):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict:
        """Return Amazon's `{"errors": [...]}` shape."""
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def _bad(message: str, details: str = "") -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _parse_time_param(params, name: str) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return iso(parse_iso(value))
    except ValueError:
        raise _bad(f"Invalid {name}: {value!r} is not an ISO 8601 date-time.") from None


def _window(params, after_name: str, before_name: str, now: datetime):
    """Parse an after/before pair and enforce Amazon's 7-day maximum span."""
    after, before = _parse_time_param(params, after_name), _parse_time_param(params, before_name)
    if after is None and before is None:
        return None, None
    low = parse_iso(after) if after else parse_iso(before) - MAX_WINDOW
    high = parse_iso(before) if before else max(now, low)
    if high < low:
        raise _bad(f"{after_name} must be before {before_name}.")
    if high - low > MAX_WINDOW:
        raise _bad(
            f"The date range between {after_name} and {before_name} must not exceed 7 days.",
            f"{after_name}={iso(low)}, {before_name}={iso(high)}",
        )
    return iso(low), iso(high)


def _eaches(quantity: dict | None, line: dict) -> int:
    if not quantity:
        return 0
    amount = int(quantity.get("amount") or 0)
    unit = quantity.get("unitOfMeasure") or line["unit"]
    if unit.lower() == "cases":
        return amount * int(quantity.get("unitSize") or line["unit_size"] or 1)
    return amount


def _eaches_quantity(amount: int) -> dict:
    return {"amount": amount, "unitOfMeasure": "Eaches", "unitSize": 1}


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


def week_start(day: date) -> date:
    """Return the Sunday that starts Amazon's retail week holding `day`."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


class SandboxStore:
    """Everything the sandbox knows, with the rules Amazon applies to it."""

    def __init__(
        self,
        seed: int = 1,
        *,
        start: datetime | None = None,
        real_clock: bool = False,
        po_interval_minutes: float = 10.0,
        token_ttl_seconds: int = 3600,
        state_file: str | None = None,
    ):
        self.lock = threading.RLock()
        self.seed = seed
        self.real_clock = real_clock
        self.po_interval_minutes = po_interval_minutes
        self.token_ttl_seconds = token_ttl_seconds
        self.state_file = state_file
        self._start = (start or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self._order_cache: dict[str, tuple[int, bytes]] = {}
        self._status_cache: dict[str, tuple[int, bytes]] = {}
        self._gzip_cache: dict[str, bytes] = {}
        self.dirty = False
        if state_file and os.path.exists(state_file):
            self.load(state_file)
        else:
            self.reset()

    # -- state, clock and snapshots -------------------------------------------------------

    def reset(self) -> None:
        """Forget everything and start again from the seed with the default account."""
        with self.lock:
            self.rng = random.Random(self.seed)
            self.offset_seconds = 0.0
            self.accounts: dict[str, dict] = {}
            self.access_tokens: dict[str, list] = {}
            self.pos: dict[str, dict] = {}
            self.order_keys: list[tuple[str, str]] = []
            self.transactions: dict[str, dict] = {}
            self.reports: dict[str, dict] = {}
            self.documents: dict[str, dict] = {}
            self.submissions: list[dict] = []
            self.events: list[list] = []
            self.event_seq = 0
            self._order_cache.clear()
            self._status_cache.clear()
            self._gzip_cache.clear()
            self.add_account(DEFAULT_REFRESH_TOKEN, DEFAULT_VENDOR_CODES, name="Demo Vendor")
            self.dirty = True

    def now(self) -> datetime:
        """Return the simulated time (wall clock or manual start, plus ticks)."""
        base = datetime.now(UTC).replace(microsecond=0) if self.real_clock else self._start
        return base + timedelta(seconds=self.offset_seconds)

    def snapshot(self) -> dict:
        """Return the whole state as JSON-able data."""
        with self.lock:
            return {
                "version": 1,
                "seed": self.seed,
                "start": iso(self._start),
                "offset_seconds": self.offset_seconds,
                "rng": self.rng.getstate(),
                "accounts": self.accounts,
                "access_tokens": self.access_tokens,
                "pos": self.pos,
                "transactions": self.transactions,
                "reports": self.reports,
                "documents": self.documents,
                "submissions": self.submissions,
                "events": self.events,
                "event_seq": self.event_seq,
            }

    def save(self, path: str | None = None) -> None:
        """Write a snapshot atomically to `path` (default: the state file)."""
        path = path or self.state_file
        if not path:
            return
        with self.lock:
            data = json.dumps(self.snapshot(), separators=(",", ":"))
            self.dirty = False
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def load(self, path: str) -> None:
        """Replace the state with a snapshot written by `save`."""
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        with self.lock:
            self.seed = data["seed"]
            self._start = parse_iso(data["start"])
            self.offset_seconds = data["offset_seconds"]
            state = data["rng"]
            self.rng = random.Random()
            self.rng.setstate((state[0], tuple(state[1]), state[2]))
            for name in (
                "accounts",
                "access_tokens",
                "pos",
                "transactions",
                "reports",
                "documents",
                "submissions",
                "events",
                "event_seq",
            ):
                setattr(self, name, data[name])
            heapq.heapify(self.events)
            self.order_keys = sorted((po["ordered_at"], n) for n, po in self.pos.items())
            self._order_cache.clear()
            self._status_cache.clear()
            self._gzip_cache.clear()
            self.dirty = False

    def _schedule(self, when: str, kind: str, arg: str) -> None:
        self.event_seq += 1
        heapq.heappush(self.events, [when, self.event_seq, kind, arg])

    def tick(self, minutes: float) -> dict:
        """Advance the simulated clock and play every event that fell due."""
        with self.lock:
            self.offset_seconds += float(minutes) * 60
            played = self.run_due_events()
            return {"now": iso(self.now()), **played}

    def run_due_events(self) -> dict:
        """Play due events in time order: new POs, Amazon changes, receipts, auto-answers."""
        played = {"new_pos": 0, "changes": 0, "receipts": 0}
        with self.lock:
            now = iso(self.now())
            while self.events and self.events[0][0] <= now:
                when, _, kind, arg = heapq.heappop(self.events)
                moment = parse_iso(when)
                if kind == "new_po":
                    account = self.accounts.get(arg)
                    if account is None:
                        continue
                    self._new_po(account, moment, (1, 12), settle=False)
                    self._schedule_next_po(account, moment)
                    played["new_pos"] += 1
                elif kind == "change":
                    played["changes"] += self._apply_amazon_change(arg, moment)
                elif kind == "receipt":
                    played["receipts"] += self._apply_receipt(arg, moment)
                elif kind == "auto_ack":
                    self._auto_acknowledge(arg, moment)
            if any(played.values()):
                self.dirty = True
        return played

    # -- accounts and tokens ----------------------------------------------------------------

    def add_account(
        self,
        refresh_token: str,
        vendor_codes: list[str],
        warehouses=None,
        asins=None,
        name: str | None = None,
    ) -> dict:
        """Create (or replace) the vendor account reached with `refresh_token`."""
        if not refresh_token or not vendor_codes:
            raise ValueError("refresh_token and vendor_codes are required")
        with self.lock:
            rng = random.Random(f"{self.seed}:account:{refresh_token}")
            catalogue = gen.make_catalogue(rng)
            if asins:
                catalogue = [
                    a if isinstance(a, dict) else {**catalogue[i % len(catalogue)], "asin": a}
                    for i, a in enumerate(asins)
                ]
                for product in catalogue:
                    product.setdefault("sku", f"SKU-{product['asin']}")
                    product["net_cost"] = money(product.get("net_cost", "10.00"))
                    product["list_price"] = money(
                        product.get("list_price", Decimal(product["net_cost"]) * 2)
                    )
                    product.setdefault("currency", "USD")
            account = {
                "refresh_token": refresh_token,
                "name": name or f"Vendor {vendor_codes[0]}",
                "vendor_codes": list(vendor_codes),
                "warehouses": list(warehouses or gen.DEFAULT_WAREHOUSES),
                "asins": catalogue,
            }
            self.accounts[refresh_token] = account
            self._schedule_next_po(account, self.now())
            self.dirty = True
            return account

    def _schedule_next_po(self, account: dict, after: datetime) -> None:
        if self.po_interval_minutes <= 0:
            return
        # Times are whole seconds: keep the next PO at least one second later, or a tiny
        # interval would loop within one second forever.
        seconds = max(1.0, self.po_interval_minutes * 60 * (0.5 + self.rng.random()))
        self._schedule(iso(after + timedelta(seconds=seconds)), "new_po", account["refresh_token"])

    def issue_token(self, refresh_token: str | None) -> dict | None:
        """Exchange a refresh token for an access token; None if the token is unknown."""
        with self.lock:
            if refresh_token not in self.accounts:
                return None
            token = "Atza|sandbox-" + secrets.token_urlsafe(24)
            self.access_tokens[token] = [refresh_token, time.time() + self.token_ttl_seconds]
            # Expired tokens are dropped lazily so the table stays small in long dev runs.
            if len(self.access_tokens) > 10000:
                cutoff = time.time()
                self.access_tokens = {t: v for t, v in self.access_tokens.items() if v[1] > cutoff}
            return {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_ttl_seconds,
                "refresh_token": refresh_token,
            }

    def account_for_token(self, access_token: str | None) -> dict | None:
        """Return the account of a valid, unexpired access token."""
        entry = self.access_tokens.get(access_token or "")
        if entry is None or entry[1] < time.time():
            return None
        return self.accounts.get(entry[0])

    def account(self, refresh_token: str | None) -> dict:
        """Return an account by refresh token (default account when None)."""
        account = self.accounts.get(refresh_token or DEFAULT_REFRESH_TOKEN)
        if account is None:
            raise KeyError(f"unknown refresh_token {refresh_token!r}")
        return account

    # -- purchase orders: creation and life --------------------------------------------------

    def create_purchase_orders(
        self,
        refresh_token: str | None = None,
        count: int = 10,
        days_back: float = 0,
        lines_per_po=(1, 12),
        changed: bool = False,
        settle: bool = False,
        vendor_code: str | None = None,
    ) -> list[str]:
        """Create `count` POs spread over the last `days_back` days; return their numbers."""
        with self.lock:
            account = self.account(refresh_token)
            now = self.now()
            span = timedelta(days=float(days_back)).total_seconds()
            moments = sorted(
                now - timedelta(seconds=int(span * self.rng.random())) for _ in range(count)
            )
            numbers = [
                self._new_po(
                    account,
                    moment,
                    lines_per_po,
                    settle=settle,
                    changed=changed,
                    vendor_code=vendor_code,
                )["number"]
                for moment in moments
            ]
            self.run_due_events()
            self.dirty = True
            return numbers

    def _new_po(
        self,
        account: dict,
        moment: datetime,
        lines_per_po,
        *,
        settle: bool,
        changed: bool = False,
        vendor_code: str | None = None,
    ) -> dict:
        number = gen.new_po_number(self.rng, self.pos)
        code = vendor_code or self.rng.choice(account["vendor_codes"])
        po = gen.make_purchase_order(self.seed, number, account, code, moment, lines_per_po)
        if changed and po["plan"]["change"] is None:
            po["plan"]["change"] = {
                "at": iso(moment + timedelta(hours=1)),
                "kind": "quantity",
                "line": 0,
                "factor": 50,
            }
        self.pos[number] = po
        bisect.insort(self.order_keys, (po["ordered_at"], number))
        if po["plan"]["change"]:
            self._schedule(po["plan"]["change"]["at"], "change", number)
        self._schedule(po["plan"]["receipt_at"], "receipt", number)
        po["plan"]["receipt_pending"] = True
        if settle:
            hours = random.Random(f"{self.seed}:ack:{number}").randint(2, 20)
            self._schedule(iso(moment + timedelta(hours=hours)), "auto_ack", number)
        return po

    def _touch(self, po: dict, moment: datetime, state: str | None = None) -> None:
        stamp = iso(moment)
        if state and state != po["state"]:
            po["state"] = state
            po["state_changed_at"] = max(stamp, po["ordered_at"])
        po["updated_at"] = max(stamp, po["updated_at"])
        po["version"] += 1

    def _apply_amazon_change(self, number: str, moment: datetime) -> int:
        po = self.pos.get(number)
        change = po and po["plan"]["change"]
        if not change or po["state"] == "Closed":
            return 0
        stamp = iso(moment)
        live = [item for item in po["items"] if not item["cancelled"]]
        if not live:
            return 0
        targets = live if change["kind"] == "cancel_po" else [live[change["line"] % len(live)]]
        for item in targets:
            if change["kind"] == "quantity":
                item["amount"] = max(1, item["amount"] * change["factor"] // 100)
            else:
                item["amount"], item["cancelled"] = 0, True
            item["quantity_updated_at"] = stamp
            ordered = item["amount"] * item["unit_size"]
            if item["accepted"] > ordered:  # Amazon trims what it no longer wants
                item["accepted"] = ordered
        po["changed_at"] = stamp
        closed = all(item["cancelled"] for item in po["items"])
        self._touch(po, moment, "Closed" if closed else None)
        return 1

    def _apply_receipt(self, number: str, moment: datetime) -> int:
        po = self.pos.get(number)
        if po is None or po["state"] == "Closed":
            return 0
        if po["state"] == "New":
            # Not answered by the delivery date: the goods come a few days after the answer.
            po["plan"]["receipt_pending"] = False
            return 0
        po["plan"]["receipt_pending"] = False
        stamp = iso(moment)
        for item in po["items"]:
            if item["accepted"] > 0:
                item["received"] = max(1, item["accepted"] * item["short_factor"] // 100)
                item["last_received"] = stamp
        self._touch(po, moment, "Closed")
        return 1

    def _auto_acknowledge(self, number: str, moment: datetime) -> None:
        po = self.pos.get(number)
        if po is None or po["state"] != "New":
            return
        rng = random.Random(f"{self.seed}:answer:{number}")
        stamp = iso(moment)
        for item in po["items"]:
            if item["cancelled"]:
                continue
            _, accepted = gen.ack_choice(rng, item)
            self._set_line_answer(item, accepted, stamp, item["net_cost"])
        closed = all(i["accepted"] == 0 for i in po["items"])
        self._touch(po, moment, "Closed" if closed else "Acknowledged")
        self._after_answer(po, moment)

    def _after_answer(self, po: dict, moment: datetime) -> None:
        """Schedule a late receipt when the answer came after the planned delivery."""
        if po["state"] == "Acknowledged" and not po["plan"].get("receipt_pending", True):
            days = random.Random(f"{self.seed}:late:{po['number']}").randint(3, 6)
            self._schedule(iso(moment + timedelta(days=days)), "receipt", po["number"])
            po["plan"]["receipt_pending"] = True

    @staticmethod
    def _set_line_answer(item: dict, accepted: int, stamp: str, net_cost: str | None) -> None:
        ordered = item["amount"] * item["unit_size"]
        item["accepted"], item["rejected"] = accepted, ordered - accepted
        item["ack_date"], item["ack_net_cost"] = stamp, net_cost
        if accepted == 0:
            item["confirmation"], item["ever_rejected"] = "REJECTED", True
        elif accepted >= ordered:
            item["confirmation"] = "ACCEPTED"
        else:
            item["confirmation"] = "PARTIALLY_ACCEPTED"

    # -- purchase orders: Amazon's representations ------------------------------------------

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

    # -- purchase orders: queries -------------------------------------------------------------

    def _page(
        self, account: dict, operation: str, params, parse_filters, matches, render, list_key: str
    ) -> bytes:
        """Run a filtered, keyset-paged listing; return the whole response body."""
        limit = params.get("limit", "100")
        try:
            limit = int(limit)
        except ValueError:
            raise _bad(f"Invalid limit: {limit!r}.") from None
        if not 1 <= limit <= 100:
            raise _bad("limit must be between 1 and 100.")
        token = params.get("nextToken")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                assert state["op"] == operation and state["acct"] == self._account_key(account)
            except Exception:
                raise _bad("Invalid nextToken.") from None
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

    @staticmethod
    def _enum(params, name: str, allowed) -> str | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        if value not in allowed:
            raise _bad(f"Invalid {name}: {value!r}.", f"Allowed: {', '.join(allowed)}")
        return value

    @staticmethod
    def _flag(params, name: str) -> bool | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        if value.lower() not in ("true", "false"):
            raise _bad(f"Invalid {name}: {value!r}; use true or false.")
        return value.lower() == "true"

    def list_purchase_orders(self, account: dict, params) -> bytes:
        """getPurchaseOrders: filters, 7-day windows, nextToken paging."""

        def parse(p):
            now = self.now()
            created_after, created_before = _window(p, "createdAfter", "createdBefore", now)
            changed_after, changed_before = _window(p, "changedAfter", "changedBefore", now)
            if not (created_after or changed_after):
                # Like Amazon, no date filter means the last 7 days of new orders.
                created_after, created_before = iso(now - MAX_WINDOW), iso(now)
            return {
                "created_after": created_after,
                "created_before": created_before,
                "changed_after": changed_after,
                "changed_before": changed_before,
                "sort": self._enum(p, "sortOrder", ("ASC", "DESC")) or "ASC",
                "details": self._flag(p, "includeDetails") is not False,
                "changed": self._flag(p, "isPOChanged"),
                "state": self._enum(p, "purchaseOrderState", ("New", "Acknowledged", "Closed")),
                "item_state": self._enum(p, "poItemState", ("Cancelled",)),
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
            created_after, created_before = _window(p, "createdAfter", "createdBefore", now)
            updated_after, updated_before = _window(p, "updatedAfter", "updatedBefore", now)
            number = p.get("purchaseOrderNumber") or None
            if not (created_after or updated_after or number):
                updated_after, updated_before = iso(now - MAX_WINDOW), iso(now)
            return {
                "created_after": created_after,
                "created_before": created_before,
                "updated_after": updated_after,
                "updated_before": updated_before,
                "number": number,
                "sort": self._enum(p, "sortOrder", ("ASC", "DESC")) or "ASC",
                "status": self._enum(p, "purchaseOrderStatus", ("OPEN", "CLOSED")),
                "confirmation": self._enum(
                    p,
                    "itemConfirmationStatus",
                    ("ACCEPTED", "PARTIALLY_ACCEPTED", "REJECTED", "UNCONFIRMED"),
                ),
                "receive": self._enum(
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

    # -- submissions and transactions -------------------------------------------------------

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

    # -- reports ---------------------------------------------------------------------------------

    def create_report(self, account: dict, body: dict) -> dict:
        """createReport for the vendor inventory and sales reports (weekly)."""
        report_type = body.get("reportType")
        if report_type not in REPORT_TYPES:
            raise _bad(
                f"Report type {report_type} is not supported by the sandbox.",
                ", ".join(REPORT_TYPES),
            )
        options = body.get("reportOptions") or {}
        expected = {
            "reportPeriod": ("WEEK",),
            "distributorView": ("MANUFACTURING", "SOURCING"),
            "sellingProgram": ("RETAIL", "FRESH"),
        }
        for name, allowed in expected.items():
            if options.get(name) not in allowed:
                raise _bad(f"reportOptions.{name} must be one of {', '.join(allowed)}.")
        with self.lock:
            now = self.now()
            end = parse_iso(body["dataEndTime"]) if body.get("dataEndTime") else now
            start = (
                parse_iso(body["dataStartTime"])
                if body.get("dataStartTime")
                else end - timedelta(days=7)
            )
            if end < start:
                raise _bad("dataStartTime must be before dataEndTime.")
            report_id = str(50000000000 + len(self.reports) * 7 + self.rng.randint(1, 6))
            self.reports[report_id] = {
                "id": report_id,
                "account": account["refresh_token"],
                "type": report_type,
                "options": options,
                "marketplace_ids": body["marketplaceIds"],
                "start": iso(start),
                "end": iso(end),
                "created": iso(now),
                "polls": 0,
                "status": "IN_QUEUE",
                "document_id": None,
                "started": None,
                "finished": None,
            }
            self.dirty = True
            return {"reportId": report_id}

    def get_report(self, account: dict, report_id: str) -> dict:
        """getReport: IN_QUEUE, then IN_PROGRESS, then DONE with a document."""
        with self.lock:
            report = self.reports.get(report_id)
            if report is None or report["account"] != account["refresh_token"]:
                raise ApiError(404, "NotFound", "The report was not found.", report_id)
            report["polls"] += 1
            stamp = iso(self.now())
            if report["status"] == "IN_QUEUE" and report["polls"] >= 2:
                report["status"], report["started"] = "IN_PROGRESS", stamp
            elif report["status"] == "IN_PROGRESS":
                report["document_id"] = self._make_document(report)
                report["status"], report["finished"] = "DONE", stamp
            self.dirty = True
            result = {
                "reportId": report_id,
                "reportType": report["type"],
                "marketplaceIds": report["marketplace_ids"],
                "dataStartTime": report["start"],
                "dataEndTime": report["end"],
                "createdTime": report["created"],
                "processingStatus": report["status"],
            }
            if report["started"]:
                result["processingStartTime"] = report["started"]
            if report["finished"]:
                result["processingEndTime"] = report["finished"]
            if report["document_id"]:
                result["reportDocumentId"] = report["document_id"]
            return result

    def get_report_document(self, account: dict, document_id: str, base_url: str) -> dict:
        """getReportDocument: where to download it, and whether it is gzip-compressed."""
        with self.lock:
            document = self.documents.get(document_id)
            if document is None or document["account"] != account["refresh_token"]:
                raise ApiError(404, "NotFound", "The report document was not found.", document_id)
            result = {
                "reportDocumentId": document_id,
                "url": f"{base_url.rstrip('/')}/_sandbox/documents/{document_id}",
            }
            if document["gzip"]:
                result["compressionAlgorithm"] = "GZIP"
            return result

    def document_bytes(self, document_id: str) -> bytes | None:
        """Return a document's bytes as served at its url (gzip-compressed when flagged)."""
        with self.lock:
            document = self.documents.get(document_id)
            if document is None:
                return None
            data = document["content"].encode()
            if not document["gzip"]:
                return data
            if document_id not in self._gzip_cache:
                self._gzip_cache[document_id] = gzip.compress(data, mtime=0)
            return self._gzip_cache[document_id]

    def _make_document(self, report: dict) -> str:
        document_id = f"amzn1.spdoc.1.4.na.{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        content = self.build_report(report)
        self.documents[document_id] = {
            "id": document_id,
            "account": report["account"],
            "report_id": report["id"],
            # Every other document is compressed, so clients meet both kinds.
            "gzip": len(self.documents) % 2 == 1,
            "content": json.dumps(content, separators=(",", ":")),
        }
        return document_id

    def build_report(self, report: dict) -> dict:
        """Compute a weekly inventory or sales report from the POs and their receipts."""
        account = self.accounts[report["account"]]
        first = week_start(parse_iso(report["start"]).date())
        last = week_start(parse_iso(report["end"]).date())
        weeks = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
        ledger = self._weekly_ledger(account, weeks[-1] + timedelta(days=6))
        by_asin, totals = [], {}
        for week in weeks:
            rows = [
                self._report_row(report["type"], week, product, ledger)
                for product in account["asins"]
            ]
            by_asin += rows
            totals[week] = self._aggregate(report["type"], week, rows)
        spec = {
            "reportType": report["type"],
            "reportOptions": report["options"],
            "lastUpdatedDate": self.now().date().isoformat(),
            "dataStartTime": first.isoformat(),
            "dataEndTime": (weeks[-1] + timedelta(days=6)).isoformat(),
            "marketplaceIds": report["marketplace_ids"],
        }
        if report["type"] == "GET_VENDOR_SALES_REPORT":
            return {
                "reportSpecification": spec,
                "salesAggregate": list(totals.values()),
                "salesByAsin": by_asin,
            }
        return {
            "reportSpecification": spec,
            "inventoryAggregate": list(totals.values()),
            "inventoryByAsin": by_asin,
        }

    def _weekly_ledger(self, account: dict, until: date) -> dict:
        """Per (asin, week): received, ordered, accepted, open units, sold and on hand."""
        stats: dict[tuple[str, date], dict] = {}

        def cell(asin, week):
            return stats.setdefault(
                (asin, week),
                {
                    "received": 0,
                    "ordered": 0,
                    "accepted": 0,
                    "received_cost": Decimal(0),
                    "open": 0,
                    "lead_days": [],
                },
            )

        until_iso = iso(datetime.combine(until, datetime.max.time(), tzinfo=UTC))
        earliest = until
        for po in self.pos.values():
            if po["account"] != account["refresh_token"] or po["ordered_at"] > until_iso:
                continue
            ordered_day = parse_iso(po["ordered_at"]).date()
            earliest = min(earliest, ordered_day)
            for item in po["items"]:
                entry = cell(item["asin"], week_start(ordered_day))
                entry["ordered"] += item["amount"] * item["unit_size"]
                entry["accepted"] += item["accepted"]
                if item["received"] and item["last_received"]:
                    received_day = parse_iso(item["last_received"]).date()
                    got = cell(item["asin"], week_start(received_day))
                    got["received"] += item["received"]
                    got["received_cost"] += (
                        Decimal(item["ack_net_cost"] or item["net_cost"]) * item["received"]
                    )
                    got["lead_days"].append((received_day - ordered_day).days)
        ledger = {}
        weeks = []
        week = week_start(earliest)
        while week <= until:
            weeks.append(week)
            week += timedelta(weeks=1)
        today = self.now().date()
        for product in account["asins"]:
            asin = product["asin"]
            rng = random.Random(f"{self.seed}:stock:{asin}")
            on_hand = rng.randint(50, 600)
            for week in weeks:
                entry = cell(asin, week)
                week_rng = random.Random(f"{self.seed}:demand:{asin}:{week.isoformat()}")
                demand = week_rng.randint(0, 120) if week <= today else 0  # no future sales
                available = on_hand + entry["received"]
                sold = min(demand, available)
                entry.update(
                    on_hand_start=on_hand,
                    demand=demand,
                    sold=sold,
                    returns=sold * week_rng.randint(0, 4) // 100,
                    unsellable=week_rng.randint(0, 12),
                )
                on_hand = available - sold
                entry["on_hand_end"] = on_hand
                ledger[(asin, week)] = entry
        # Open PO units at each week's end: accepted but not received by then.
        for po in self.pos.values():
            if po["account"] != account["refresh_token"] or po["state"] == "New":
                continue
            ordered_day = parse_iso(po["ordered_at"]).date()
            for item in po["items"]:
                if not item["accepted"]:
                    continue
                received_day = (
                    parse_iso(item["last_received"]).date() if item["last_received"] else None
                )
                for week in weeks:
                    end = week + timedelta(days=6)
                    entry = ledger.get((item["asin"], week))
                    if (
                        entry is not None
                        and ordered_day <= end
                        and (received_day is None or received_day > end)
                    ):
                        entry["open"] += item["accepted"]
        return ledger

    @staticmethod
    def _amount(value: Decimal, currency: str = "USD") -> dict:
        # The report schemas type amounts as JSON numbers; two-place decimals print exactly.
        return {"amount": float(value.quantize(gen.CENT)), "currencyCode": currency}

    def _report_row(self, report_type: str, week: date, product: dict, ledger: dict) -> dict:
        entry = ledger.get((product["asin"], week)) or {
            "received": 0,
            "ordered": 0,
            "accepted": 0,
            "received_cost": Decimal(0),
            "open": 0,
            "lead_days": [],
            "on_hand_start": 0,
            "demand": 0,
            "sold": 0,
            "returns": 0,
            "unsellable": 0,
            "on_hand_end": 0,
        }
        cost, price = Decimal(product["net_cost"]), Decimal(product["list_price"])
        row = {
            "startDate": week.isoformat(),
            "endDate": (week + timedelta(days=6)).isoformat(),
            "asin": product["asin"],
        }
        if report_type == "GET_VENDOR_SALES_REPORT":
            row.update(
                customerReturns=entry["returns"],
                orderedRevenue=self._amount(price * entry["demand"]),
                orderedUnits=entry["demand"],
                shippedCogs=self._amount(cost * entry["sold"]),
                shippedRevenue=self._amount(price * entry["sold"]),
                shippedUnits=entry["sold"],
            )
            return row
        row.update(
            netReceivedInventoryCost=self._amount(entry["received_cost"]),
            netReceivedInventoryUnits=entry["received"],
            openPurchaseOrderUnits=entry["open"],
            sellableOnHandInventoryCost=self._amount(cost * entry["on_hand_end"]),
            sellableOnHandInventoryUnits=entry["on_hand_end"],
            unsellableOnHandInventoryCost=self._amount(cost * entry["unsellable"]),
            unsellableOnHandInventoryUnits=entry["unsellable"],
            unfilledCustomerOrderedUnits=entry["demand"] - entry["sold"],
        )
        if entry["ordered"]:
            row["vendorConfirmationRate"] = round(entry["accepted"] / entry["ordered"], 4)
        if entry["lead_days"]:
            row["averageVendorLeadTimeDays"] = round(
                sum(entry["lead_days"]) / len(entry["lead_days"]), 2
            )
        stock = entry["on_hand_start"] + entry["received"]
        if stock:
            row["sellThroughRate"] = round(entry["sold"] / stock, 4)
        return row

    def _aggregate(self, report_type: str, week: date, rows: list[dict]) -> dict:
        total = {"startDate": week.isoformat(), "endDate": (week + timedelta(days=6)).isoformat()}

        def add_amount(name):
            value = sum((Decimal(str(r[name]["amount"])) for r in rows), Decimal(0))
            total[name] = self._amount(value)

        def add_units(name):
            total[name] = sum(r[name] for r in rows)

        if report_type == "GET_VENDOR_SALES_REPORT":
            for name in ("orderedRevenue", "shippedCogs", "shippedRevenue"):
                add_amount(name)
            for name in ("customerReturns", "orderedUnits", "shippedUnits"):
                add_units(name)
            return total
        for name in (
            "netReceivedInventoryCost",
            "sellableOnHandInventoryCost",
            "unsellableOnHandInventoryCost",
        ):
            add_amount(name)
        for name in (
            "netReceivedInventoryUnits",
            "openPurchaseOrderUnits",
            "sellableOnHandInventoryUnits",
            "unsellableOnHandInventoryUnits",
            "unfilledCustomerOrderedUnits",
        ):
            add_units(name)
        return total
