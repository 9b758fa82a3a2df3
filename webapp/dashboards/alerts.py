"""Dashboard alerts: raise `stock.low` and `otif.below_target` events from the dashboard figures.

The push scan (worker/push_jobs.py) turns these events into alerts for the users who want them;
each event's dedupe key makes a figure alert once: one per ASIN per inventory report week, one
per OTIF week.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from webapp.dashboards.otif import otif_by_week
from webapp.dashboards.stock import stock_report
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.vendors.models import Vendor

log = logging.getLogger(__name__)


def raise_low_stock(vendor: Vendor) -> int:
    """Raise `stock.low` for each ASIN below the weeks-of-cover threshold; return how many."""
    report = stock_report(vendor)
    if report.week_start is None:
        return 0  # no inventory report yet: on-hand stock is unknown, not zero
    raised = 0
    for row in report.low_stock:
        payload = {"asin": row.asin, "weeks_of_cover": str(row.weeks_of_cover),
                   "threshold": str(report.threshold), "sellable_on_hand": row.sellable_on_hand,
                   "weekly_velocity": str(row.weekly_velocity),
                   "week": report.week_start.isoformat()}
        if raise_event(vendor.id, "stock.low", f"{row.asin}:{report.week_start.isoformat()}",
                       payload=payload):
            raised += 1
    return raised


def raise_otif_below_target(vendor: Vendor, now: datetime | None = None) -> int:
    """Raise `otif.below_target` when the last complete week missed the target; return 0 or 1.

    A week is complete once it has ended and the vendor's grace days have passed, so every
    line due in it is counted.
    """
    now = now or utcnow()
    grace = timedelta(days=vendor.otif_grace_days or 0)
    weeks = 2 + grace.days // 7 + 1
    report = otif_by_week(vendor, now, weeks=weeks, breakdowns=False)
    complete = [(w, f) for w, f in report.weeks if w.end_utc + grace <= now]
    if not complete:
        return 0
    week, figures = complete[-1]
    rate = figures.rate("otif")
    if rate is None or rate >= report.target_percent:
        return 0  # no due lines, or on target
    payload = {"otif_percent": str(rate), "target_percent": str(report.target_percent),
               "week": week.start.isoformat(), "lines": figures.lines,
               "lines_otif": figures.lines_otif}
    return 1 if raise_event(vendor.id, "otif.below_target", f"week:{week.start.isoformat()}",
                            payload=payload) else 0


def raise_dashboard_alerts(now: datetime | None = None) -> dict[str, int]:
    """Check every vendor's stock and OTIF; commit each vendor's events on their own."""
    now = now or utcnow()
    totals = {"stock.low": 0, "otif.below_target": 0, "failed": 0}
    for vendor_id in db.session.scalars(select(Vendor.id).order_by(Vendor.id)).all():
        vendor = db.session.get(Vendor, vendor_id)
        try:
            low = raise_low_stock(vendor)
            otif = raise_otif_below_target(vendor, now)
            db.session.commit()
        except Exception:  # one vendor's bad data must not stop the others' alerts
            db.session.rollback()
            log.exception("dashboard alerts failed for vendor %s", vendor_id)
            totals["failed"] += 1
            continue
        totals["stock.low"] += low
        totals["otif.below_target"] += otif
    return totals
