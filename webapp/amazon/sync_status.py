"""PO status sync: Amazon's confirmation and receiving status per line, the source of OTIF."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from webapp.amazon.client import SpApiClient, windows
from webapp.amazon.sync_orders import normalise_unit
from webapp.amazon.sync_state import (
    PayloadError,
    SyncResult,
    feed_run,
    get_state,
    integer,
    parse_time,
    text,
)
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.orders.models import PoState, PurchaseOrder, PurchaseOrderLine, Receipt, eaches
from webapp.vendors.models import Vendor

FEED = "status"
DEFAULT_BACKFILL = timedelta(days=90)
OVERLAP = timedelta(minutes=5)
LINE_TABLE = PurchaseOrderLine.__table__
STATUS_FIELDS = (
    "confirmation_status", "accepted_quantity", "accepted_unit_of_measure", "accepted_unit_size",
    "accepted_eaches", "rejected_eaches", "received_quantity", "received_unit_of_measure",
    "received_unit_size", "received_eaches", "last_received_at",
)


def _quantity(node, where: str) -> tuple[int | None, str | None, int | None, int | None]:
    """Read an ItemQuantity as (amount, unit, unit size, eaches)."""
    if not node:
        return None, None, None, None
    if not isinstance(node, dict):
        raise PayloadError(f"{where}: quantity is not an object")
    amount = integer(node.get("amount"), where)
    unit = normalise_unit(node.get("unitOfMeasure"), where)
    size = integer(node.get("unitSize"), where)
    return amount, unit, size, eaches(amount, unit, size)


def parse_status(status: dict) -> tuple[str, str | None, dict[str, dict]]:
    """Turn one OrderStatus into (PO number, PO status, {item sequence: line values})."""
    if not isinstance(status, dict):
        raise PayloadError("order status is not an object")
    number = text(status.get("purchaseOrderNumber"), 32, "purchaseOrderNumber")
    if not number:
        raise PayloadError("order status without purchaseOrderNumber")
    lines = {}
    for item in status.get("itemStatus") or []:
        seq = text(item.get("itemSequenceNumber"), 8, f"{number} itemSequenceNumber")
        where = f"PO {number} item {seq}"
        ack = item.get("acknowledgementStatus") or {}
        received = item.get("receivingStatus") or {}
        accepted = _quantity(ack.get("acceptedQuantity"), f"{where} accepted")
        rejected = _quantity(ack.get("rejectedQuantity"), f"{where} rejected")
        got = _quantity(received.get("receivedQuantity"), f"{where} received")
        lines[seq] = {
            "confirmation_status": text(ack.get("confirmationStatus"), 24, where),
            "accepted_quantity": accepted[0], "accepted_unit_of_measure": accepted[1],
            "accepted_unit_size": accepted[2], "accepted_eaches": accepted[3],
            "rejected_eaches": rejected[3],
            "received_quantity": got[0], "received_unit_of_measure": got[1],
            "received_unit_size": got[2], "received_eaches": got[3],
            "last_received_at": parse_time(received.get("lastReceiveDate"), where),
        }
    return number, status.get("purchaseOrderStatus"), lines


def ingest_statuses(vendor: Vendor, statuses: list[dict], result: SyncResult) -> None:
    """Apply one page of statuses in the current transaction (no commit); add Receipts."""
    parsed = {}
    for status in statuses:
        number, po_status, lines = parse_status(status)
        parsed[number] = (po_status, lines)
        result.fetched += 1
        result.fetched_lines += len(lines)
    if not parsed:
        return
    pos = {row.po_number: row for row in db.session.execute(
        select(PurchaseOrder.id, PurchaseOrder.po_number, PurchaseOrder.state)
        .where(PurchaseOrder.vendor_id == vendor.id, PurchaseOrder.po_number.in_(list(parsed))))}
    missing = set(parsed) - set(pos)
    if missing:
        # The orders feed brings these; their status is read again when they next change.
        result.notes.append(f"{len(missing)} status(es) for POs not synced yet")
    lines = {}
    if pos:
        for row in db.session.execute(
            select(LINE_TABLE.c.id, LINE_TABLE.c.purchase_order_id,
                   LINE_TABLE.c.item_sequence_number, *[LINE_TABLE.c[f] for f in STATUS_FIELDS])
            .where(LINE_TABLE.c.purchase_order_id.in_([p.id for p in pos.values()]))
        ):
            lines[(row.purchase_order_id, row.item_sequence_number)] = row
    updates, receipts, closed = [], [], []
    now = utcnow()
    for number, (po_status, new_lines) in parsed.items():
        po = pos.get(number)
        if po is None:
            continue
        changed = False
        if po_status == "CLOSED" and po.state != PoState.CLOSED.value:
            closed.append(po.id)
            changed = True
        for seq, values in new_lines.items():
            old = lines.get((po.id, seq))
            if old is None:
                continue
            diff = {f: v for f, v in values.items() if getattr(old, f) != v}
            if not diff:
                continue
            changed = True
            updates.append({"b_id": old.id, **{f"b_{k}": v for k, v in values.items()}})
            grew = (values["received_eaches"] or 0) > (old.received_eaches or 0)
            if grew:
                receipts.append({
                    "vendor_id": vendor.id, "purchase_order_line_id": old.id,
                    "received_quantity": values["received_quantity"],
                    "unit_of_measure": values["received_unit_of_measure"] or "Eaches",
                    "unit_size": values["received_unit_size"],
                    "received_eaches": values["received_eaches"],
                    "received_at": values["last_received_at"] or now, "recorded_at": now,
                })
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    if updates:
        from sqlalchemy import bindparam

        db.session.execute(
            update(LINE_TABLE).where(LINE_TABLE.c.id == bindparam("b_id"))
            .values({f: bindparam(f"b_{f}") for f in STATUS_FIELDS}), updates)
        result.updated_lines += len(updates)
    if receipts:
        # A receipt per (line, receive date) exists at most once, even if a run repeats.
        taken = set(db.session.execute(
            select(Receipt.purchase_order_line_id, Receipt.received_at).where(
                Receipt.purchase_order_line_id.in_([r["purchase_order_line_id"]
                                                    for r in receipts]))).all())
        fresh = [r for r in receipts
                 if (r["purchase_order_line_id"], r["received_at"]) not in taken]
        if fresh:
            db.session.execute(insert(Receipt.__table__), fresh)
            result.created += len(fresh)
    if closed:
        db.session.execute(update(PurchaseOrder.__table__)
                           .where(PurchaseOrder.__table__.c.id.in_(closed))
                           .values(state=PoState.CLOSED.value))


def sync_status(vendor_id: int, *, since: datetime | None = None, now: datetime | None = None,
                page_size: int = 100, client: SpApiClient | None = None) -> SyncResult:
    """Sync one vendor's PO statuses by `updatedAfter` windows; return the result."""
    result = SyncResult(FEED, vendor_id)
    with feed_run(result, client) as run:
        if run is None:
            return result
        vendor, client = run
        for code in [c.code for c in vendor.codes]:
            state = get_state(vendor_id, FEED, code)
            end = now or utcnow()
            start = since or (state.cursor - OVERLAP if state.cursor
                              else end - DEFAULT_BACKFILL)
            for low, high in windows(start, end):
                query = {"limit": page_size, "sortOrder": "ASC", "orderingVendorCode": code,
                         "updatedAfter": low, "updatedBefore": high}
                result.windows.append((low, high))
                for statuses in client.pages("getPurchaseOrdersStatus", query,
                                             "ordersStatus"):
                    result.pages += 1
                    ingest_statuses(vendor, statuses, result)
                    db.session.commit()
                state.cursor = max(state.cursor or high, high)
                db.session.commit()
        if result.updated:
            # Received units or a closed PO just arrived: settle shipments here, where the
            # data lands, not when someone opens a page.
            from webapp.shipments.receipts import settle_all

            settle_all(vendor_id)
    return result
