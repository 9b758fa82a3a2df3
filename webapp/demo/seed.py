"""Seed a demo vendor with months of realistic POs, receipts, inventory and sales.

Rows come from a seeded `random.Random` (same seed and `now`, same data) and are written in
chunks by `webapp.demo.bulk`, with ids assigned here so lines and receipts link to their POs
without a round trip per row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from sqlalchemy import func, select, text

from webapp.db_types import utcnow
from webapp.demo.bulk import ChunkWriter, bulk_insert
from webapp.demo.catalogue import WAREHOUSES, Item, make_catalogue, party_objects
from webapp.extensions import db
from webapp.orders.models import AckState, PoState, PurchaseOrder, PurchaseOrderLine, Receipt
from webapp.vendor_reports.models import InventoryWeek, SalesWeek
from webapp.vendors.services import create_vendor, get_vendor_by_name

DEMO_DOMAIN = "demo-trading.example"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
DEMO_VENDOR_NAME = "Demo Trading Co."
DEMO_CODES = ("DEMO1", "DEMO2")
DEMO_GS1_COMPANY_PREFIX = "0614141"
MARKETPLACE_US = "ATVPDKIKX0DER"
HISTORY_DAYS = 182  # Amazon keeps six months of POs
REPORT_WEEKS = 26
CHUNK_POS = 2000  # POs generated, inserted and committed together

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CENT = Decimal("0.01")
RATE = Decimal("0.0001")


@dataclass
class SeedResult:
    """What `seed_demo` did: whether it created the vendor, row counts and time taken."""

    created: bool
    vendor_id: int
    vendor_name: str
    admin_email: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """Describe the outcome in a few lines for the CLI."""
        if not self.created:
            return (
                f"Demo vendor {self.vendor_name!r} already exists (id {self.vendor_id}); "
                "nothing to do."
            )
        counts = ", ".join(f"{n:,} {name}" for name, n in self.counts.items())
        return (
            f"Seeded demo vendor {self.vendor_name!r} (id {self.vendor_id}) "
            f"in {self.seconds:.1f} s: {counts}.\n"
            f"Demo admin: {self.admin_email} (invite with `flask --app webapp demo --show-access`)."
        )


def seed_demo(
    pos: int = 600,
    *,
    vendor_name: str = DEMO_VENDOR_NAME,
    now: datetime | None = None,
    seed: int = 42,
) -> SeedResult:
    """Create the demo vendor and `pos` POs of history, unless it already exists."""
    started = time.perf_counter()
    existing = get_vendor_by_name(vendor_name)
    if existing is not None:
        return SeedResult(False, existing.id, existing.name, DEMO_ADMIN_EMAIL)
    if pos < 1:
        raise ValueError("pos must be at least 1")
    now = (now or utcnow()).astimezone(UTC).replace(microsecond=0)

    vendor = create_vendor(
        vendor_name, domains=[DEMO_DOMAIN], vendor_codes=list(DEMO_CODES),
        timezone="Asia/Shanghai", marketplace_id=MARKETPLACE_US,
    )
    vendor.currency = "USD"
    vendor.spapi_region = "na"
    # GS1's own example company prefix (used throughout the GS1 General Specifications).
    vendor.gs1_company_prefix = DEMO_GS1_COMPANY_PREFIX
    # The admin is invited, not created: `flask demo --show-access` prints the invite link, so
    # the demo account goes through the same sign-in set-up (password + TOTP) as any other.
    db.session.flush()
    vendor_id, currency, ack_hours = vendor.id, vendor.currency, vendor.ack_deadline_hours
    db.session.commit()

    try:
        writer = _Writer(vendor_id, currency, now, ack_hours, Random(seed))
        counts = writer.run(pos)
    except BaseException:
        # A half-seeded vendor would make the next run a no-op; remove it so a rerun starts over.
        db.session.rollback()
        db.session.execute(text("DELETE FROM vendors WHERE id = :id"), {"id": vendor_id})
        db.session.commit()
        raise
    return SeedResult(
        True, vendor_id, vendor_name, DEMO_ADMIN_EMAIL,
        {"purchase orders": counts["pos"], "lines": counts["lines"],
         "receipts": counts["receipts"], "inventory weeks": counts["inventory"],
         "sales weeks": counts["sales"]},
        time.perf_counter() - started,
    )


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _reset_sequences(models) -> None:
    """Move PostgreSQL's id sequences past the ids assigned here."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _rate(numerator: float, denominator: float) -> Decimal | None:
    if denominator <= 0:
        return None
    return Decimal(min(numerator / denominator, 999.0)).quantize(RATE, ROUND_HALF_UP)


