"""Purchase-order sync: 7-day-window backfill, then incremental, with fast idempotent upserts."""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import JSON, insert, select, update

from webapp.amazon.client import SpApiClient, isoformat, windows
from webapp.amazon.sync_state import (
    PayloadError,
    SyncResult,
    feed_run,
    get_state,
    integer,
    parse_decimal,
    parse_interval,
    parse_time,
    text,
)
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine, eaches
from webapp.vendors.models import Vendor

log = logging.getLogger(__name__)

FEED = "orders"
BACKFILL_FEED = "orders-backfill"
DEFAULT_BACKFILL = timedelta(days=90)
MAX_HISTORY = timedelta(days=180)  # Amazon keeps six months of purchase orders
# Re-read a little before the cursor: Amazon's listings are eventually consistent.
OVERLAP = timedelta(minutes=5)
PREFETCH_WINDOWS = 3  # backfill windows fetched concurrently while earlier ones are written

PO_TABLE = PurchaseOrder.__table__
LINE_TABLE = PurchaseOrderLine.__table__
EVENT_TABLE = Event.__table__

# Columns compared to decide whether a PO or line changed (everything Amazon sends).
PO_FIELDS = (
    "state", "po_type", "ordered_at", "amazon_changed_at", "state_changed_at",
    "ship_window_start", "ship_window_end", "delivery_window_start", "delivery_window_end",
    "selling_party_id", "buying_party_id", "ship_to_party_id", "bill_to_party_id", "parties",
    "payment_method", "deal_code", "import_details", "marketplace_id", "ack_due_at",
)
LINE_FIELDS = (
    "asin", "vendor_sku", "ordered_quantity", "ordered_unit_of_measure", "ordered_unit_size",
    "ordered_eaches", "back_order_allowed", "net_cost_amount", "net_cost_currency",
    "net_cost_unit_of_measure", "list_price_amount", "list_price_currency", "cancelled",
)
_UNITS = {"eaches": "Eaches", "cases": "Cases", "pallets": "Pallets"}


def normalise_unit(value, where: str) -> str:
    """Amazon's unit of measure in its canonical spelling (its own examples say "CASES")."""
    if value is None:
        return "Eaches"
    unit = _UNITS.get(str(value).strip().lower())
    if unit is None:
        raise PayloadError(f"{where}: unknown unit of measure {value!r}")
    return unit


