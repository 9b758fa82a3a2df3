"""JSON twins of the dashboards under /api/v1/dashboards, for ERP and BI clients."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from webapp.api import api_bp, api_error
from webapp.auth.access import require_permission
from webapp.dashboards import asn, metrics, otif, sales, stock
from webapp.dashboards.periods import ALLOWED_WEEKS, parse_weeks
from webapp.dashboards.rates import as_json
from webapp.dashboards.routes import drill_args
from webapp.db_types import utcnow


def _iso(value):
    return value and value.isoformat()


def _weeks_or_error():
    try:
        return parse_weeks(request.args.get("weeks")), None
    except ValueError as exc:
        return None, api_error(400, str(exc))


@api_bp.get("/dashboards/otif")
@require_permission("dashboard.view")
def api_otif():
    """OTIF per week, in total, per warehouse and per ASIN."""
    weeks, error = _weeks_or_error()
    if error:
        return error
    r = otif.otif_by_week(current_user.vendor, utcnow(), weeks)
    return jsonify(
        definition={"grace_days": r.grace_days, "week": "Sunday-Saturday",
                    "timezone": current_user.vendor.timezone, "units": "eaches"},
        target_percent=as_json(r.target_percent), generated_at=r.now.isoformat(),
        synced_at=_iso(r.synced_at),
        period={"from": r.first.start.isoformat(), "to": r.last.end.isoformat()},
        total=r.total.to_json(),
        weeks=[{"week_start": w.start.isoformat(), "week_end": w.end.isoformat(), **f.to_json()}
               for w, f in r.weeks],
        warehouses=[{"warehouse": k, **f.to_json()} for k, f in r.by_warehouse],
        asins=[{"asin": k, **f.to_json()} for k, f in r.by_asin],
    )


@api_bp.get("/dashboards/otif/lines")
@require_permission("dashboard.view")
def api_otif_lines():
    """The lines that failed a measure, with how late and how short."""
    vendor, now = current_user.vendor, utcnow()
    try:
        args = drill_args(vendor, now, request.args)
    except BadRequest:
        return api_error(400, "invalid week, weeks or measure")
    lines, total = otif.failing_lines(vendor, now, **args["query"])
    return jsonify(measure=args["measure"], total=total,
                   period={"from": args["first"].start.isoformat(),
                           "to": args["last"].end.isoformat()},
                   warehouse=args["warehouse"], asin=args["asin"],
                   lines=[line.to_json() for line in lines])


@api_bp.get("/dashboards/stock")
@require_permission("dashboard.view")
def api_stock():
    """Stock per ASIN, low-stock list and aged inventory."""
    r = stock.stock_report(current_user.vendor)
    return jsonify(week_start=_iso(r.week_start), week_end=_iso(r.week_end),
                   velocity_weeks={"from": _iso(r.velocity_from), "to": _iso(r.velocity_to)},
                   weeks_of_cover_threshold=as_json(r.threshold), synced_at=_iso(r.synced_at),
                   totals=r.totals, asins=[row.to_json() for row in r.rows],
                   low_stock=[row.asin for row in r.low_stock],
                   aged=[row.asin for row in r.aged])


@api_bp.get("/dashboards/metrics")
@require_permission("dashboard.view")
def api_metrics():
    """Confirmation rate, receive fill rate, lead time, sell-through, unfilled demand."""
    weeks, error = _weeks_or_error()
    if error:
        return error
    return jsonify(metrics.vendor_metrics(current_user.vendor, utcnow(), weeks).to_json())


@api_bp.get("/dashboards/shipments")
@require_permission("dashboard.view")
def api_shipments():
    """ASNs by state, late ASNs, received versus shipped units."""
    return jsonify(asn.asn_status(current_user.vendor, utcnow()).to_json())


@api_bp.get("/dashboards/sales")
@require_permission("dashboard.view")
def api_sales():
    """Sales per week and return rate per ASIN."""
    weeks, error = _weeks_or_error()
    if error:
        return error
    r = sales.sales_report(current_user.vendor, weeks)
    return jsonify(period={"from": _iso(r.first), "to": _iso(r.last)},
                   return_rate_threshold_percent=as_json(r.threshold),
                   synced_at=_iso(r.synced_at), weeks=[w.to_json() for w in r.weeks],
                   returns=[x.to_json() for x in r.returns],
                   alerts=[x.asin for x in r.alerts])


_WEEKS = {"name": "weeks", "in": "query", "required": False,
          "schema": {"type": "integer", "enum": list(ALLOWED_WEEKS), "default": 13}}
_RATE = {"type": ["string", "null"], "description": "percentage, 2 places, as a decimal string"}
_RATES = {"type": "object", "properties": {m: _RATE for m in otif.MEASURES}}
_FIGURES = {"type": "object", "properties": {
    **{name: {"type": "integer"} for name in otif.COUNTS},
    "rates_by_lines": _RATES, "rates_by_units": _RATES}}
_OTIF = {"type": "object", "required": ["weeks", "total"], "properties": {
    "target_percent": _RATE, "synced_at": {"type": ["string", "null"], "format": "date-time"},
    "total": _FIGURES,
    "weeks": {"type": "array", "items": {"allOf": [_FIGURES, {"type": "object", "properties": {
        "week_start": {"type": "string", "format": "date"},
        "week_end": {"type": "string", "format": "date"}}}]}},
    "warehouses": {"type": "array", "items": _FIGURES},
    "asins": {"type": "array", "items": _FIGURES}}}


def _get(operation: str, summary: str, params: list | None = None,
         schema: dict | None = None) -> dict:
    return {"get": {"operationId": operation, "tags": ["dashboards"], "summary": summary,
                    "parameters": params or [],
                    "responses": {"200": {"description": summary, "content": {
                        "application/json": {"schema": schema or {"type": "object"}}}},
                                  "400": {"description": "Invalid parameters"},
                                  "401": {"description": "Not signed in"}}}}


# Paths relative to the server URL /api/v1; webapp.api.routes.openapi merges them into the
# API's one OpenAPI document.
DASHBOARD_OPENAPI_PATHS = {
    "/dashboards/otif": _get(
        "getOtifDashboard",
        "OTIF per Amazon week (lines and units, on time, in full, OTIF), per warehouse, per ASIN",
        [_WEEKS], _OTIF),
    "/dashboards/otif/lines": _get("getOtifFailingLines", "Due lines that failed, and why", [
        _WEEKS,
        {"name": "week", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "measure", "in": "query",
         "schema": {"type": "string", "enum": list(otif.MEASURES), "default": "otif"}},
        {"name": "warehouse", "in": "query", "schema": {"type": "string"}},
        {"name": "asin", "in": "query", "schema": {"type": "string"}},
    ]),
    "/dashboards/stock": _get("getStockDashboard",
                              "Stock per ASIN: on hand, open PO, inbound, weeks of cover"),
    "/dashboards/metrics": _get("getVendorMetrics", "Amazon's vendor metrics", [_WEEKS]),
    "/dashboards/shipments": _get("getAsnStatus", "ASNs by state, late ASNs, received vs shipped"),
    "/dashboards/sales": _get("getSalesDashboard", "Sales per week and return rate per ASIN",
                              [_WEEKS]),
}
