"""Stock, vendor metrics, sales and returns, and ASN figures worked out by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.auth_helpers import make_vendor
from tests.dashboards_data import LAST_WEEK, NOW, add_po, seed_otif, seed_reports, utc
from webapp.dashboards import asn, metrics, sales, stock
from webapp.extensions import db
from webapp.orders.models import PurchaseOrderLine
from webapp.shipments.models import Shipment, ShipmentItem
from webapp.vendor_reports.models import SalesWeek

A1, A2 = "B0AAAAAAA1", "B0AAAAAAA2"


@pytest.fixture
def vendor(app):
    return make_vendor("Acme Trading", timezone="Asia/Shanghai")


def _open_pos(vendor):
    """Open PO lines for ASNs to ship against."""
    po = add_po(vendor, "PO-OPEN", utc(25, 7), [
        {"qty": 30, "accepted": 24, "received": 4, "at": utc(17, 1), "asin": A1},
        {"qty": 3, "uom": "Cases", "size": 6, "asin": A2},
        {"qty": 70, "cancelled": True, "asin": A1},
    ])
    add_po(vendor, "PO-CLOSED", utc(10, 7), [{"qty": 100, "asin": A1}], state="Closed")
    return po


def _shipment(vendor, ident, status, line, shipped, eta=None):
    shipment = Shipment(vendor_id=vendor.id, shipment_identifier=ident, status=status,
                        estimated_delivery_at=eta)
    shipment.items.append(ShipmentItem(purchase_order_line_id=line.id, quantity=shipped,
                                       unit_of_measure="Eaches", unit_size=1,
                                       shipped_eaches=shipped))
    db.session.add(shipment)
    db.session.commit()


def test_stock_per_asin_low_stock_and_aged(vendor):
    seed_reports(vendor)
    po = _open_pos(vendor)
    _shipment(vendor, "ASN-1", "pending", po.lines[0], 12)
    _shipment(vendor, "ASN-2", "received", po.lines[0], 4)  # already received: not inbound
    report = stock.stock_report(vendor)
    assert (report.week_start, report.week_end) == (LAST_WEEK, LAST_WEEK + timedelta(6))
    assert (report.velocity_from, report.velocity_to) == (LAST_WEEK - timedelta(21),
                                                          LAST_WEEK + timedelta(6))
    rows = {r.asin: r for r in report.rows}
    a1, a2 = rows[A1], rows[A2]
    # Open PO units: the latest inventory report's (20 and 18), not the earlier week's 5.
    # A1: 100 on hand; sold 40+50+60+50 = 200 in 4 weeks -> 50.0 a week -> 2.0 weeks of cover.
    assert (a1.sellable_on_hand, a1.open_po_units, a1.inbound_units) == (100, 20, 12)
    assert (a1.weekly_velocity, a1.weeks_of_cover, a1.low) == (Decimal("50.0"), Decimal("2.0"),
                                                               True)
    # A2: 900 on hand; 10 a week -> 90.0 weeks; 40 aged, 15 unhealthy.
    assert (a2.sellable_on_hand, a2.open_po_units, a2.inbound_units) == (900, 18, 0)
    assert (a2.weeks_of_cover, a2.low, a2.aged_90_plus, a2.unhealthy) == (
        Decimal("90.0"), False, 40, 15)
    assert [r.asin for r in report.low_stock] == [A1]
    assert [r.asin for r in report.aged] == [A2]
    assert report.totals["sellable_on_hand"] == 1000


def test_stock_ignores_another_vendor(vendor):
    seed_reports(vendor)
    other = make_vendor("Other Co")
    seed_reports(other)
    po = add_po(other, "PO-OPEN", utc(25, 7), [{"qty": 500, "asin": A1}])
    _shipment(other, "ASN-X", "pending", po.lines[0], 500)
    rows = {r.asin: r for r in stock.stock_report(vendor).rows}
    assert (rows[A1].sellable_on_hand, rows[A1].open_po_units, rows[A1].inbound_units) == (
        100, 20, 0)


def test_empty_stock_report(vendor):
    report = stock.stock_report(vendor)
    assert report.rows == [] and report.week_start is None and report.synced_at is None


def test_vendor_metrics(vendor):
    seed_otif(vendor)
    seed_reports(vendor)
    m = metrics.vendor_metrics(vendor, NOW, 13)
    # Answered lines ordered in the period (all but L8 and cancelled L6): 249 of 261 confirmed.
    assert (m.units_requested, m.units_confirmed, m.confirmation_rate) == (
        261, 249, Decimal("95.40"))
    # Due lines: 190 confirmed (L8 held to its 40 ordered), 133 received.
    assert (m.units_due_confirmed, m.units_received, m.receive_fill_rate) == (
        190, 133, Decimal("70.00"))
    # Eight received lines, PO date 20 days before the window's end; mean 20.458... days.
    assert (m.received_lines, m.lead_time_days) == (8, Decimal("20.46"))
    # Sell-through: mean of 25%, 25%, 10%, 10%; unfilled: 12 of 280 ordered units.
    assert m.sell_through_percent == Decimal("17.50")
    assert (m.unfilled_units, m.customer_ordered_units, m.unfilled_rate) == (
        12, 280, Decimal("4.29"))


def test_sales_and_return_rates(vendor):
    seed_reports(vendor)
    report = sales.sales_report(vendor, 13)
    assert (report.first, report.last) == (LAST_WEEK - timedelta(84), LAST_WEEK + timedelta(6))
    first = report.weeks[0]
    assert (first.week_start, first.ordered_units, first.shipped_units, first.customer_returns) \
        == (LAST_WEEK - timedelta(21), 60, 50, 4)
    assert first.shipped_revenue == Decimal("512.50") and first.currency == "USD"
    rates = {r.asin: (r.customer_returns, r.shipped_units, r.rate, r.above)
             for r in report.returns}
    assert rates == {A1: (6, 200, Decimal("3.00"), False), A2: (5, 40, Decimal("12.50"), True)}
    assert [r.asin for r in report.alerts] == [A2]


def test_asn_status_counts_and_empty_state(vendor):
    assert asn.asn_status(vendor, NOW).empty
    po = _open_pos(vendor)
    line = po.lines[0]
    _shipment(vendor, "ASN-LATE", "submitted", line, 5, eta=utc(17, 0))
    _shipment(vendor, "ASN-ONTRACK", "pending", line, 5, eta=utc(20, 0))
    _shipment(vendor, "ASN-DONE", "received", line, 6)
    status = asn.asn_status(vendor, NOW)
    assert status.by_state == {"pending": 1, "submitted": 1, "receiving": 0, "received": 1,
                               "discrepancy": 0, "failed": 0}
    assert (status.late, status.shipped_units, status.received_units) == (1, 6, 4)
    assert db.session.get(PurchaseOrderLine, line.id).received_eaches == 4


def test_asn_page_and_overview_render_with_shipments_in_every_state(vendor, client):
    from tests.auth_helpers import sign_in

    po = _open_pos(vendor)
    for n, state in enumerate(asn.STATES):
        _shipment(vendor, f"ASN-{n}", state, po.lines[0], 1)
    sign_in(client, vendor=vendor)
    page = client.get("/dashboards/shipments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert all(f'data-state="{s}"' in html for s in asn.STATES)
    overview = client.get("/dashboards").get_data(as_text=True)
    assert 'data-card="asn"' in overview


def test_po_detail_shows_the_stock_dashboards_figures(vendor):
    """A PO line's stock and weeks of cover are the stock dashboard's, not a second opinion."""
    from webapp.orders import detail

    seed_reports(vendor)
    # An older sales week outside the 4-week window, and a big one: neither may count.
    db.session.add(SalesWeek(vendor_id=vendor.id, marketplace_id="ATVPDKIKX0DER",
                             currency="USD", asin=A1, week_start=LAST_WEEK - timedelta(28),
                             week_end=LAST_WEEK - timedelta(22), ordered_units=900,
                             shipped_units=900, ordered_revenue=Decimal("1"),
                             shipped_revenue=Decimal("1"), customer_returns=0))
    db.session.commit()
    po = add_po(vendor, "PO-STOCK", utc(25, 7), [{"qty": 5, "asin": A1}, {"qty": 5, "asin": A2},
                                                 {"qty": 5, "asin": "B0NOREPORT"}])
    views = {v.line.asin: v for v in detail.line_views(po)}
    rows = {r.asin: r for r in stock.stock_report(vendor).rows}
    for asin in (A1, A2):
        assert (views[asin].on_hand, views[asin].weeks_of_cover) == (
            rows[asin].sellable_on_hand, rows[asin].weeks_of_cover)
    assert (views[A1].on_hand, views[A1].weeks_of_cover) == (100, Decimal("2.0"))
    assert (views["B0NOREPORT"].on_hand, views["B0NOREPORT"].weeks_of_cover) == (None, None)


def test_po_pages_keep_the_report_weeks_for_half_a_minute(vendor, monkeypatch):
    """Every PO page needs the newest report weeks: read once per 30 s, then read again."""
    from types import SimpleNamespace

    import sqlalchemy as sa

    from webapp.core import kept
    from webapp.orders import detail
    from webapp.vendor_reports.models import InventoryWeek

    seed_reports(vendor)
    po = add_po(vendor, "PO-KEPT", utc(25, 7), [{"qty": 5, "asin": A1}])
    statements = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def weeks_read() -> int:
        return sum("max(inventory_weeks.week_start)" in s for s in statements)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert [v.on_hand for v in detail.line_views(po)] == [100]
        assert weeks_read() == 1
        # A newer inventory week arrives: PO pages within 30 s still show the last one.
        db.session.add(InventoryWeek(
            vendor_id=vendor.id, marketplace_id="ATVPDKIKX0DER", currency="USD", asin=A1,
            week_start=LAST_WEEK + timedelta(7), week_end=LAST_WEEK + timedelta(13),
            sellable_on_hand_units=7))
        db.session.commit()
        assert [v.on_hand for v in detail.line_views(po)] == [100]
        assert weeks_read() == 1
        later = kept.time.monotonic() + detail.REPORT_WEEKS_SECONDS + 1
        monkeypatch.setattr(kept, "time", SimpleNamespace(monotonic=lambda: later))
        assert [v.on_hand for v in detail.line_views(po)] == [7]
        assert weeks_read() == 2
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
