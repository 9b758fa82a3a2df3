"""The demo seed: idempotent, deterministic, and realistic enough for the dashboards."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from webapp.auth.models import User
from webapp.demo.seed import DEMO_ADMIN_EMAIL, seed_demo
from webapp.extensions import db
from webapp.orders.models import PoState, PurchaseOrder, PurchaseOrderLine, Receipt
from webapp.vendor_reports.models import InventoryWeek, SalesWeek
from webapp.vendors.models import Vendor

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def seeded(app):
    """Seed 200 POs as of NOW and return the result."""
    return seed_demo(pos=200, now=NOW)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_cli_seeds_once_then_does_nothing(runner):
    first = runner.invoke(args=["demo", "--pos", "200"])
    assert first.exit_code == 0, first.output
    assert "Seeded demo vendor 'Demo Trading Co.'" in first.output
    assert "200 purchase orders" in first.output
    counts = (_count(PurchaseOrder), _count(PurchaseOrderLine), _count(Receipt))

    second = runner.invoke(args=["demo", "--pos", "200"])
    assert second.exit_code == 0, second.output
    assert "already exists" in second.output and "nothing to do" in second.output
    assert (_count(PurchaseOrder), _count(PurchaseOrderLine), _count(Receipt)) == counts
    assert _count(Vendor) == 1


def test_vendor_admin_and_counts(seeded):
    vendor = db.session.get(Vendor, seeded.vendor_id)
    assert vendor.name == "Demo Trading Co."
    assert [d.domain for d in vendor.domains] == ["demo-trading.example"]
    assert {c.code: c.marketplace_id for c in vendor.codes}["DEMO1"] == "ATVPDKIKX0DER"
    assert (vendor.timezone, vendor.currency, vendor.spapi_region) == ("Asia/Shanghai", "USD", "na")

    # The admin is invited by `demo --show-access`, never created without sign-in set-up.
    assert db.session.scalar(select(User).where(User.email == DEMO_ADMIN_EMAIL)) is None

    lines_per_po = Counter(db.session.scalars(select(PurchaseOrderLine.purchase_order_id)))
    assert _count(PurchaseOrder) == 200 == len(lines_per_po)
    assert all(1 <= n <= 15 for n in lines_per_po.values())
    assert 8 <= _count(PurchaseOrderLine) / 200 <= 12
    assert seeded.counts["purchase orders"] == 200
    assert seeded.counts["lines"] == _count(PurchaseOrderLine)
    assert seeded.counts["receipts"] == _count(Receipt)
    asins = set(db.session.scalars(select(PurchaseOrderLine.asin).distinct()))
    assert 40 <= len(asins) <= 80
    assert all(len(a) == 10 and a.startswith("B0") for a in asins)


def test_money_is_decimal_with_currency(seeded):
    line = db.session.scalars(select(PurchaseOrderLine).limit(1)).one()
    assert isinstance(line.net_cost_amount, Decimal)
    assert isinstance(line.list_price_amount, Decimal)
    assert line.net_cost.currency == line.list_price.currency == "USD"
    assert line.list_price.amount > line.net_cost.amount
    sales = db.session.scalars(select(SalesWeek).where(SalesWeek.shipped_units > 0).limit(1)).one()
    assert isinstance(sales.shipped_revenue, Decimal) and sales.currency == "USD"
    inventory = db.session.scalars(select(InventoryWeek).limit(1)).one()
    assert isinstance(inventory.sellable_on_hand_cost, Decimal)


def test_purchase_orders_and_deadlines(seeded):
    orders = db.session.scalars(select(PurchaseOrder)).all()
    for po in orders:
        assert po.ack_due_at == po.ordered_at + timedelta(hours=24)
        assert po.ordered_at.tzinfo is not None
        assert NOW - timedelta(days=183) <= po.ordered_at <= NOW
        assert po.ship_window_start < po.ship_window_end
        assert po.delivery_window_start < po.delivery_window_end
        assert po.ship_to_party_id == po.parties["shipToParty"]["partyId"]
        assert po.parties["shipToParty"]["address"]["countryCode"] == "US"
        if po.state == PoState.NEW:
            # Only young POs still wait for an answer.
            assert po.ordered_at > NOW - timedelta(days=5)
    assert len({po.ship_to_party_id for po in orders}) >= 5
    assert len({po.po_number for po in orders}) == 200
    open_with_deadline_ahead = [
        po for po in orders if po.state == PoState.NEW and po.ack_due_at > NOW
    ]
    assert len(open_with_deadline_ahead) >= 3
    assert {PoState.NEW, PoState.ACKNOWLEDGED, PoState.CLOSED} <= {po.state for po in orders}


def test_lines_of_new_pos_are_unconfirmed_and_unreceived(seeded):
    rows = db.session.execute(
        select(PurchaseOrderLine.confirmation_status, PurchaseOrderLine.received_eaches)
        .join(PurchaseOrder)
        .where(PurchaseOrder.state == PoState.NEW)
    ).all()
    assert rows and all(status == "UNCONFIRMED" and got is None for status, got in rows)
    statuses = set(db.session.scalars(select(PurchaseOrderLine.confirmation_status)))
    assert {"ACCEPTED", "UNCONFIRMED"} <= statuses
    assert statuses & {"PARTIALLY_ACCEPTED", "REJECTED"}


def test_receipts_late_short_and_on_time_in_full(seeded):
    rows = db.session.execute(
        select(PurchaseOrderLine, PurchaseOrder.delivery_window_end).join(PurchaseOrder)
        .where(PurchaseOrderLine.received_eaches.is_not(None))
    ).all()
    late = [line for line, end in rows if line.last_received_at > end]
    short = [line for line, _ in rows if line.received_eaches < line.accepted_eaches]
    on_time_in_full = [
        line for line, end in rows
        if line.last_received_at <= end and line.received_eaches == line.accepted_eaches
    ]
    assert late and short and on_time_in_full
    assert len(on_time_in_full) > len(late) and len(on_time_in_full) > len(short)

    last_receipt = {
        line_id: (at, eaches)
        for line_id, at, eaches in db.session.execute(
            select(Receipt.purchase_order_line_id, Receipt.received_at, Receipt.received_eaches)
            .order_by(Receipt.received_at)
        )
    }
    for line, _ in rows:
        assert last_receipt[line.id] == (line.last_received_at, line.received_eaches)
        assert line.received_eaches == line.received_quantity * line.received_unit_size
        assert line.last_received_at <= NOW


def test_ordered_eaches_follow_unit_of_measure(seeded):
    lines = db.session.scalars(select(PurchaseOrderLine)).all()
    assert {line.ordered_unit_of_measure for line in lines} == {"Cases", "Eaches"}
    for line in lines:
        if line.ordered_unit_of_measure == "Cases":
            assert line.ordered_unit_size in (6, 12, 24)
        assert line.ordered_eaches == line.ordered_quantity * line.ordered_unit_size


def test_weekly_reports_run_sunday_to_saturday(seeded):
    inventory = db.session.scalars(select(InventoryWeek)).all()
    sales = db.session.scalars(select(SalesWeek)).all()
    assert inventory and len(inventory) == len(sales)
    for week in [*inventory, *sales]:
        assert week.week_start.weekday() == 6  # Sunday
        assert week.week_end == week.week_start + timedelta(days=6)
        assert week.week_end < NOW.date()
    weeks = {w.week_start for w in inventory}
    assert len(weeks) == 26
    assert max(weeks) == datetime(2026, 11, 8).date()  # the last complete week before NOW


def test_reports_show_low_stock_and_returns(seeded):
    last = db.session.scalar(select(func.max(SalesWeek.week_start)))
    on_hand = dict(db.session.execute(
        select(InventoryWeek.asin, InventoryWeek.sellable_on_hand_units)
        .where(InventoryWeek.week_start == last)
    ).all())
    shipped = dict(db.session.execute(
        select(SalesWeek.asin, SalesWeek.shipped_units).where(SalesWeek.week_start == last)
    ).all())
    cover = {asin: on_hand[asin] / max(shipped[asin], 1) for asin in shipped}
    assert any(weeks < 4 for weeks in cover.values())  # some ASINs are low on stock
    assert any(weeks >= 4 for weeks in cover.values())

    shipped_units, returns = func.sum(SalesWeek.shipped_units), func.sum(SalesWeek.customer_returns)
    totals = db.session.execute(
        select(SalesWeek.asin, shipped_units, returns).group_by(SalesWeek.asin)
    ).all()
    rates = [returns / units for _, units, returns in totals if units > 500]
    assert rates and all(0.005 <= rate <= 0.15 for rate in rates)


def test_same_seed_same_data(app):
    def snapshot():
        return db.session.execute(
            select(PurchaseOrder.po_number, PurchaseOrder.state, PurchaseOrder.ordered_at,
                   func.count(PurchaseOrderLine.id), func.sum(PurchaseOrderLine.ordered_eaches))
            .join(PurchaseOrderLine).group_by(PurchaseOrder.id).order_by(PurchaseOrder.po_number)
        ).all()

    first = seed_demo(pos=60, now=NOW)
    before = snapshot()
    db.session.execute(text("DELETE FROM vendors WHERE id = :id"), {"id": first.vendor_id})
    db.session.commit()
    assert _count(PurchaseOrder) == 0
    seed_demo(pos=60, now=NOW)
    assert snapshot() == before


def test_failed_seed_leaves_nothing_behind(app, monkeypatch):
    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr("webapp.demo.seed._Writer._weekly_reports", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        seed_demo(pos=30, now=NOW)
    assert (_count(Vendor), _count(User), _count(PurchaseOrder)) == (0, 0, 0)
    monkeypatch.undo()
    assert seed_demo(pos=30, now=NOW).created


def test_failed_insert_is_raised_and_cleaned_up(app, monkeypatch):
    import webapp.demo.bulk as bulk

    real_insert = bulk.bulk_insert

    def failing(connection, table, rows):
        if table.name == "receipts":
            raise RuntimeError("receipts refused")
        real_insert(connection, table, rows)

    monkeypatch.setattr(bulk, "bulk_insert", failing)
    with pytest.raises(RuntimeError, match="receipts refused"):
        seed_demo(pos=30, now=NOW)
    assert (_count(Vendor), _count(PurchaseOrder), _count(PurchaseOrderLine)) == (0, 0, 0)


def test_ids_keep_working_after_seeding(seeded):
    """New rows get fresh ids (PostgreSQL sequences were moved past the seeded ids)."""
    po = PurchaseOrder(
        vendor_id=seeded.vendor_id, po_number="NEWPO001", ordered_at=NOW, ack_due_at=NOW,
    )
    db.session.add(po)
    db.session.flush()
    line = PurchaseOrderLine(
        purchase_order_id=po.id, vendor_id=seeded.vendor_id, item_sequence_number="1",
        ordered_quantity=1, ordered_eaches=1,
    )
    db.session.add(line)
    db.session.commit()
    assert po.id > 200 and line.id > seeded.counts["lines"]


def test_sqlite_datetime_fast_path_matches_the_column_type():
    from sqlalchemy.dialects import sqlite

    from webapp.demo.bulk import _processor

    column_type = Receipt.__table__.c.received_at.type
    dialect = sqlite.dialect()
    fast = _processor(column_type, dialect)
    generic = column_type.dialect_impl(dialect).bind_processor(dialect)
    shanghai = datetime.fromisoformat("2026-03-08T10:00+08:00")
    for value in (NOW, NOW.replace(microsecond=7), shanghai):
        assert fast(value) == generic(value)
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2026, 1, 1))


def test_show_access_invites_the_admin_until_enrolled(runner, app):
    runner.invoke(args=["demo", "--pos", "20"])
    first = runner.invoke(args=["demo", "--show-access", "--base-url", "http://127.0.0.1:5999"])
    assert first.exit_code == 0, first.output
    link = next(w for w in first.output.split() if "/invite/" in w)
    assert link.startswith("http://127.0.0.1:5999/invite/")
    from webapp.auth.services import accept_invite, find_invite

    invite = find_invite(link.rsplit("/", 1)[1])
    assert invite is not None and invite.role == "admin"
    accept_invite(invite, "correct horse battery staple 42")
    db.session.commit()
    later = runner.invoke(args=["demo", "--show-access"])
    assert "/invite/" not in later.output and "Sign in with the password" in later.output
