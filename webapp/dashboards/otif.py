"""OTIF as ACORN defines it, per PO line, read from pre-aggregated facts (see `facts`).

A line counts once its delivery window has ended plus the vendor's grace (not yet due: left
out). Cancelled lines and lines with nothing confirmed are left out. On time: the last
receipt is no later than the window's end plus grace. In full: received units reach the
confirmed units (a second figure: the ordered units). Due but not received: failed on both.
Units are eaches (`*_eaches`), so Cases and Eaches add up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, not_, select

from webapp.dashboards.facts import refresh_otif_facts
from webapp.dashboards.models import OtifFact
from webapp.dashboards.periods import Week, last_synced, recent_weeks
from webapp.dashboards.rates import as_json, percent
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder as PO
from webapp.orders.models import PurchaseOrderLine as Line
from webapp.vendors.models import Vendor

FEEDS = ("orders", "status")
MEASURES = ("otif", "on_time", "in_full", "in_full_ordered", "otif_ordered")
DRILL_LIMIT = 200
SQLITE_MS = "%Y-%m-%d %H:%M:%f"

CONFIRMED = func.coalesce(Line.accepted_eaches, Line.ordered_eaches)
RECEIVED = func.coalesce(Line.received_eaches, 0)

COUNTS = ("lines", "lines_on_time", "lines_in_full", "lines_otif", "lines_in_full_ordered",
          "lines_otif_ordered", "units", "units_ordered", "units_on_time", "units_in_full",
          "units_otif", "units_in_full_ordered", "units_otif_ordered")


@dataclass
class OtifFigures:
    """Counts of due lines and units, and the rates they give."""

    lines: int = 0
    lines_on_time: int = 0
    lines_in_full: int = 0
    lines_otif: int = 0
    lines_in_full_ordered: int = 0
    lines_otif_ordered: int = 0
    units: int = 0  # confirmed eaches of due lines
    units_ordered: int = 0
    units_on_time: int = 0  # confirmed eaches of lines that were on time
    units_in_full: int = 0
    units_otif: int = 0
    units_in_full_ordered: int = 0  # ordered eaches of lines in full against the order
    units_otif_ordered: int = 0

    def rate(self, measure: str, by: str = "lines") -> Decimal | None:
        """Return the percentage of `measure` by lines or by units."""
        if by == "lines":
            return percent(getattr(self, f"lines_{measure}"), self.lines)
        base = self.units_ordered if measure.endswith("_ordered") else self.units
        return percent(getattr(self, f"units_{measure}"), base)

    def to_json(self) -> dict:
        """Counts and rates (as decimal strings) for the JSON API."""
        return {
            **{name: getattr(self, name) for name in COUNTS},
            "rates_by_lines": {m: as_json(self.rate(m, "lines")) for m in MEASURES},
            "rates_by_units": {m: as_json(self.rate(m, "units")) for m in MEASURES},
        }


@dataclass
class OtifReport:
    """OTIF of one vendor over recent weeks: per week, in total, per warehouse, per ASIN."""

    vendor_id: int
    weeks: list[tuple[Week, OtifFigures]]
    total: OtifFigures
    by_warehouse: list[tuple[str, OtifFigures]]
    by_asin: list[tuple[str, OtifFigures]]
    target_percent: Decimal
    grace_days: int
    now: datetime
    synced_at: datetime | None

    @property
    def first(self) -> Week:
        return self.weeks[0][0]

    def warehouse_rates(self) -> list[Decimal | None]:
        """OTIF by lines of each warehouse, in `by_warehouse` order."""
        return [figures.rate("otif") for _key, figures in self.by_warehouse]

    def series(self, measure: str = "otif", by: str = "lines") -> list[Decimal | None]:
        """The weekly rates of `measure`, oldest first."""
        return [figures.rate(measure, by) for _week, figures in self.weeks]

    @property
    def last(self) -> Week:
        return self.weeks[-1][0]


@dataclass
class FailingLine:
    """One due line that failed a measure, with the evidence."""

    line_id: int
    po_number: str
    item_sequence_number: str
    asin: str | None
    vendor_sku: str | None
    warehouse: str | None
    delivery_window_end: datetime
    due_at: datetime
    last_received_at: datetime | None
    ordered_eaches: int
    confirmed_eaches: int
    received_eaches: int
    late_days: int | None  # None: on time or never received
    short_units: int  # against confirmed
    short_ordered_units: int
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The line and why it failed, for the JSON API."""
        return {
            "line_id": self.line_id, "po_number": self.po_number,
            "item_sequence_number": self.item_sequence_number, "asin": self.asin,
            "vendor_sku": self.vendor_sku, "warehouse": self.warehouse,
            "delivery_window_end": self.delivery_window_end.isoformat(),
            "due_at": self.due_at.isoformat(),
            "last_received_at": self.last_received_at and self.last_received_at.isoformat(),
            "ordered_eaches": self.ordered_eaches, "confirmed_eaches": self.confirmed_eaches,
            "received_eaches": self.received_eaches, "late_days": self.late_days,
            "short_units": self.short_units, "short_ordered_units": self.short_ordered_units,
            "reasons": self.reasons,
        }