def _po_number(index: int) -> str:
    """Return an 8-character Amazon-style PO number, unique per index (a bijection mod 36^8)."""
    value = (index * 1_000_003 + 0x5D3A7F) % 36**8
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 36)
        chars.append("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit])
    return "".join(reversed(chars))


class _Writer:
    """Generate and insert one demo vendor's POs, lines, receipts and weekly reports."""

    def __init__(self, vendor_id: int, currency: str, now: datetime, ack_hours: int, rng: Random):
        self.vendor_id = vendor_id
        self.currency = currency
        self.now = now
        self.ack_delta = timedelta(hours=ack_hours)
        self.rng = rng
        self.items = make_catalogue(rng, currency)
        self.item_weights = _cumulative([item.popularity for item in self.items])
        self.warehouse_weights = _cumulative([w.weight for w in WAREHOUSES])
        self.parties = {
            (code, wh.party_id): party_objects(code, wh) for code in DEMO_CODES for wh in WAREHOUSES
        }
        # Amazon weeks run Sunday to Saturday; reports cover the last complete weeks.
        today = now.date()
        last_saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
        self.first_week = last_saturday - timedelta(days=7 * REPORT_WEEKS - 1)
        self.first_ordinal = self.first_week.toordinal()
        n_items, n_weeks = len(self.items), REPORT_WEEKS + 1
        self.ordered = [[0] * n_weeks for _ in range(n_items)]
        self.accepted = [[0] * n_weeks for _ in range(n_items)]
        self.received = [[0] * n_weeks for _ in range(n_items)]
        self.lead_days = [[0.0] * n_weeks for _ in range(n_items)]
        self.open_delta = [[0] * (n_weeks + 1) for _ in range(n_items)]
        self.counts = {"pos": 0, "lines": 0, "receipts": 0, "inventory": 0, "sales": 0}

    def run(self, pos: int) -> dict[str, int]:
        """Write `pos` POs in chunks, then the weekly reports; return the row counts."""
        po_id, line_id, receipt_id = (
            _next_id(PurchaseOrder), _next_id(PurchaseOrderLine), _next_id(Receipt)
        )
        times = self._order_times(pos)
        db.session.commit()  # the writer has its own connections; hold no locks meanwhile
        with ChunkWriter(db.engine) as writer:
            for start in range(0, pos, CHUNK_POS):
                po_rows, line_rows, receipt_rows = [], [], []
                for offset, (ordered_at, recent) in enumerate(times[start:start + CHUNK_POS]):
                    line_id, receipt_id = self._purchase_order(
                        po_id, start + offset, ordered_at, recent, line_id, receipt_id,
                        po_rows, line_rows, receipt_rows,
                    )
                    po_id += 1
                writer.put([
                    (PurchaseOrder.__table__, po_rows),
                    (PurchaseOrderLine.__table__, line_rows),
                    (Receipt.__table__, receipt_rows),
                ])
                self.counts["pos"] += len(po_rows)
                self.counts["lines"] += len(line_rows)
                self.counts["receipts"] += len(receipt_rows)
        self._weekly_reports()
        _reset_sequences([PurchaseOrder, PurchaseOrderLine, Receipt, InventoryWeek, SalesWeek])
        db.session.commit()
        return self.counts

    def _order_times(self, pos: int) -> list[tuple[datetime, bool]]:
        """Spread PO dates over six months, mostly on weekdays, plus a few from the last day."""
        rng, now = self.rng, self.now
        recent = min(pos, max(5, pos // HISTORY_DAYS))
        oldest = (now - timedelta(days=HISTORY_DAYS)).timestamp()
        newest = (now - timedelta(hours=25)).timestamp()
        stamps = []
        while len(stamps) < pos - recent:
            stamp = rng.uniform(oldest, newest)
            # Amazon's buyers send fewer POs at weekends.
            if datetime.fromtimestamp(stamp, UTC).weekday() >= 5 and rng.random() < 0.6:
                continue
            stamps.append(stamp)
        stamps.sort()
        history = [(datetime.fromtimestamp(int(s), UTC), False) for s in stamps]
        fresh = sorted(now - timedelta(minutes=rng.randint(5, 22 * 60)) for _ in range(recent))
        return history + [(t, True) for t in fresh]

    def _week(self, moment: datetime) -> int:
        """Return the report week index of a moment (negative before, REPORT_WEEKS after)."""
        return min((moment.toordinal() - self.first_ordinal) // 7, REPORT_WEEKS)

    def _purchase_order(
        self, po_id, index, ordered_at, recent, line_id, receipt_id,
        po_rows, line_rows, receipt_rows,
    ):
        """Append one PO with its lines and receipts to the rows; return the next free ids."""
        rng, now = self.rng, self.now
        code = DEMO_CODES[0] if rng.random() < 0.85 else DEMO_CODES[1]
        warehouse = rng.choices(WAREHOUSES, cum_weights=self.warehouse_weights)[0]
        # Amazon's windows start at 07:00 UTC (midnight Pacific) and last a week.
        day_start = ordered_at.replace(hour=7, minute=0, second=0)
        ship_start = day_start + DAY * rng.randint(3, 7)
        ship_end = ship_start + DAY * 7
        delivery_start = ship_start + DAY * rng.randint(2, 4)
        delivery_end = delivery_start + DAY * 7
        ack_due = ordered_at + self.ack_delta
        po_type = "RegularOrder"
        kind = rng.random()
        if kind < 0.03:
            po_type = "NewProductIntroduction"
        elif kind < 0.05:
            po_type = "RushOrder"

        acked_at = self._acknowledged_at(ordered_at, recent)
        # PO-level receiving outcome: most arrive inside the delivery window, some after it.
        if rng.random() < 0.85:
            arrives = delivery_start + timedelta(seconds=rng.randint(6 * 3600, 6 * 86400))
        else:
            arrives = delivery_end + timedelta(seconds=rng.randint(3600, 14 * 86400))
        arrived = acked_at is not None and arrives <= now

        order_week = self._week(ordered_at)
        n_lines = int(rng.triangular(1, 16, 14))
        picks = rng.choices(self.items, cum_weights=self.item_weights, k=n_lines + 8)
        seen = set()
        chosen: list[Item] = []
        for item in picks:
            if item.index not in seen:
                seen.add(item.index)
                chosen.append(item)
                if len(chosen) == n_lines:
                    break

        wanted = received_all = 0
        last_receipt = None
        for seq, item in enumerate(chosen, 1):
            size = item.unit_size
            qty = max(1, round(item.line_eaches * rng.uniform(0.5, 1.5) / size))
            ordered_eaches = qty * size
            line = {
                "id": line_id, "purchase_order_id": po_id, "vendor_id": self.vendor_id,
                "item_sequence_number": str(seq), "asin": item.asin, "vendor_sku": item.sku,
                "ordered_quantity": qty, "ordered_unit_of_measure": item.unit_of_measure,
                "ordered_unit_size": size, "ordered_eaches": ordered_eaches,
                "back_order_allowed": item.back_order_allowed,
                "net_cost_amount": item.net_cost, "net_cost_currency": self.currency,
                "net_cost_unit_of_measure": None,
                "list_price_amount": item.list_price, "list_price_currency": self.currency,
                "cancelled": False,
                "confirmation_status": "UNCONFIRMED", "accepted_quantity": None,
                "accepted_unit_of_measure": None, "accepted_unit_size": None,
                "accepted_eaches": None, "rejected_eaches": None,
                "received_quantity": None, "received_unit_of_measure": None,
                "received_unit_size": None, "received_eaches": None, "last_received_at": None,
            }
            line_rows.append(line)
            a = item.index
            if 0 <= order_week < REPORT_WEEKS:
                self.ordered[a][order_week] += ordered_eaches
            if acked_at is None:
                line_id += 1
                continue

            accepted, status = qty, "ACCEPTED"
            roll = rng.random()
            if roll > 0.97:
                accepted, status = 0, "REJECTED"
            elif roll > 0.93 and qty > 1:
                accepted, status = rng.randint(1, qty - 1), "PARTIALLY_ACCEPTED"
            line.update(
                confirmation_status=status, accepted_quantity=accepted,
                accepted_unit_of_measure=item.unit_of_measure, accepted_unit_size=size,
                accepted_eaches=accepted * size, rejected_eaches=(qty - accepted) * size,
            )
            if 0 <= order_week < REPORT_WEEKS:
                self.accepted[a][order_week] += accepted * size
            wanted += accepted

            got = 0
            if arrived and accepted:
                roll = rng.random()
                if roll < 0.87:
                    got = accepted
                elif roll < 0.97:
                    got = int(accepted * rng.uniform(0.3, 0.95))
            if got:
                at = min(arrives + timedelta(seconds=rng.randint(0, 8 * 3600)), now)
                if got > 1 and rng.random() < 0.04:
                    # A split delivery: Amazon reports the cumulative quantity per receive date.
                    first = at - timedelta(days=rng.randint(1, 3))
                    receipt_rows.append(self._receipt(receipt_id, line_id, got // 2, item, first))
                    receipt_id += 1
                receipt_rows.append(self._receipt(receipt_id, line_id, got, item, at))
                receipt_id += 1
                line.update(
                    received_quantity=got, received_unit_of_measure=item.unit_of_measure,
                    received_unit_size=size, received_eaches=got * size, last_received_at=at,
                )
                last_receipt = at if last_receipt is None or at > last_receipt else last_receipt
                received_all += got
                week = self._week(at)
                if 0 <= week < REPORT_WEEKS:
                    self.received[a][week] += got * size
                    lead_days = (at - ordered_at).total_seconds() / 86400
                    self.lead_days[a][week] += got * size * lead_days
            # Accepted units count as open from the order until they arrive or the PO closes.
            if accepted:
                if got:
                    open_until = self._week(at)
                elif arrived:
                    open_until = self._week(delivery_end + DAY * 14)
                else:
                    open_until = REPORT_WEEKS
                self._open_interval(a, order_week, open_until, accepted * size)
            line_id += 1

        state, changed_at = PoState.NEW.value, ordered_at
        if acked_at is not None:
            state, changed_at = PoState.ACKNOWLEDGED.value, acked_at
            closed_at = None
            if wanted == 0:
                closed_at = acked_at
            elif received_all >= wanted and last_receipt is not None:
                closed_at = last_receipt + HOUR * rng.randint(2, 48)
            elif delivery_end + DAY * 14 <= now:
                closed_at = delivery_end + DAY * 14
            if closed_at is not None and closed_at <= now:
                state, changed_at = PoState.CLOSED.value, closed_at
        po_rows.append({
            "id": po_id, "vendor_id": self.vendor_id, "po_number": _po_number(index),
            "state": state, "po_type": po_type, "ordered_at": ordered_at,
            "amazon_changed_at": ordered_at, "state_changed_at": changed_at,
            "ship_window_start": ship_start, "ship_window_end": ship_end,
            "delivery_window_start": delivery_start, "delivery_window_end": delivery_end,
            "selling_party_id": code, "buying_party_id": warehouse.party_id,
            "ship_to_party_id": warehouse.party_id, "bill_to_party_id": "AMZN_US",
            "parties": self.parties[(code, warehouse.party_id)], "payment_method": "Invoice",
            "deal_code": None, "import_details": None, "marketplace_id": MARKETPLACE_US,
            "ack_due_at": ack_due,
            "ack_state": AckState.NONE.value if acked_at is None else AckState.ACCEPTED.value,
            "changed_by_amazon": False,
            "first_synced_at": min(ordered_at + timedelta(minutes=5), now),
            "last_synced_at": now,
        })
        return line_id, receipt_id

    def _acknowledged_at(self, ordered_at: datetime, recent: bool) -> datetime | None:
        """Return when the vendor acknowledged the PO, or None while it is still New."""
        rng, now = self.rng, self.now
        age_hours = (now - ordered_at).total_seconds() / 3600
        if recent:
            # The newest few always wait in the inbox, so the demo has deadlines ahead.
            if ordered_at >= now - HOUR * 6 or rng.random() < 0.6:
                return None
            return ordered_at + HOUR * rng.uniform(0.5, age_hours)
        if age_hours < 24 * 5 and rng.random() < 0.02:
            return None  # a few missed deadlines
        roll = rng.random()
        if roll < 0.90:
            hours = rng.uniform(0.5, 20)
        elif roll < 0.97:
            hours = rng.uniform(20, 24)
        else:
            hours = rng.uniform(24, 48)  # acknowledged late
        return min(ordered_at + HOUR * hours, now)

    def _receipt(self, receipt_id: int, line_id: int, quantity: int, item: Item, at: datetime):
        return {
            "id": receipt_id, "vendor_id": self.vendor_id, "purchase_order_line_id": line_id,
            "received_quantity": quantity, "unit_of_measure": item.unit_of_measure,
            "unit_size": item.unit_size, "received_eaches": quantity * item.unit_size,
            "received_at": at, "recorded_at": min(at + HOUR * 6, self.now),
        }

    def _open_interval(self, asin_index: int, start: int, end: int, eaches: int) -> None:
        start, end = max(start, 0), min(end, REPORT_WEEKS)
        if start < end:
            self.open_delta[asin_index][start] += eaches
            self.open_delta[asin_index][end] -= eaches

    def _weekly_reports(self) -> None:
        """Write inventory and sales weeks per ASIN, driven by what Amazon received."""
        rng, now = self.rng, self.now
        inventory_rows, sales_rows = [], []
        inventory_id, sales_id = _next_id(InventoryWeek), _next_id(SalesWeek)
        for item in self.items:
            a = item.index
            received = self.received[a]
            inflow = sum(received[2:REPORT_WEEKS - 1]) / max(REPORT_WEEKS - 3, 1)
            base = max(inflow, item.line_eaches / 4)
            # Low-stock items sell faster than they are replenished; slow ones pile up.
            demand_factor = {"low": rng.uniform(1.3, 1.6), "slow": rng.uniform(0.55, 0.75)}.get(
                item.profile, rng.uniform(0.85, 1.0)
            )
            on_hand = round(base * (rng.uniform(1.5, 2.5) if item.profile == "low"
                                    else rng.uniform(4, 8)))
            unsellable = round(on_hand * 0.01)
            open_units = 0
            for w in range(REPORT_WEEKS):
                week_start = self.first_week + timedelta(days=7 * w)
                week_end = week_start + timedelta(days=6)
                season = 1 + 0.25 * (w / REPORT_WEEKS) ** 3  # the run-up to the holidays
                demand = round(base * demand_factor * season * rng.uniform(0.85, 1.15))
                start_units = on_hand
                available = on_hand + received[w]
                shipped = min(demand, available)
                # Rounded at random so slow sellers still show their small return rates.
                returns = int(shipped * item.return_rate * rng.uniform(0.7, 1.3) + rng.random())
                back_to_stock = round(returns * 0.7)
                on_hand = available - shipped + back_to_stock
                unsellable = max(0, unsellable + returns - back_to_stock - round(unsellable * 0.4))
                open_units += self.open_delta[a][w]
                cover_13_weeks = round(13 * max(shipped, 1))
                aged = max(0, on_hand - cover_13_weeks) if w >= 12 else 0
                received_cost = _money(item.net_cost * received[w])
                lead = self.lead_days[a][w] / received[w] if received[w] else None
                common = {
                    "vendor_id": self.vendor_id, "marketplace_id": MARKETPLACE_US,
                    "asin": item.asin, "week_start": week_start, "week_end": week_end,
                    "currency": self.currency, "synced_at": now,
                }
                inventory_rows.append({
                    **common, "id": inventory_id,
                    "sellable_on_hand_units": on_hand,
                    "sellable_on_hand_cost": _money(item.net_cost * on_hand),
                    "unsellable_on_hand_units": unsellable,
                    "aged_90_plus_days_sellable_units": aged,
                    "unhealthy_units": aged // 2,
                    "open_purchase_order_units": max(open_units, 0),
                    "net_received_units": received[w], "net_received_cost": received_cost,
                    "unfilled_customer_ordered_units": demand - shipped,
                    "vendor_confirmation_rate": _rate(self.accepted[a][w], self.ordered[a][w]),
                    "sell_through_rate": _rate(shipped - returns, start_units + received[w]),
                    "average_vendor_lead_time_days": (
                        None if lead is None else Decimal(lead).quantize(CENT, ROUND_HALF_UP)
                    ),
                })
                price_factor = Decimal(rng.randint(92, 100)) / 100  # promotions and coupons
                sales_rows.append({
                    **common, "id": sales_id,
                    "ordered_units": demand,
                    "ordered_revenue": _money(item.list_price * demand * price_factor),
                    "shipped_units": shipped,
                    "shipped_revenue": _money(item.list_price * shipped * price_factor),
                    "shipped_cogs": _money(item.net_cost * shipped),
                    "customer_returns": returns,
                })
                inventory_id += 1
                sales_id += 1
        connection = db.session.connection()
        bulk_insert(connection, InventoryWeek.__table__, inventory_rows)
        bulk_insert(connection, SalesWeek.__table__, sales_rows)
        self.counts["inventory"] = len(inventory_rows)
        self.counts["sales"] = len(sales_rows)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out