def parse_order(order: dict, vendor: Vendor, marketplaces: dict[str, str]) -> tuple[dict, list]:
    """Turn one Amazon `Order` into a PO row and its line rows (plain dicts, nothing written)."""
    if not isinstance(order, dict):
        raise PayloadError(f"order is not an object: {order!r:.60}")
    number = text(order.get("purchaseOrderNumber"), 32, "purchaseOrderNumber")
    if not number:
        raise PayloadError("order without purchaseOrderNumber")
    details = order.get("orderDetails")
    if not isinstance(details, dict):
        raise PayloadError(f"{number}: no orderDetails (ask with includeDetails=true)")
    where = f"PO {number}"
    ordered_at = parse_time(details.get("purchaseOrderDate"), f"{where} purchaseOrderDate")
    if ordered_at is None:
        raise PayloadError(f"{where}: no purchaseOrderDate")
    ship_start, ship_end = parse_interval(details.get("shipWindow"), f"{where} shipWindow")
    deliver_start, deliver_end = parse_interval(details.get("deliveryWindow"),
                                                f"{where} deliveryWindow")
    parties = {}
    for key in ("buyingParty", "sellingParty", "shipToParty", "billToParty"):
        party = details.get(key)
        if party is not None:
            if not isinstance(party, dict):
                raise PayloadError(f"{where}: {key} is not an object")
            parties[key] = party
    selling = (parties.get("sellingParty") or {}).get("partyId")

    def party_id(key):
        return text((parties.get(key) or {}).get("partyId"), 16, f"{where} {key}")

    po = {
        "po_number": number,
        "state": text(order.get("purchaseOrderState") or "New", 16, f"{where} state"),
        "po_type": text(details.get("purchaseOrderType") or "RegularOrder", 32, f"{where} type"),
        "ordered_at": ordered_at,
        "amazon_changed_at": parse_time(details.get("purchaseOrderChangedDate"), where),
        "state_changed_at": parse_time(details.get("purchaseOrderStateChangedDate"), where),
        "ship_window_start": ship_start, "ship_window_end": ship_end,
        "delivery_window_start": deliver_start, "delivery_window_end": deliver_end,
        "selling_party_id": party_id("sellingParty"),
        "buying_party_id": party_id("buyingParty"),
        "ship_to_party_id": party_id("shipToParty"),
        "bill_to_party_id": party_id("billToParty"),
        "parties": parties or None,
        "payment_method": text(details.get("paymentMethod"), 32, f"{where} paymentMethod"),
        "deal_code": text(details.get("dealCode"), 64, f"{where} dealCode"),
        "import_details": details.get("importDetails"),
        "marketplace_id": marketplaces.get(selling),
        "ack_due_at": ordered_at + timedelta(hours=vendor.ack_deadline_hours),
    }
    items = details.get("items")
    if not isinstance(items, list):
        raise PayloadError(f"{where}: items is not a list")
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise PayloadError(f"{where}: item is not an object")
        seq = text(item.get("itemSequenceNumber"), 8, f"{where} itemSequenceNumber")
        if not seq:
            raise PayloadError(f"{where}: item without itemSequenceNumber")
        iw = f"{where} item {seq}"
        qty = item.get("orderedQuantity") or {}
        amount = integer(qty.get("amount"), f"{iw} orderedQuantity")
        if amount is None or amount < 0:
            raise PayloadError(f"{iw}: orderedQuantity.amount missing or negative")
        unit = normalise_unit(qty.get("unitOfMeasure"), iw)
        size = integer(qty.get("unitSize"), f"{iw} unitSize")
        net, listp = item.get("netCost") or {}, item.get("listPrice") or {}
        lines.append({
            "item_sequence_number": seq,
            "asin": text(item.get("amazonProductIdentifier"), 16, f"{iw} ASIN"),
            "vendor_sku": text(item.get("vendorProductIdentifier"), 64, f"{iw} vendor SKU"),
            "ordered_quantity": amount,
            "ordered_unit_of_measure": unit,
            "ordered_unit_size": size,
            "ordered_eaches": eaches(amount, unit, size),
            "back_order_allowed": bool(item.get("isBackOrderAllowed", False)),
            "net_cost_amount": parse_decimal(net.get("amount"), f"{iw} netCost"),
            "net_cost_currency": text(net.get("currencyCode"), 3, f"{iw} currency"),
            "net_cost_unit_of_measure": text(net.get("unitOfMeasure"), 8, f"{iw} cost unit"),
            "list_price_amount": parse_decimal(listp.get("amount"), f"{iw} listPrice"),
            "list_price_currency": text(listp.get("currencyCode"), 3, f"{iw} currency"),
            # Amazon cancels an item by setting its quantity to zero.
            "cancelled": amount == 0,
        })
    return po, lines


def _marker_of(order) -> tuple[str | None, tuple | None]:
    """Return (PO number, (state, changed at, state changed at)), or None parts if unreadable."""
    try:
        details = order["orderDetails"]
        if not isinstance(details.get("items"), list):
            return order.get("purchaseOrderNumber"), None
        return order["purchaseOrderNumber"], (
            order.get("purchaseOrderState") or "New",
            parse_time(details.get("purchaseOrderChangedDate")),
            parse_time(details.get("purchaseOrderStateChangedDate")))
    except (KeyError, TypeError, AttributeError, PayloadError):
        return None, None


def _event_key(vendor_id: int, kind: str, dedupe_key: str) -> str:
    # Same key shape as webapp.events.services.raise_event, so both guard the same events.
    return f"{vendor_id}:{kind}:{dedupe_key}"[:200]


def _change_key(po: dict, lines: list[dict]) -> str:
    """Identify one Amazon-side change of a PO: its changed date, else what the lines say."""
    if po["amazon_changed_at"] is not None:
        return isoformat(po["amazon_changed_at"])
    digest = hashlib.sha256(repr([(ln["item_sequence_number"], ln["ordered_quantity"],
                                   ln["cancelled"]) for ln in lines]).encode()).hexdigest()
    return digest[:16]