def _on_time(grace_days: int):
    """SQL: the last receipt is no later than the window's end plus grace."""
    if grace_days == 0:
        compare = Line.last_received_at <= PO.delivery_window_end
    elif db.engine.dialect.name == "sqlite":
        # SQLite keeps datetimes as text: shift and compare both sides in one format.
        compare = func.strftime(SQLITE_MS, Line.last_received_at) <= func.strftime(
            SQLITE_MS, PO.delivery_window_end, f"+{int(grace_days)} days")
    else:
        compare = Line.last_received_at <= PO.delivery_window_end + literal(
            timedelta(days=grace_days))
    return and_(Line.last_received_at.is_not(None), compare)


def _conditions(grace_days: int) -> dict:
    on_time = _on_time(grace_days)
    in_full = RECEIVED >= CONFIRMED
    in_full_ordered = RECEIVED >= Line.ordered_eaches
    return {"on_time": on_time, "in_full": in_full, "otif": and_(on_time, in_full),
            "in_full_ordered": in_full_ordered, "otif_ordered": and_(on_time, in_full_ordered)}


def base_aggregates(grace_days: int) -> list:
    """SELECT columns summing COUNTS over PO lines joined to their POs."""
    return _aggregates(grace_days)


def _aggregates(grace_days: int) -> list:
    cond = _conditions(grace_days)

    def lines(c):
        return func.coalesce(func.sum(case((c, 1), else_=0)), 0)

    def units(c, weight):
        return func.coalesce(func.sum(case((c, weight), else_=0)), 0)

    return [
        func.count(Line.id).label("lines"),
        lines(cond["on_time"]).label("lines_on_time"),
        lines(cond["in_full"]).label("lines_in_full"),
        lines(cond["otif"]).label("lines_otif"),
        lines(cond["in_full_ordered"]).label("lines_in_full_ordered"),
        lines(cond["otif_ordered"]).label("lines_otif_ordered"),
        func.coalesce(func.sum(CONFIRMED), 0).label("units"),
        func.coalesce(func.sum(Line.ordered_eaches), 0).label("units_ordered"),
        units(cond["on_time"], CONFIRMED).label("units_on_time"),
        units(cond["in_full"], CONFIRMED).label("units_in_full"),
        units(cond["otif"], CONFIRMED).label("units_otif"),
        units(cond["in_full_ordered"], Line.ordered_eaches).label("units_in_full_ordered"),
        units(cond["otif_ordered"], Line.ordered_eaches).label("units_otif_ordered"),
    ]


def _due_lines(vendor_id: int, start: datetime, end: datetime, now: datetime, grace_days: int):
    """WHERE clauses: the vendor's counted lines whose window ended in [start, end) and are due."""
    return [
        PO.vendor_id == vendor_id, Line.purchase_order_id == PO.id, Line.vendor_id == vendor_id,
        PO.delivery_window_end >= start, PO.delivery_window_end < end,
        PO.delivery_window_end <= now - timedelta(days=grace_days),
        Line.cancelled.is_(False), CONFIRMED > 0,
    ]


def _figures(row) -> OtifFigures:
    return OtifFigures(**{name: int(getattr(row, name) or 0) for name in COUNTS})


def otif_by_week(vendor: Vendor, now: datetime, weeks: int = 13, *,
                 breakdowns: bool = True) -> OtifReport:
    """Compute the vendor's OTIF over the last `weeks` Amazon weeks (the current one included)."""
    refresh_otif_facts(vendor)
    grace = vendor.otif_grace_days or 0
    periods = recent_weeks(now, vendor.timezone, weeks)
    F = OtifFact
    where = [F.vendor_id == vendor.id, F.delivery_window_end >= periods[0].start_utc,
             F.delivery_window_end < periods[-1].end_utc,
             F.delivery_window_end <= now - timedelta(days=grace)]
    sums = [func.coalesce(func.sum(getattr(F, n)), 0).label(n) for n in COUNTS]
    bucket = case(*[(F.delivery_window_end < w.end_utc, i) for i, w in enumerate(periods)],
                  else_=len(periods)).label("bucket")
    rows = {row.bucket: row for row in db.session.execute(
        select(bucket, *sums).where(*where, F.kind == "w").group_by(bucket))}
    per_week = [(w, _figures(rows[i]) if i in rows else OtifFigures())
                for i, w in enumerate(periods)]
    total = OtifFigures(**{n: sum(getattr(f, n) for _, f in per_week) for n in COUNTS})
    by_warehouse: list[tuple[str, OtifFigures]] = []
    by_asin: list[tuple[str, OtifFigures]] = []
    if breakdowns:
        for kind, out in (("w", by_warehouse), ("a", by_asin)):
            out.extend((row.key or "—", _figures(row)) for row in db.session.execute(
                select(F.key, *sums).where(*where, F.kind == kind).group_by(F.key)))
            out.sort(key=lambda kv: (kv[1].rate("otif") or Decimal(0), kv[0]))
    return OtifReport(vendor.id, per_week, total, by_warehouse, by_asin,
                      vendor.otif_target_percent, grace, now, last_synced(vendor.id, FEEDS))


