"""Returns and sales from the vendor sales report: units, revenue and return rate per ASIN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from webapp.dashboards.periods import last_synced, latest_report_weeks
from webapp.dashboards.rates import as_json, percent
from webapp.extensions import db
from webapp.vendor_reports.models import SalesWeek
from webapp.vendors.models import Vendor

FEEDS = ("reports",)


@dataclass
class SalesWeekTotal:
    """One report week of the vendor's sales, all ASINs together."""

    week_start: date
    currency: str
    ordered_units: int
    shipped_units: int
    ordered_revenue: Decimal
    shipped_revenue: Decimal
    customer_returns: int

    def to_json(self) -> dict:
        """Figures for the JSON API."""
        return {"week_start": self.week_start.isoformat(),
                "week_end": (self.week_start + timedelta(days=6)).isoformat(),
                "currency": self.currency, "ordered_units": self.ordered_units,
                "shipped_units": self.shipped_units,
                "ordered_revenue": as_json(self.ordered_revenue),
                "shipped_revenue": as_json(self.shipped_revenue),
                "customer_returns": self.customer_returns}


@dataclass
class ReturnRate:
    """Customer returns against shipped units of one ASIN over the period."""

    asin: str
    shipped_units: int
    customer_returns: int
    threshold: Decimal

    @property
    def rate(self) -> Decimal | None:
        return percent(self.customer_returns, self.shipped_units)

    @property
    def above(self) -> bool:
        return self.rate is not None and self.rate > self.threshold

    def to_json(self) -> dict:
        """Figures for the JSON API."""
        return {"asin": self.asin, "shipped_units": self.shipped_units,
                "customer_returns": self.customer_returns, "return_rate": as_json(self.rate),
                "above_threshold": self.above}


@dataclass
class SalesReport:
    """Sales and returns over the last report weeks."""

    first: date | None
    last: date | None
    weeks: list[SalesWeekTotal]
    returns: list[ReturnRate]
    threshold: Decimal
    synced_at: datetime | None

    @property
    def alerts(self) -> list[ReturnRate]:
        return [r for r in self.returns if r.above]


def sales_report(vendor: Vendor, weeks: int = 13) -> SalesReport:
    """Sum the vendor's sales report over its last `weeks` weeks; return rate per ASIN."""
    threshold = vendor.return_rate_threshold_percent
    synced = last_synced(vendor.id, FEEDS)
    last = latest_report_weeks(vendor.id)[1]
    if last is None:
        return SalesReport(None, None, [], [], threshold, synced)
    first = last - timedelta(days=7 * (weeks - 1))
    scope = [SalesWeek.vendor_id == vendor.id, SalesWeek.week_start >= first,
             SalesWeek.week_start <= last]
    totals = [SalesWeekTotal(r.week_start, r.currency, int(r.o), int(r.s), r.orev or Decimal(0),
                             r.srev or Decimal(0), int(r.ret))
              for r in db.session.execute(
                  select(SalesWeek.week_start, SalesWeek.currency,
                         func.sum(SalesWeek.ordered_units).label("o"),
                         func.sum(SalesWeek.shipped_units).label("s"),
                         func.sum(SalesWeek.ordered_revenue).label("orev"),
                         func.sum(SalesWeek.shipped_revenue).label("srev"),
                         func.sum(SalesWeek.customer_returns).label("ret"))
                  .where(*scope).group_by(SalesWeek.week_start, SalesWeek.currency)
                  .order_by(SalesWeek.week_start, SalesWeek.currency))]
    for t in totals:  # SQLite sums NUMERIC as float-ish; keep cents exact
        t.ordered_revenue = Decimal(str(t.ordered_revenue)).quantize(Decimal("0.01"))
        t.shipped_revenue = Decimal(str(t.shipped_revenue)).quantize(Decimal("0.01"))
    returns = [ReturnRate(asin, int(s or 0), int(r or 0), threshold)
               for asin, s, r in db.session.execute(
                   select(SalesWeek.asin, func.sum(SalesWeek.shipped_units),
                          func.sum(SalesWeek.customer_returns))
                   .where(*scope).group_by(SalesWeek.asin))]
    returns.sort(key=lambda r: (-(r.rate or Decimal(0)), r.asin))
    return SalesReport(first, last + timedelta(days=6), totals, returns, threshold, synced)