def ingest_orders(vendor: Vendor, orders: list[dict], result: SyncResult,
                  marketplaces: dict[str, str] | None = None) -> None:
    """Upsert one page of Amazon orders for `vendor` in the current transaction (no commit).

    Loads the page's existing POs and lines in two queries, compares, and writes only what
    changed; new POs and their lines go in as bulk inserts.
    """
    if marketplaces is None:
        marketplaces = {c.code: c.marketplace_id for c in vendor.codes}
    # Amazon stamps every change of a PO (purchaseOrderChangedDate, ...StateChangedDate); a PO
    # whose stamps and state equal the stored ones is unchanged, since a PO and its lines are
    # always written together. Those are skipped before the costly parse and compare.
    markers = {}
    for order in orders:
        number, marker = _marker_of(order)
        if number:
            markers[number] = (marker, order)
    stored = {
        row.po_number: row for row in db.session.execute(
            select(PO_TABLE.c.id, PO_TABLE.c.po_number, PO_TABLE.c.state,
                   PO_TABLE.c.amazon_changed_at, PO_TABLE.c.state_changed_at)
            .where(PO_TABLE.c.vendor_id == vendor.id, PO_TABLE.c.po_number.in_(list(markers)))
        )
    } if markers else {}
    todo = []
    for order in orders:
        number, marker = _marker_of(order)
        row = stored.get(number)
        if row is not None and marker is not None and marker == (
                row.state, row.amazon_changed_at, row.state_changed_at) \
                and markers[number][1] is order:
            result.fetched += 1
            result.fetched_lines += len(order["orderDetails"].get("items") or ())
            result.unchanged += 1
            continue
        todo.append(order)
    parsed: dict[str, tuple[dict, list]] = {}
    for order in todo:
        po, lines = parse_order(order, vendor, marketplaces)
        parsed[po["po_number"]] = (po, lines)  # a PO listed twice: the later copy wins
        result.fetched += 1
        result.fetched_lines += len(lines)
    if not parsed:
        return
    now = utcnow()
    wanted = [n for n in parsed if n in stored]
    existing = {
        row.po_number: row for row in db.session.execute(
            select(PO_TABLE.c.id, *[PO_TABLE.c[f] for f in ("po_number",) + PO_FIELDS])
            .where(PO_TABLE.c.vendor_id == vendor.id, PO_TABLE.c.po_number.in_(wanted))
        )
    } if wanted else {}
    existing_lines: dict[int, dict[str, object]] = {}
    if existing:
        for row in db.session.execute(
            select(LINE_TABLE.c.id, LINE_TABLE.c.purchase_order_id,
                   LINE_TABLE.c.item_sequence_number, *[LINE_TABLE.c[f] for f in LINE_FIELDS])
            .where(LINE_TABLE.c.purchase_order_id.in_([r.id for r in existing.values()]))
        ):
            existing_lines.setdefault(row.purchase_order_id, {})[row.item_sequence_number] = row

    new_pos = [number for number in parsed if number not in existing]
    po_updates, line_updates, line_inserts, changes = [], [], [], []
    for number, (po, lines) in parsed.items():
        old = existing.get(number)
        if old is None:
            continue
        diff = {f: po[f] for f in PO_FIELDS if getattr(old, f) != po[f]}
        old_lines = existing_lines.get(old.id, {})
        amazon_changed = (po["amazon_changed_at"] is not None
                          and po["amazon_changed_at"] != old.amazon_changed_at)
        changed_lines = []
        for line in lines:
            old_line = old_lines.get(line["item_sequence_number"])
            if old_line is None:
                line_inserts.append({**line, "purchase_order_id": old.id, "vendor_id": vendor.id})
                changed_lines.append(line["item_sequence_number"])
                continue
            line_diff = {f: line[f] for f in LINE_FIELDS if getattr(old_line, f) != line[f]}
            if line_diff:
                line_updates.append({"id": old_line.id, **line_diff})
                if {"ordered_quantity", "ordered_eaches", "cancelled"} & line_diff.keys():
                    changed_lines.append(line["item_sequence_number"])
        if diff or changed_lines:
            if amazon_changed or changed_lines:
                diff["changed_by_amazon"] = True
                changes.append((old.id, po, lines, changed_lines))
            po_updates.append({"id": old.id, "last_synced_at": now, **diff})
            result.updated += 1
        else:
            result.unchanged += 1

    if po_updates:
        # Group by changed columns so each group is one executemany.
        for keys, group in _group_by_keys(po_updates).items():
            db.session.execute(update(PO_TABLE).where(PO_TABLE.c.id == _bind("id"))
                               .values({k: _bind(k) for k in keys if k != "id"}),
                               [_rename(row) for row in group])
    if line_updates:
        for keys, group in _group_by_keys(line_updates).items():
            db.session.execute(update(LINE_TABLE).where(LINE_TABLE.c.id == _bind("id"))
                               .values({k: _bind(k) for k in keys if k != "id"}),
                               [_rename(row) for row in group])

    if new_pos:
        rows = [{**parsed[n][0], "vendor_id": vendor.id, "ack_state": "none",
                 "changed_by_amazon": parsed[n][0]["amazon_changed_at"] is not None
                 or any(ln["cancelled"] for ln in parsed[n][1]),
                 "first_synced_at": now, "last_synced_at": now} for n in new_pos]
        bulk_insert(PO_TABLE, rows)
        ids = dict(db.session.execute(
            select(PO_TABLE.c.po_number, PO_TABLE.c.id).where(
                PO_TABLE.c.vendor_id == vendor.id, PO_TABLE.c.po_number.in_(new_pos))).all())
        for number in new_pos:
            for line in parsed[number][1]:
                line_inserts.append({**line, "purchase_order_id": ids[number],
                                     "vendor_id": vendor.id})
        result.created += len(new_pos)
        _raise_new_po_events(vendor.id, [(ids[n], parsed[n][0]) for n in new_pos], now, result)
    if line_inserts:
        bulk_insert(LINE_TABLE, line_inserts)
        result.created_lines += len(line_inserts)
    result.updated_lines += len(line_updates)

    for po_id, po, lines, changed_lines in changes:
        cancelled = [ln["item_sequence_number"] for ln in lines if ln["cancelled"]]
        event = raise_event(
            vendor.id, "po.changed", f"{po['po_number']}:{_change_key(po, lines)}",
            purchase_order_id=po_id,
            payload={"po_number": po["po_number"],
                     "changed_at": po["amazon_changed_at"] and isoformat(po["amazon_changed_at"]),
                     "changed_lines": changed_lines, "cancelled_lines": cancelled},
        )
        result.events += event is not None


