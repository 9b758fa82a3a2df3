"""Stock per ASIN: on hand and open PO units (inventory report), inbound ASNs, velocity, cover.

Open PO units are Amazon's own figure from the inventory report: summing confirmed-but-not-
received units over a large vendor's open PO lines on every view costs ~70 ms (bench), over
the dashboard's budget, and the report is the number Amazon itself plans with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from webapp.dashboards.periods import last_synced, latest_report_weeks
from webapp.dashboards.rates import as_json, ratio
from webapp.extensions import db
from webapp.orders.models import PurchaseOrderLine as Line
from webapp.shipments.models import Shipment, ShipmentItem
from webapp.vendor_reports.models import InventoryWeek, SalesWeek
from webapp.vendors.models import Vendor

FEEDS = ("orders", "status", "reports")
VELOCITY_WEEKS = 4
INBOUND_STATES = ("pending", "submitted")  # ASN sent, nothing received yet


@dataclass
class StockRow:
    """One ASIN's stock position."""

    asin: str
    sellable_on_hand: int
    unsellable_on_hand: int
    aged_90_plus: int
    unhealthy: int
    open_po_units: int
    inbound_units: int
    weekly_velocity: Decimal  # shipped units per week, average of the last weeks
    weeks_of_cover: Decimal | None  # None: nothing sold, cover is unbounded
    low: bool  # below the vendor's weeks-of-cover threshold

    def to_json(self) -> dict:
        """Figures for the JSON API."""
        return {
            "asin": self.asin, "sellable_on_hand": self.sellable_on_hand,
            "unsellable_on_hand": self.unsellable_on_hand, "aged_90_plus": self.aged_90_plus,
            "unhealthy": self.unhealthy, "open_po_units": self.open_po_units,
            "inbound_units": self.inbound_units, "weekly_velocity": as_json(self.weekly_velocity),
            "weeks_of_cover": as_json(self.weeks_of_cover), "low_stock": self.low,
        }


@dataclass
class StockReport:
    """The vendor's stock as of the latest inventory report week."""

    vendor_id: int
    week_start: date | None
    week_end: date | None
    velocity_from: date | None
    velocity_to: date | None
    rows: list[StockRow]
    threshold: Decimal
    synced_at: datetime | None

    @property
    def low_stock(self) -> list[StockRow]:
        return sorted((r for r in self.rows if r.low), key=lambda r: (r.weeks_of_cover, r.asin))

    @property
    def aged(self) -> list[StockRow]:
        return sorted((r for r in self.rows if r.aged_90_plus or r.unhealthy),
                      key=lambda r: (-r.unhealthy, -r.aged_90_plus, r.asin))

    @property
    def totals(self) -> dict[str, int]:
        names = ("sellable_on_hand", "unsellable_on_hand", "aged_90_plus", "unhealthy",
                 "open_po_units", "inbound_units")
        return {n: sum(getattr(r, n) for r in self.rows) for n in names}


def stock_report(vendor: Vendor) -> StockReport:
    """Compute the vendor's stock position per ASIN."""
    week = latest_report_weeks(vendor.id)[0]
    on_hand = {}
    if week is not None:
        on_hand = {r.asin: r for r in db.session.execute(
            select(InventoryWeek.asin,
                   func.sum(InventoryWeek.sellable_on_hand_units).label("sellable"),
                   func.sum(InventoryWeek.unsellable_on_hand_units).label("unsellable"),
                   func.sum(InventoryWeek.aged_90_plus_days_sellable_units).label("aged"),
                   func.sum(InventoryWeek.unhealthy_units).label("unhealthy"),
                   func.sum(InventoryWeek.open_purchase_order_units).label("open_units"))
            .where(InventoryWeek.vendor_id == vendor.id, InventoryWeek.week_start == week)
            .group_by(InventoryWeek.asin))}
    velocity, v_from, v_to = _velocity(vendor.id)
    open_units = {asin: int(r.open_units or 0) for asin, r in on_hand.items()}
    inbound = _inbound_units(vendor.id)
    threshold = vendor.weeks_of_cover_threshold
    rows = []
    for asin in sorted(set(on_hand) | set(inbound) | set(velocity)):
        inv = on_hand.get(asin)
        sellable = int(inv.sellable or 0) if inv else 0
        per_week = velocity.get(asin, Decimal(0))
        cover = ratio(sellable, per_week, "0.1")
        row = StockRow(
            asin=asin, sellable_on_hand=sellable,
            unsellable_on_hand=int(inv.unsellable or 0) if inv else 0,
            aged_90_plus=int(inv.aged or 0) if inv else 0,
            unhealthy=int(inv.unhealthy or 0) if inv else 0,
            open_po_units=open_units.get(asin, 0), inbound_units=inbound.get(asin, 0),
            weekly_velocity=per_week, weeks_of_cover=cover,
            low=cover is not None and cover < threshold,
        )
        rows.append(row)
    return StockReport(vendor.id, week, week and week + timedelta(days=6), v_from, v_to, rows,
                       threshold, last_synced(vendor.id, FEEDS))


def velocity_weeks(last: date | None) -> tuple[date | None, date | None]:
    """First and last report week (week starts) of the velocity window ending at `last`."""
    if last is None:
        return None, None
    return last - timedelta(days=7 * (VELOCITY_WEEKS - 1)), last


def weekly_velocity(shipped_units: int | None) -> Decimal:
    """Average units shipped per week, from the units shipped in the velocity window."""
    return ratio(shipped_units or 0, VELOCITY_WEEKS, "0.1")


def _velocity(vendor_id: int) -> tuple[dict[str, Decimal], date | None, date | None]:
    """Average shipped units per week over the last VELOCITY_WEEKS report weeks."""
    first, last = velocity_weeks(latest_report_weeks(vendor_id)[1])
    if last is None:
        return {}, None, None
    rows = db.session.execute(
        select(SalesWeek.asin, func.sum(SalesWeek.shipped_units))
        .where(SalesWeek.vendor_id == vendor_id, SalesWeek.week_start >= first,
               SalesWeek.week_start <= last).group_by(SalesWeek.asin))
    return ({asin: weekly_velocity(units) for asin, units in rows},
            first, last + timedelta(days=6))


def _inbound_units(vendor_id: int) -> dict[str, int]:
    """Units on ASNs submitted or in transit, per ASIN."""
    rows = db.session.execute(
        select(Line.asin, func.sum(ShipmentItem.shipped_eaches)).select_from(Shipment)
        .join(ShipmentItem, ShipmentItem.shipment_id == Shipment.id)
        .join(Line, Line.id == ShipmentItem.purchase_order_line_id)
        .where(Shipment.vendor_id == vendor_id, Shipment.status.in_(INBOUND_STATES),
               Line.vendor_id == vendor_id)
        .group_by(Line.asin))
    return {asin: int(units or 0) for asin, units in rows if asin}
