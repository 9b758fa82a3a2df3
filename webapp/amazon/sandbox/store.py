"""The sandbox's state: the simulated clock and its events, snapshots, accounts and tokens.

All state sits in plain JSON-able dicts behind one lock, so a snapshot is a `json.dump`. Times
are stored as canonical "YYYY-MM-DDTHH:MM:SSZ" strings, which sort like the times they name.

`SandboxStore` keeps that state here and takes Amazon's rules from one mixin per concept:

- orders.py          `OrderLife`: PO creation, Amazon-side changes, receipts, auto-answers
- order_queries.py   `OrderQueries`: Order/OrderStatus JSON, filtered and paged listings
- submissions.py     `Submissions`: acknowledgements, invoices, shipments, transactions
- shipments.py       `ShipmentLife`: ASN rules, each ASN recorded once, receipts against ASNs
- reports.py         `Reports`: createReport, getReport, report documents
- report_content.py  `ReportContent`: the weekly ledger behind the reports' rows and totals
"""

from __future__ import annotations

import heapq
import json
import os
import random
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from webapp.amazon.sandbox import generator as gen
from webapp.amazon.sandbox.errors import ApiError
from webapp.amazon.sandbox.generator import iso, money, parse_iso
from webapp.amazon.sandbox.order_queries import OrderQueries
from webapp.amazon.sandbox.orders import OrderLife
from webapp.amazon.sandbox.params import MAX_WINDOW
from webapp.amazon.sandbox.report_content import ReportContent, week_start
from webapp.amazon.sandbox.reports import REPORT_TYPES, Reports
from webapp.amazon.sandbox.shipments import ShipmentLife
from webapp.amazon.sandbox.submissions import SUBMISSION_KINDS, Submissions

# Re-exported so `from webapp.amazon.sandbox.store import ...` keeps working for every name
# this module held before the rules moved into their own modules.
__all__ = [
    "DEFAULT_REFRESH_TOKEN",
    "DEFAULT_VENDOR_CODES",
    "MAX_WINDOW",
    "REPORT_TYPES",
    "SUBMISSION_KINDS",
    "ApiError",
    "SandboxStore",
    "week_start",
]

DEFAULT_REFRESH_TOKEN = "sandbox-refresh-token"  # noqa: S105 - a public sandbox fixture
DEFAULT_VENDOR_CODES = ["DEMO1"]


class SandboxStore(OrderLife, OrderQueries, Submissions, ShipmentLife, Reports, ReportContent):
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
            self.shipments: dict[str, dict] = {}  # ASNs by "refresh token|identifier"
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
                "shipments": self.shipments,
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
            self.shipments = data.get("shipments", {})  # snapshots from before ASNs were kept
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
