"""Weekly vendor inventory and sales reports: createReport -> getReport -> document -> rows."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from webapp.amazon import schemas
from webapp.amazon.client import SpApiClient, isoformat
from webapp.amazon.errors import SpApiError
from webapp.amazon.sync_state import (
    PayloadError,
    SyncResult,
    feed_run,
    get_state,
    integer,
    parse_date,
    parse_decimal,
    text,
)
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.vendor_reports.models import InventoryWeek, SalesWeek
from webapp.vendors.models import Vendor

FEED = "reports"
INVENTORY, SALES = "GET_VENDOR_INVENTORY_REPORT", "GET_VENDOR_SALES_REPORT"
FIRST_WEEKS = 13  # a quarter of history on the first run
REVISIT_WEEKS = 2  # Amazon revises recent weeks; read them again each time
SHORT_NAMES = {INVENTORY: "inventory", SALES: "sales"}
OPTIONS = {"reportPeriod": "WEEK", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}


def week_start(day: date) -> date:
    """Return the Sunday starting Amazon's retail week that holds `day`."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _amount(node, where: str):
    if node is None:
        return None, None
    if not isinstance(node, dict):
        raise PayloadError(f"{where}: amount is not an object")
    return parse_decimal(node.get("amount"), where), text(node.get("currencyCode"), 3, where)


def _int(row: dict, key: str, where: str) -> int:
    return integer(row.get(key), f"{where} {key}") or 0


def inventory_row(row: dict, marketplace: str, fallback_currency: str) -> dict:
    """Map one `inventoryByAsin` entry to InventoryWeek columns."""
    where = f"inventory {row.get('asin')} {row.get('startDate')}"
    sellable_cost, currency = _amount(row.get("sellableOnHandInventoryCost"), where)
    received_cost, received_currency = _amount(row.get("netReceivedInventoryCost"), where)
    return {
        "marketplace_id": marketplace,
        "asin": text(row.get("asin"), 16, where),
        "week_start": parse_date(row.get("startDate"), where),
        "week_end": parse_date(row.get("endDate"), where),
        "currency": currency or received_currency or fallback_currency,
        "sellable_on_hand_units": _int(row, "sellableOnHandInventoryUnits", where),
        "sellable_on_hand_cost": sellable_cost,
        "unsellable_on_hand_units": _int(row, "unsellableOnHandInventoryUnits", where),
        "aged_90_plus_days_sellable_units": _int(row, "aged90PlusDaysSellableInventoryUnits",
                                                 where),
        "unhealthy_units": _int(row, "unhealthyInventoryUnits", where),
        "open_purchase_order_units": _int(row, "openPurchaseOrderUnits", where),
        "net_received_units": _int(row, "netReceivedInventoryUnits", where),
        "net_received_cost": received_cost,
        "unfilled_customer_ordered_units": _int(row, "unfilledCustomerOrderedUnits", where),
        "vendor_confirmation_rate": parse_decimal(row.get("vendorConfirmationRate"), where),
        "sell_through_rate": parse_decimal(row.get("sellThroughRate"), where),
        "average_vendor_lead_time_days": parse_decimal(row.get("averageVendorLeadTimeDays"),
                                                       where),
    }


def sales_row(row: dict, marketplace: str, fallback_currency: str) -> dict:
    """Map one `salesByAsin` entry to SalesWeek columns."""
    where = f"sales {row.get('asin')} {row.get('startDate')}"
    ordered, _ = _amount(row.get("orderedRevenue"), where)
    shipped, currency = _amount(row.get("shippedRevenue"), where)
    cogs, _ = _amount(row.get("shippedCogs"), where)
    return {
        "marketplace_id": marketplace,
        "asin": text(row.get("asin"), 16, where),
        "week_start": parse_date(row.get("startDate"), where),
        "week_end": parse_date(row.get("endDate"), where),
        "currency": currency or fallback_currency,
        "ordered_units": _int(row, "orderedUnits", where),
        "ordered_revenue": ordered or 0,
        "shipped_units": _int(row, "shippedUnits", where),
        "shipped_revenue": shipped or 0,
        "shipped_cogs": cogs or 0,
        "customer_returns": _int(row, "customerReturns", where),
    }


REPORTS = {
    INVENTORY: (InventoryWeek, "inventoryByAsin", inventory_row),
    SALES: (SalesWeek, "salesByAsin", sales_row),
}


