"""Purchase-order sync against the sandbox over HTTP: backfill, incremental, idempotency."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.amazon_fixtures import control, sandbox, vendor, worker_env  # noqa: F401 - fixtures
from webapp.amazon import schemas
from webapp.amazon.dispatch import request_sync
from webapp.amazon.errors import SpApiMalformedResponse
from webapp.amazon.models import SyncState
from webapp.amazon.sync_orders import BACKFILL_FEED, ingest_orders, sync_orders
from webapp.amazon.sync_state import SyncResult
from webapp.amazon.sync_status import ingest_statuses
from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine
from worker.main import build_worker
from worker.queues import get_queue


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot() -> dict:
    """Everything the orders feed writes, comparable across runs."""
    pos = {p.po_number: (p.state, p.ordered_at, p.amazon_changed_at, p.ack_due_at,
                         tuple((ln.item_sequence_number, ln.ordered_quantity, ln.ordered_eaches,
                                ln.net_cost_amount, ln.cancelled) for ln in p.lines))
           for p in db.session.scalars(select(PurchaseOrder))}
    events = sorted(db.session.scalars(select(Event.dedupe_key)))
    return {"pos": pos, "events": events}


def test_backfill_walks_seven_day_windows_and_stores_every_field(app, sandbox, vendor):
    numbers = control(sandbox, "purchase-orders", {"count": 60, "days_back": 40})[
        "purchase_order_numbers"]
    now = sandbox.store.now()
    result = sync_orders(vendor.id, since=now - timedelta(days=45), now=now, page_size=25)

    backfill = [w for w in result.windows if "createdAfter" in w][:7]
    assert len(backfill) == 7  # 45 days in windows of at most 7
    for window in result.windows:
        after = window.get("createdAfter") or window.get("changedAfter")
        before = window.get("createdBefore") or window.get("changedBefore")
        assert after < before
    assert count(PurchaseOrder) == len(set(numbers)) == 60
    assert result.created == 60 and result.fetched_lines == count(PurchaseOrderLine)
    assert count(Event, Event.kind == "po.new") == 60

    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == numbers[0]))
    assert po.ship_window_start < po.ship_window_end
    assert po.delivery_window_start < po.delivery_window_end
    assert po.ack_due_at == po.ordered_at + timedelta(hours=vendor.ack_deadline_hours)
    assert po.ordered_at.tzinfo is not None and po.selling_party_id == "DEMO1"
    assert po.marketplace_id == "ATVPDKIKX0DER" and po.parties["shipToParty"]["partyId"]
    for line in po.lines:
        assert isinstance(line.net_cost_amount, Decimal)
        multiplier = line.ordered_unit_size if line.ordered_unit_of_measure == "Cases" else 1
        assert line.ordered_eaches == line.ordered_quantity * (multiplier or 1)
    state = db.session.scalar(select(SyncState).where(SyncState.feed == "orders",
                                                      SyncState.scope == "DEMO1"))
    assert state.backfill_done and state.cursor == now and state.last_success_at


def test_resync_is_idempotent_and_writes_nothing(app, sandbox, vendor):
    control(sandbox, "purchase-orders", {"count": 30, "days_back": 5})
    now = sandbox.store.now()
    sync_orders(vendor.id, now=now)
    before = snapshot()
    result = sync_orders(vendor.id, since=now - timedelta(days=6), now=now)
    assert result.created == 0 and result.updated == 0 and result.unchanged >= 30
    assert snapshot() == before


def test_amazon_change_updates_lines_and_raises_one_event(app, sandbox, vendor):
    numbers = sandbox.create_purchase_orders(5, changed=True)
    now = sandbox.store.now()
    sync_orders(vendor.id, now=now)
    assert count(Event, Event.kind == "po.changed") == 0
    sandbox.tick(24 * 60)  # the planned Amazon-side changes happen within the day
    later = sandbox.store.now()
    sync_orders(vendor.id, now=later)
    sync_orders(vendor.id, since=later - timedelta(days=2), now=later)  # again: no new events
    changed = db.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.po_number.in_(numbers), PurchaseOrder.changed_by_amazon)).all()
    assert len(changed) == 5
    events = db.session.scalars(select(Event).where(Event.kind == "po.changed")).all()
    assert len(events) == 5 and {e.purchase_order_id for e in events} == {p.id for p in changed}
    for po in changed:
        assert po.amazon_changed_at is not None
        event = next(e for e in events if e.purchase_order_id == po.id)
        assert event.payload["changed_lines"]


def test_sandbox_static_examples_of_the_model_ingest(app, vendor):
    model_orders = []
    for path, method, status, _request, response in schemas.sandbox_examples("vendorOrders.json"):
        if status != "200" or method != "get" or not path.startswith(
                "/vendor/orders/v1/purchaseOrders") or path.endswith("Status"):
            continue
        payload = response["payload"]
        orders = payload.get("orders", []) if "orders" in payload else [payload]
        model_orders += [o for o in orders if "orderDetails" in o]
    assert len(model_orders) >= 8
    result = SyncResult("orders", vendor.id)
    for order in model_orders:
        ingest_orders(vendor, [order], result)
    db.session.commit()
    assert result.fetched == len(model_orders) and count(PurchaseOrder) >= 5
    case = db.session.scalar(select(PurchaseOrderLine).where(
        PurchaseOrderLine.ordered_unit_of_measure == "Cases"))
    assert case.ordered_eaches == case.ordered_quantity * case.ordered_unit_size
    cancelled = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.cancelled))
    assert cancelled is not None and cancelled.ordered_quantity == 0

    statuses = [s for path, method, status, _req, response in
                schemas.sandbox_examples("vendorOrders.json")
                if path.endswith("purchaseOrdersStatus") and status == "200"
                for s in response["payload"]["ordersStatus"]]
    assert statuses
    result = SyncResult("status", vendor.id)
    for status in statuses:
        ingest_statuses(vendor, [status], result)
    db.session.commit()
    assert result.fetched == len(statuses)


def test_malformed_answer_writes_nothing_and_keeps_the_cursor(app, sandbox, vendor):
    control(sandbox, "purchase-orders", {"count": 20, "days_back": 3})
    app.config["SPAPI_MAX_ATTEMPTS"] = 2
    control(sandbox, "faults", {"malformed_share": 1.0})
    with pytest.raises(SpApiMalformedResponse):
        sync_orders(vendor.id, now=sandbox.store.now())
    assert count(PurchaseOrder) == 0
    backfill = db.session.scalar(select(SyncState).where(SyncState.feed == BACKFILL_FEED))
    start = backfill.cursor
    state = db.session.scalar(select(SyncState).where(SyncState.feed == "orders",
                                                      SyncState.scope == ""))
    assert state.last_error and "MalformedResponse" in state.last_error
    control(sandbox, "faults", {"malformed_share": 0})
    sync_orders(vendor.id, now=sandbox.store.now())
    assert count(PurchaseOrder) == 20
    db.session.refresh(backfill)
    assert backfill.cursor > start


def test_killed_between_fetch_and_commit_then_rerun_gives_the_same_result(
        app, sandbox, vendor, test_config, tmp_path):
    control(sandbox, "purchase-orders", {"count": 120, "days_back": 60})
    # Slow answers so the kill lands mid-walk, with some pages fetched and not committed.
    control(sandbox, "faults", {"slow_share": 1.0, "slow_seconds": 0.15})
    env = worker_env(test_config, sandbox, tmp_path, SYNC_LOCK_TTL_SECONDS="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "sync", "run", vendor.name,
         "--feed", "orders", "--since", (sandbox.store.now() - timedelta(days=70)).isoformat()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while count(PurchaseOrder) == 0 and time.time() < deadline:
        db.session.rollback()
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db.session.rollback()
    partial = count(PurchaseOrder)
    assert 0 < partial < 120
    backfill = db.session.scalar(select(SyncState).where(SyncState.feed == BACKFILL_FEED))
    assert backfill.backfill_done is False
    # The cursor never runs ahead of committed data: every PO before it is stored.
    behind = sandbox.store.order_keys
    assert all(db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.po_number == n))
               for stamp, n in behind if stamp < backfill.cursor.strftime("%Y-%m-%dT%H:%M:%SZ"))
    control(sandbox, "faults", {"slow_share": 0})
    time.sleep(2.1)  # the killed run's lock expires
    sync_orders(vendor.id, now=sandbox.store.now())
    rerun = snapshot()
    assert len(rerun["pos"]) == 120
    assert len([k for k in rerun["events"] if ":po.new:" in k]) == 120


def test_same_sync_requested_100_times_at_once_runs_once(app, sandbox, vendor):
    control(sandbox, "purchase-orders", {"count": 10, "days_back": 2})
    vendor_id, ids = vendor.id, []

    def ask():
        with app.app_context():
            ids.append(request_sync(vendor_id, ["orders"]))

    threads = [threading.Thread(target=ask) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 100 and len(set(ids)) == 1
    assert get_queue("sync").count == 1
    assert build_worker(app, ["sync"]).work(burst=True)
    assert count(PurchaseOrder) == 10
    stats = control(sandbox, "stats", method="GET")
    # One run: a 90-day backfill (13 windows) and one incremental window (created + changed).
    assert stats["requests"]["getPurchaseOrders"] == 13 + 2
    # A request after the run queues the next one.
    assert request_sync(vendor.id, ["orders"]) != ids[0]
