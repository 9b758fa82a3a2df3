"""Amazon's vendor metrics, from the synced POs and the vendor inventory and sales reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from webapp.dashboards.periods import Week, last_synced, recent_weeks
from webapp.dashboards.rates import as_json, percent, ratio
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder as PO
from webapp.orders.models import PurchaseOrderLine as Line
from webapp.vendor_reports.models import InventoryWeek, SalesWeek
from webapp.vendors.models import Vendor

FEEDS = ("orders", "status", "reports")


@dataclass
class VendorMetrics:
    """Confirmation rate, receive fill rate, lead time, sell-through and unfilled demand."""

    first: Week
    last: Week
    units_requested: int
    units_confirmed: int
    units_due_confirmed: int
    units_received: int
    lead_time_days: Decimal | None
    received_lines: int
    sell_through_percent: Decimal | None
    report_from: date | None
    report_to: date | None
    unfilled_units: int
    customer_ordered_units: int
    synced_at: datetime | None

    @property
    def confirmation_rate(self) -> Decimal | None:
        return percent(self.units_confirmed, self.units_requested)

    @property
    def receive_fill_rate(self) -> Decimal | None:
        return percent(self.units_received, self.units_due_confirmed)

    @property
    def unfilled_rate(self) -> Decimal | None:
        return percent(self.unfilled_units, self.customer_ordered_units)

    def to_json(self) -> dict:
        """Figures for the JSON API."""
        return {
            "period": {"from": self.first.start.isoformat(), "to": self.last.end.isoformat()},
            "units_requested": self.units_requested, "units_confirmed": self.units_confirmed,
            "confirmation_rate": as_json(self.confirmation_rate),
            "units_due_confirmed": self.units_due_confirmed,
            "units_received": self.units_received,
            "receive_fill_rate": as_json(self.receive_fill_rate),
            "average_lead_time_days": as_json(self.lead_time_days),
            "received_lines": self.received_lines,
            "sell_through_percent": as_json(self.sell_through_percent),
            "unfilled_customer_ordered_units": self.unfilled_units,
            "customer_ordered_units": self.customer_ordered_units,
            "unfilled_rate": as_json(self.unfilled_rate),
            "reports": {"from": self.report_from and self.report_from.isoformat(),
                        "to": self.report_to and self.report_to.isoformat()},
            "synced_at": self.synced_at and self.synced_at.isoformat(),
        }


def _lead_days():
    """SQL: days from PO date to last receipt, on either backend."""
    if db.engine.dialect.name == "sqlite":
        return func.julianday(Line.last_received_at) - func.julianday(PO.ordered_at)
    return func.extract("epoch", Line.last_received_at - PO.ordered_at) / 86400


def vendor_metrics(vendor: Vendor, now: datetime, weeks: int = 13) -> VendorMetrics:
    """Compute Amazon's vendor metrics over the last `weeks` weeks."""
    periods = recent_weeks(now, vendor.timezone, weeks)
    start, end = periods[0].start_utc, periods[-1].end_utc
    counted = [PO.vendor_id == vendor.id, Line.vendor_id == vendor.id,
               Line.cancelled.is_(False)]
    joined = select().select_from(Line).join(PO, Line.purchase_order_id == PO.id)
    # Confirmation: lines of POs ordered in the period that Amazon shows an answer for.
    requested, confirmed = db.session.execute(joined.add_columns(
        func.coalesce(func.sum(Line.ordered_eaches), 0),
        func.coalesce(func.sum(Line.accepted_eaches), 0),
    ).where(*counted, PO.ordered_at >= start, PO.ordered_at < end,
            Line.accepted_eaches.is_not(None))).one()
    # Fill and lead time: lines due (window ended) in the period.
    due = [*counted, PO.delivery_window_end >= start, PO.delivery_window_end < end,
           PO.delivery_window_end <= now]
    due_confirmed, received = db.session.execute(joined.add_columns(
        func.coalesce(func.sum(func.coalesce(Line.accepted_eaches, Line.ordered_eaches)), 0),
        func.coalesce(func.sum(Line.received_eaches), 0),
    ).where(*due)).one()
    lead_sum, lead_count = db.session.execute(joined.add_columns(
        func.sum(_lead_days()), func.count(Line.id),
    ).where(*due, Line.last_received_at.is_not(None))).one()
    lead = ratio(Decimal(str(lead_sum)), lead_count) if lead_count else None
    # Reports: the report weeks inside the period.
    first_day, last_day = periods[0].start, periods[-1].end
    sell = db.session.execute(select(
        func.sum(InventoryWeek.sell_through_rate), func.count(InventoryWeek.sell_through_rate),
        func.min(InventoryWeek.week_start), func.max(InventoryWeek.week_end),
        func.coalesce(func.sum(InventoryWeek.unfilled_customer_ordered_units), 0),
    ).where(InventoryWeek.vendor_id == vendor.id, InventoryWeek.week_start >= first_day,
            InventoryWeek.week_start <= last_day)).one()
    ordered_units = db.session.scalar(select(
        func.coalesce(func.sum(SalesWeek.ordered_units), 0)
    ).where(SalesWeek.vendor_id == vendor.id, SalesWeek.week_start >= first_day,
            SalesWeek.week_start <= last_day))
    # Amazon gives sell-through per ASIN and week; ACORN shows their plain mean.
    sell_through = percent(Decimal(str(sell[0])), sell[1]) if sell[1] else None
    return VendorMetrics(
        periods[0], periods[-1], int(requested), int(confirmed), int(due_confirmed),
        int(received), lead, int(lead_count or 0), sell_through, sell[2], sell[3],
        int(sell[4]), int(ordered_units or 0), last_synced(vendor.id, FEEDS))