def bulk_insert(table, rows: list[dict]) -> None:
    """Insert rows (all with the same keys) in the session's transaction, as fast as possible.

    PostgreSQL gets COPY, several times faster than multi-row INSERTs for pages of a thousand
    lines; other databases get an executemany INSERT.
    """
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    from psycopg.types.json import Json

    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in json_columns and row[c] is not None
                            else row[c] for c in columns])


def _bind(name: str):
    from sqlalchemy import bindparam

    return bindparam(f"b_{name}")


def _rename(row: dict) -> dict:
    return {f"b_{k}": v for k, v in row.items()}


def _group_by_keys(rows: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


def _raise_new_po_events(vendor_id: int, pos: list[tuple[int, dict]], now: datetime,
                         result: SyncResult) -> None:
    """Raise `po.new` for a page of new POs with one lookup and one insert."""
    rows = {
        _event_key(vendor_id, "po.new", po["po_number"]): {
            "vendor_id": vendor_id, "kind": "po.new", "purchase_order_id": po_id,
            "payload": {"po_number": po["po_number"],
                        "ship_to": po["ship_to_party_id"],
                        "ack_due_at": isoformat(po["ack_due_at"])},
            "created_at": now,
        } for po_id, po in pos
    }
    taken = set(db.session.scalars(select(Event.dedupe_key)
                                   .where(Event.dedupe_key.in_(list(rows)))))
    fresh = [{**row, "dedupe_key": key} for key, row in rows.items() if key not in taken]
    if fresh:
        bulk_insert(EVENT_TABLE, fresh)
        result.events += len(fresh)


def _query(code: str, page_size: int, params: dict) -> dict:
    return {"limit": page_size, "includeDetails": "true", "sortOrder": "ASC",
            "orderingVendorCode": code, **params}


def _prefetch(client: SpApiClient, queries: list[dict], ahead: int = PREFETCH_WINDOWS):
    """Yield each window's pages in order, fetching up to `ahead` windows concurrently.

    Windows are independent, so their pages can travel while earlier ones are written; only
    `ahead` windows are held in memory, and a failed window raises when its turn comes.
    """
    def fetch(query):
        return list(client.pages("getPurchaseOrders", query, "orders"))

    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="spapi-prefetch") as pool:
        pending = deque()
        queries = iter(queries)
        for query in queries:
            pending.append(pool.submit(fetch, query))
            if len(pending) >= ahead:
                break
        while pending:
            pages = pending.popleft().result()
            nxt = next(queries, None)
            if nxt is not None:
                pending.append(pool.submit(fetch, nxt))
            yield pages


