"""Status (confirmation, receipts) and weekly report sync against the sandbox over HTTP."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.amazon_fixtures import control, sandbox, vendor  # noqa: F401 - fixtures
from webapp.amazon.sync_orders import sync_orders
from webapp.amazon.sync_reports import sync_reports, week_start
from webapp.amazon.sync_status import sync_status
from webapp.extensions import db
from webapp.orders.models import PurchaseOrderLine, Receipt
from webapp.vendor_reports.models import InventoryWeek, SalesWeek


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_status_sync_records_confirmation_and_receipts_once(app, sandbox, vendor):
    control(sandbox, "purchase-orders", {"count": 40, "days_back": 40, "settle": True})
    now = sandbox.store.now()
    sync_orders(vendor.id, now=now)
    result = sync_status(vendor.id, now=now)
    assert result.fetched == 40 and result.updated > 0
    confirmed = count(PurchaseOrderLine, PurchaseOrderLine.confirmation_status.is_not(None))
    assert confirmed > 0
    received = db.session.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.received_eaches > 0)).all()
    assert received, "settled POs older than their delivery window have receipts"
    for line in received:
        assert line.last_received_at is not None and line.accepted_eaches >= 0
    receipts = count(Receipt)
    assert receipts == len(received)
    again = sync_status(vendor.id, since=now - timedelta(days=50), now=now)
    assert again.updated == 0 and count(Receipt) == receipts


def test_status_for_unknown_pos_is_skipped_not_fatal(app, sandbox, vendor):
    control(sandbox, "purchase-orders", {"count": 5, "days_back": 2})
    result = sync_status(vendor.id, now=sandbox.store.now())
    assert result.fetched == 5 and result.updated == 0 and result.notes


def test_weekly_reports_upsert_per_asin_including_gzip_documents(app, sandbox, vendor):
    control(sandbox, "purchase-orders", {"count": 60, "days_back": 60, "settle": True})
    today = sandbox.store.now().date()
    result = sync_reports(vendor.id, today=today, weeks=4, poll_seconds=0.01)
    inventory, sales = count(InventoryWeek), count(SalesWeek)
    assert inventory > 0 and sales > 0 and result.created == inventory + sales
    weeks = set(db.session.scalars(select(InventoryWeek.week_start)))
    assert len(weeks) == 4 and all(w.weekday() == 6 for w in weeks)  # Sundays
    assert max(weeks) == week_start(today) - timedelta(days=7)
    row = db.session.scalars(select(SalesWeek).where(SalesWeek.shipped_units > 0)).first()
    assert row is not None and row.currency == "USD" and row.shipped_revenue > 0
    again = sync_reports(vendor.id, today=today, weeks=4, poll_seconds=0.01)
    assert again.created == 0 and again.updated == 0
    assert count(InventoryWeek) == inventory and count(SalesWeek) == sales
    stats = control(sandbox, "stats", method="GET")
    assert stats["requests"]["getReportDocument"] == 4