def otif_by_week_plain(vendor: Vendor, now: datetime, weeks: int = 13, *,
                 breakdowns: bool = True) -> OtifReport:
    """Compute OTIF straight from PO lines (no facts): the reference the facts must match."""
    grace = vendor.otif_grace_days or 0
    periods = recent_weeks(now, vendor.timezone, weeks)
    where = _due_lines(vendor.id, periods[0].start_utc, periods[-1].end_utc, now, grace)
    aggregates = _aggregates(grace)
    bucket = case(*[(PO.delivery_window_end < w.end_utc, i) for i, w in enumerate(periods)],
                  else_=len(periods)).label("bucket")
    rows = {row.bucket: row for row in db.session.execute(
        select(bucket, *aggregates).select_from(Line).join(PO, Line.purchase_order_id == PO.id)
        .where(*where).group_by(bucket))}
    per_week = [(w, _figures(rows[i]) if i in rows else OtifFigures())
                for i, w in enumerate(periods)]
    total = OtifFigures(**{n: sum(getattr(f, n) for _, f in per_week) for n in COUNTS})
    by_warehouse: list[tuple[str, OtifFigures]] = []
    by_asin: list[tuple[str, OtifFigures]] = []
    if breakdowns:
        by_warehouse = _grouped(PO.ship_to_party_id, where, aggregates)
        by_asin = _grouped(Line.asin, where, aggregates)
    return OtifReport(vendor.id, per_week, total, by_warehouse, by_asin,
                      vendor.otif_target_percent, grace, now, last_synced(vendor.id, FEEDS))


def _grouped(column, where, aggregates) -> list[tuple[str, OtifFigures]]:
    """Figures per value of `column`, worst OTIF first."""
    rows = db.session.execute(
        select(column.label("key"), *aggregates).select_from(Line)
        .join(PO, Line.purchase_order_id == PO.id).where(*where).group_by(column))
    out = [(row.key or "—", _figures(row)) for row in rows]
    out.sort(key=lambda kv: (kv[1].rate("otif") or Decimal(0), kv[0]))
    return out


def failing_lines(vendor: Vendor, now: datetime, *, start: datetime, end: datetime,
                  measure: str = "otif", warehouse: str | None = None, asin: str | None = None,
                  limit: int = DRILL_LIMIT) -> tuple[list[FailingLine], int]:
    """Return the due lines in [start, end) that failed `measure` (newest first) and their count."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    grace = vendor.otif_grace_days or 0
    where = _due_lines(vendor.id, start, end, now, grace)
    where.append(not_(_conditions(grace)[measure]))
    if warehouse:
        where.append(PO.ship_to_party_id == warehouse)
    if asin:
        where.append(Line.asin == asin)
    total = db.session.scalar(select(func.count(Line.id)).select_from(Line).join(
        PO, Line.purchase_order_id == PO.id).where(*where))
    rows = db.session.execute(
        select(Line.id, PO.po_number, Line.item_sequence_number, Line.asin, Line.vendor_sku,
               PO.ship_to_party_id, PO.delivery_window_end, Line.last_received_at,
               Line.ordered_eaches, Line.accepted_eaches, Line.received_eaches)
        .select_from(Line).join(PO, Line.purchase_order_id == PO.id).where(*where)
        .order_by(PO.delivery_window_end.desc(), Line.id).limit(limit)).all()
    return [_explain(row, grace) for row in rows], int(total or 0)


def _explain(row, grace_days: int) -> FailingLine:
    """Work out how late and how short a failing line was."""
    due_at = row.delivery_window_end + timedelta(days=grace_days)
    confirmed = row.accepted_eaches if row.accepted_eaches is not None else row.ordered_eaches
    received = row.received_eaches or 0
    late_days = None
    reasons = []
    if row.last_received_at is None:
        reasons.append("not_received")
    elif row.last_received_at > due_at:
        # Any part of a day late counts as a day: that is how disputes are argued.
        late_days = math.ceil((row.last_received_at - due_at).total_seconds() / 86400)
        reasons.append("late")
    short = max(confirmed - received, 0)
    short_ordered = max(row.ordered_eaches - received, 0)
    if short and row.last_received_at is not None:
        reasons.append("short")
    elif short_ordered and row.last_received_at is not None:
        reasons.append("short_of_ordered")
    return FailingLine(
        row.id, row.po_number, row.item_sequence_number, row.asin, row.vendor_sku,
        row.ship_to_party_id, row.delivery_window_end, due_at, row.last_received_at,
        row.ordered_eaches, confirmed, received, late_days, short, short_ordered, reasons)