def ingest_report(vendor: Vendor, report_type: str, document: dict, marketplace: str,
                  result: SyncResult) -> None:
    """Upsert a report document's per-ASIN weeks (no commit); write only what changed."""
    model, key, mapper = REPORTS[report_type]
    table = model.__table__
    rows = {}
    for entry in document.get(key) or []:
        row = mapper(entry, marketplace, vendor.currency)
        rows[(row["asin"], row["week_start"])] = row
    result.fetched += len(rows)
    if not rows:
        return
    fields = [c for c in next(iter(rows.values())) if c not in ("marketplace_id", "asin",
                                                                  "week_start")]
    weeks = {w for _, w in rows}
    existing = {(r.asin, r.week_start): r for r in db.session.execute(
        select(table.c.id, table.c.asin, table.c.week_start, *[table.c[f] for f in fields])
        .where(table.c.vendor_id == vendor.id, table.c.marketplace_id == marketplace,
               table.c.week_start.in_(weeks)))}
    now = utcnow()
    inserts, updates = [], []
    for k, row in rows.items():
        old = existing.get(k)
        if old is None:
            inserts.append({**row, "vendor_id": vendor.id, "synced_at": now})
        elif any(getattr(old, f) != row[f] for f in fields):
            updates.append({"b_id": old.id, "b_synced_at": now,
                            **{f"b_{f}": row[f] for f in fields}})
        else:
            result.unchanged += 1
    if inserts:
        db.session.execute(insert(table), inserts)
        result.created += len(inserts)
    if updates:
        db.session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            {f: bindparam(f"b_{f}") for f in fields + ["synced_at"]}), updates)
        result.updated += len(updates)


def fetch_report(client: SpApiClient, report_type: str, marketplace: str, start: date,
                 end: date, *, poll_seconds: float = 2.0, max_polls: int = 60) -> dict:
    """Create a report, wait until it is done, download and validate its document."""
    body = {
        "reportType": report_type,
        "marketplaceIds": [marketplace],
        "reportOptions": OPTIONS,
        "dataStartTime": isoformat(datetime.combine(start, datetime.min.time(), UTC)),
        "dataEndTime": isoformat(datetime.combine(end, datetime.max.time().replace(
            microsecond=0), UTC)),
    }
    report_id = client.call("createReport", body=body)["reportId"]
    for attempt in range(max_polls):
        report = client.call("getReport", path_params={"reportId": report_id})
        status = report.get("processingStatus")
        if status == "DONE":
            break
        if status in ("CANCELLED", "FATAL"):
            raise SpApiError(200, status, f"report {report_id} ended {status}", "getReport")
        time.sleep(min(poll_seconds * (1.5 ** attempt), 60) if attempt else 0.05)
    else:
        raise SpApiError(200, "ReportTimeout", f"report {report_id} not done in time",
                         "getReport")
    meta = client.call("getReportDocument",
                       path_params={"reportDocumentId": report["reportDocumentId"]})
    document = client.download_document(meta["url"], meta.get("compressionAlgorithm"))
    try:
        schemas.validate_report_document(report_type, _jsonable(document))
    except schemas.SchemaError as exc:
        raise PayloadError(f"{report_type} document: {exc}") from exc
    return document


def _jsonable(value):
    """Decimals back to numbers for the JSON Schema check (the schema says `number`)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def sync_reports(vendor_id: int, *, today: date | None = None, weeks: int | None = None,
                 client: SpApiClient | None = None, poll_seconds: float = 2.0) -> SyncResult:
    """Fetch the weekly inventory and sales reports per marketplace; return the result."""
    result = SyncResult(FEED, vendor_id)
    with feed_run(result, client) as run:
        if run is None:
            return result
        vendor, client = run
        today = today or utcnow().date()
        last_week = week_start(today) - timedelta(days=7)  # the last complete week
        for marketplace in sorted({c.marketplace_id for c in vendor.codes}):
            for report_type in (INVENTORY, SALES):
                scope = f"{SHORT_NAMES[report_type]}:{marketplace}"
                state = get_state(vendor_id, FEED, scope)
                if weeks:
                    first = last_week - timedelta(weeks=weeks - 1)
                elif state.cursor:
                    first = min(state.cursor.date() + timedelta(days=1),
                                last_week - timedelta(weeks=REVISIT_WEEKS - 1))
                else:
                    first = last_week - timedelta(weeks=FIRST_WEEKS - 1)
                document = fetch_report(client, report_type, marketplace, first,
                                        last_week + timedelta(days=6),
                                        poll_seconds=poll_seconds)
                result.pages += 1
                ingest_report(vendor, report_type, document, marketplace, result)
                state.cursor = datetime.combine(last_week + timedelta(days=6),
                                                datetime.min.time(), UTC)
                db.session.commit()
    return result
