"""Dashboard pages: overview, OTIF with drill-down, vendor metrics, stock, ASNs, sales."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from webapp.auth.access import require_permission
from webapp.dashboards import asn, charts, metrics, otif, overview, sales, stock
from webapp.dashboards.periods import make_week, parse_weeks, recent_weeks, week_start
from webapp.db_types import utcnow

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")


@bp.context_processor
def _chart_helpers() -> dict:
    """Give dashboard templates the SVG chart helpers."""
    return {"charts": charts}


def _weeks(default: int = 13) -> int:
    try:
        return parse_weeks(request.args.get("weeks"), default)
    except ValueError:
        abort(400)


@bp.get("")
@require_permission("dashboard.view")
def index():
    """Show one card per dashboard with its headline figure."""
    figures = overview.overview(current_user.vendor, utcnow())
    return render_template("dashboards/index.html",
                           cards=overview.cards_html(figures))


@bp.get("/otif")
@require_permission("dashboard.view")
def otif_page():
    """Show OTIF per week, per warehouse and per ASIN, with the definition."""
    weeks = _weeks()
    report = otif.otif_by_week(current_user.vendor, utcnow(), weeks)
    return render_template("dashboards/otif.html", report=report, weeks=weeks)


@bp.get("/otif/lines")
@require_permission("dashboard.view")
def otif_lines():
    """List the exact lines behind a figure that failed, and why."""
    vendor, now = current_user.vendor, utcnow()
    args = drill_args(vendor, now, request.args)
    lines, total = otif.failing_lines(vendor, now, **args["query"])
    return render_template("dashboards/otif_lines.html", lines=lines, total=total, **args)


def drill_args(vendor, now, values) -> dict:
    """Parse a drill-down's week (or weeks), measure, warehouse and ASIN; 400 when invalid."""
    measure = values.get("measure", "otif")
    if measure not in otif.MEASURES:
        abort(400)
    try:
        weeks = parse_weeks(values.get("weeks"))
        week = date.fromisoformat(values["week"]) if values.get("week") else None
    except ValueError:
        abort(400)
    if week is not None:
        period = [make_week(week_start(week), ZoneInfo(vendor.timezone))]
    else:
        period = recent_weeks(now, vendor.timezone, weeks)
    warehouse, asin = values.get("warehouse") or None, values.get("asin") or None
    return {"query": {"start": period[0].start_utc, "end": period[-1].end_utc,
                      "measure": measure, "warehouse": warehouse, "asin": asin},
            "first": period[0], "last": period[-1], "measure": measure, "weeks": weeks,
            "week": week, "warehouse": warehouse, "asin": asin}


@bp.get("/metrics")
@require_permission("dashboard.view")
def metrics_page():
    """Show Amazon's vendor metrics."""
    weeks = _weeks()
    report = metrics.vendor_metrics(current_user.vendor, utcnow(), weeks)
    return render_template("dashboards/metrics.html", m=report, weeks=weeks)


@bp.get("/stock")
@require_permission("dashboard.view")
def stock_page():
    """Show stock per ASIN, the low-stock list and aged inventory."""
    return render_template("dashboards/stock.html", report=stock.stock_report(current_user.vendor))


@bp.get("/shipments")
@require_permission("dashboard.view")
def shipments_page():
    """Show ASNs by state."""
    return render_template("dashboards/shipments.html",
                           status=asn.asn_status(current_user.vendor, utcnow()))


@bp.get("/sales")
@require_permission("dashboard.view")
def sales_page():
    """Show sales, revenue and return rates."""
    weeks = _weeks()
    return render_template("dashboards/sales.html",
                           report=sales.sales_report(current_user.vendor, weeks), weeks=weeks)