def _ingest_window(vendor: Vendor, params: dict, pages, result: SyncResult,
                   marketplaces: dict[str, str]) -> None:
    """Ingest a window's pages in order, committing each page that changed something."""
    result.windows.append({k: isoformat(v) if isinstance(v, datetime) else v
                           for k, v in params.items()})
    for orders in pages:
        result.pages += 1
        before = (result.created, result.updated, result.created_lines, result.events)
        ingest_orders(vendor, orders, result, marketplaces)
        if (result.created, result.updated, result.created_lines, result.events) != before:
            db.session.commit()
        else:
            db.session.rollback()  # read only: end the transaction without a COMMIT's fsync


def _walk(client: SpApiClient, vendor: Vendor, code: str, params: dict, result: SyncResult,
          page_size: int, marketplaces: dict[str, str]) -> None:
    """Fetch every page of one window and commit each page as it lands."""
    pages = client.pages("getPurchaseOrders", _query(code, page_size, params), "orders")
    _ingest_window(vendor, params, pages, result, marketplaces)


def sync_orders(vendor_id: int, *, since: datetime | None = None, now: datetime | None = None,
                page_size: int = 100, client: SpApiClient | None = None) -> SyncResult:
    """Sync one vendor's purchase orders (backfill first, then incremental); return the result."""
    result = SyncResult(FEED, vendor_id)
    with feed_run(result, client) as run:
        if run is None:
            return result
        vendor, client = run
        marketplaces = {c.code: c.marketplace_id for c in vendor.codes}
        for code in list(marketplaces):
            _sync_code(client, vendor, code, result, since=since, now=now,
                       page_size=page_size, marketplaces=marketplaces)
    return result


def _sync_code(client, vendor, code, result, *, since, now, page_size, marketplaces) -> None:
    now = now or utcnow()
    state = get_state(vendor.id, FEED, code)
    backfill = get_state(vendor.id, BACKFILL_FEED, code)
    if since is not None or (not state.backfill_done and backfill.cursor is None):
        # Start (or restart) a backfill; the incremental cursor begins where it began, so
        # changes made while the backfill walks are read afterwards.
        backfill.cursor = max(since or now - DEFAULT_BACKFILL, now - MAX_HISTORY)
        backfill.backfill_done = False
        state.backfill_done = False
        if state.cursor is None:
            state.cursor = now
        db.session.commit()
    if not state.backfill_done:
        spans = list(windows(backfill.cursor, now))
        fetched = _prefetch(client, [_query(code, page_size, {"createdAfter": a,
                                                              "createdBefore": b})
                                     for a, b in spans])
        for (start, end), pages in zip(spans, fetched, strict=True):
            _ingest_window(vendor, {"createdAfter": start, "createdBefore": end}, pages,
                           result, marketplaces)
            backfill.cursor = end  # only after every page of the window is committed
            db.session.commit()
        backfill.backfill_done = state.backfill_done = True
        db.session.commit()
    for start, end in windows(state.cursor - OVERLAP, now):
        # New POs by creation date, Amazon-side changes by change date: both, per window.
        _walk(client, vendor, code, {"createdAfter": start, "createdBefore": end}, result,
              page_size, marketplaces)
        _walk(client, vendor, code, {"changedAfter": start, "changedBefore": end}, result,
              page_size, marketplaces)
        state.cursor = max(state.cursor, end)
        db.session.commit()
    state.last_success_at = utcnow()
    db.session.commit()
