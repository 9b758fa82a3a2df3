"""OTIF figures worked out by hand on a crafted dataset; the app must agree exactly.

Counted lines of this week (Sun 2026-11-15 to Sat 2026-11-21, Asia/Shanghai), grace 0:

| line | confirmed | ordered | received | last receipt vs window end | on time | in full | ordered |
| L1   | 10        | 10      | 10       | 1 h early                  | yes     | yes     | yes     |
| L2   | 20        | 20      | 20       | 49 h late (3 days)         | no      | yes     | yes     |
| L3   | 60 (5 cs) | 60      | 48       | 2 h early                  | yes     | no (12) | no      |
| L4   | 30        | 30      | 25       | 27 h late (2 days)         | no      | no (5)  | no      |
| L5   | 10        | 10      | 10       | 23 h late (1 day), partial | no      | yes     | yes     |
| L8   | 40 (none) | 40      | 0        | never                      | no      | no (40) | no      |
| L9   | 8         | 10      | 8        | exactly at the end         | yes     | yes     | no      |
| B2   | 5         | 5       | 5        | early (Sun 00:00 local)    | yes     | yes     | yes     |

Left out: L6 cancelled, L10 rejected (0 confirmed), L7 not yet due. B1 (Sat 23:59:59 local) is
last week's only line and passes. Units: each line weighs its confirmed (or ordered) eaches.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from tests.auth_helpers import make_vendor
from tests.dashboards_data import LAST_WEEK, NOW, THIS_WEEK, add_po, seed_otif, utc
from webapp.dashboards import otif
from webapp.dashboards.models import OtifDirty
from webapp.dashboards.periods import make_week, recent_weeks, week_start
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine

THIS_WEEK_COUNTS = dict(
    lines=8, lines_on_time=4, lines_in_full=5, lines_otif=3, lines_in_full_ordered=4,
    lines_otif_ordered=2, units=183, units_ordered=185, units_on_time=83, units_in_full=53,
    units_otif=23, units_in_full_ordered=45, units_otif_ordered=15,
)
LAST_WEEK_COUNTS = dict(
    lines=1, lines_on_time=1, lines_in_full=1, lines_otif=1, lines_in_full_ordered=1,
    lines_otif_ordered=1, units=7, units_ordered=7, units_on_time=7, units_in_full=7,
    units_otif=7, units_in_full_ordered=7, units_otif_ordered=7,
)


@pytest.fixture
def vendor(app):
    vendor = make_vendor("Acme Trading", timezone="Asia/Shanghai")
    seed_otif(vendor)
    return vendor


def _week(report, start):
    return next(f for w, f in report.weeks if w.start == start)


def test_weeks_run_sunday_to_saturday_in_the_vendors_time_zone():
    assert week_start(THIS_WEEK) == THIS_WEEK
    assert week_start(THIS_WEEK.replace(day=21)) == THIS_WEEK  # Saturday
    weeks = recent_weeks(NOW, "Asia/Shanghai", 2)
    assert [w.start for w in weeks] == [LAST_WEEK, THIS_WEEK]
    assert weeks[1].start_utc == utc(14, 16)  # Sunday 00:00 in Shanghai
    assert make_week(THIS_WEEK, weeks[0].start_utc.tzinfo).start_utc == utc(15, 0)


def test_weekly_counts_and_rates_match_the_hand_computation(vendor):
    report = otif.otif_by_week(vendor, NOW, 13)
    assert [w.start for w, _ in report.weeks][-2:] == [LAST_WEEK, THIS_WEEK]
    this, last = _week(report, THIS_WEEK), _week(report, LAST_WEEK)
    assert this == otif.OtifFigures(**THIS_WEEK_COUNTS)
    assert last == otif.OtifFigures(**LAST_WEEK_COUNTS)
    # Rates: Decimal percentages to two places, half up.
    assert this.rate("otif") == Decimal("37.50")  # 3 / 8
    assert this.rate("on_time") == Decimal("50.00")  # 4 / 8
    assert this.rate("in_full") == Decimal("62.50")  # 5 / 8
    assert this.rate("otif_ordered") == Decimal("25.00")  # 2 / 8
    assert this.rate("otif", "units") == Decimal("12.57")  # 23 / 183 = 12.568...
    assert this.rate("in_full", "units") == Decimal("28.96")  # 53 / 183 = 28.961...
    assert this.rate("otif_ordered", "units") == Decimal("8.11")  # 15 / 185 = 8.108...
    assert report.total.lines == 9 and report.total.lines_otif == 4
    assert all(f.lines == 0 for w, f in report.weeks if w.start < LAST_WEEK)
    assert report.target_percent == Decimal("90.00")


def test_per_warehouse_and_per_asin(vendor):
    report = otif.otif_by_week(vendor, NOW, 13)
    warehouses = {k: (f.lines, f.lines_otif, f.rate("otif")) for k, f in report.by_warehouse}
    # ABE2: L1 L3 L5 L8 B1 B2 (OTIF: L1 B1 B2); LGB8: L2 L4 L9 (OTIF: L9).
    assert warehouses == {"ABE2": (6, 3, Decimal("50.00")), "LGB8": (3, 1, Decimal("33.33"))}
    asins = {k: (f.lines, f.lines_otif) for k, f in report.by_asin}
    assert asins == {"B0AAAAAAA1": (3, 1), "B0AAAAAAA2": (2, 0), "B0AAAAAAA3": (2, 1),
                     "B0AAAAAAA4": (2, 2)}
    assert report.by_asin[0][0] == "B0AAAAAAA2"  # worst first


def test_drill_down_lists_the_failing_lines_and_why(vendor):
    week = make_week(THIS_WEEK, recent_weeks(NOW, vendor.timezone, 1)[0].start_utc.tzinfo)
    weeks = recent_weeks(NOW, vendor.timezone, 1)
    lines, total = otif.failing_lines(vendor, NOW, start=weeks[0].start_utc,
                                      end=weeks[0].end_utc, measure="otif")
    assert week.start == THIS_WEEK and total == 5
    why = {(f.po_number, f.item_sequence_number): (f.late_days, f.short_units, f.reasons)
           for f in lines}
    assert why == {
        ("PO-LGB8", "1"): (3, 0, ["late"]),  # L2
        ("PO-ABE2", "2"): (None, 12, ["short"]),  # L3: 1 case of 12
        ("PO-LGB8", "2"): (2, 5, ["late", "short"]),  # L4
        ("PO-ABE2", "3"): (1, 0, ["late"]),  # L5
        ("PO-UNRECEIVED", "1"): (None, 40, ["not_received"]),  # L8
    }
    in_full_ordered, n = otif.failing_lines(vendor, NOW, start=weeks[0].start_utc,
                                            end=weeks[0].end_utc, measure="in_full_ordered")
    l9 = next(f for f in in_full_ordered
              if (f.po_number, f.item_sequence_number) == ("PO-LGB8", "3"))
    assert n == 4 and (l9.short_units, l9.short_ordered_units, l9.reasons) == (
        0, 2, ["short_of_ordered"])
    only_lgb8, n = otif.failing_lines(vendor, NOW, start=weeks[0].start_utc,
                                      end=weeks[0].end_utc, warehouse="LGB8", asin="B0AAAAAAA2")
    assert n == 1 and only_lgb8[0].late_days == 2


def test_grace_days_move_the_on_time_line_and_rebuild_the_facts(vendor):
    otif.otif_by_week(vendor, NOW, 13)
    vendor.otif_grace_days = 1
    db.session.commit()
    this = _week(otif.otif_by_week(vendor, NOW, 13), THIS_WEEK)
    # L5 (23 h late) is now on time, and in full: OTIF gains one line and its 10 units.
    assert (this.lines, this.lines_on_time, this.lines_otif, this.units_otif) == (8, 5, 4, 33)
    weeks = recent_weeks(NOW, vendor.timezone, 1)
    lines, _ = otif.failing_lines(vendor, NOW, start=weeks[0].start_utc, end=weeks[0].end_utc)
    assert {f.po_number + f.item_sequence_number: f.late_days for f in lines} == {
        "PO-LGB81": 2, "PO-LGB82": 1, "PO-ABE22": None, "PO-UNRECEIVED1": None}


def test_facts_stay_correct_under_sync_style_updates(vendor):
    """Core UPDATEs and INSERTs, as the sync feeds write them, keep facts equal to the lines."""
    otif.otif_by_week(vendor, NOW, 13)
    marks = select(OtifDirty.marks).where(OtifDirty.vendor_id == vendor.id)
    assert db.session.scalar(marks) is None
    lines = PurchaseOrderLine.__table__
    l8 = db.session.scalar(select(PurchaseOrderLine.id).join(PurchaseOrder).where(
        PurchaseOrder.po_number == "PO-UNRECEIVED"))
    # The status feed: L8 received in full, before its window ended.
    db.session.execute(update(lines).where(lines.c.id == l8).values(
        received_quantity=40, received_unit_of_measure="Eaches", received_unit_size=1,
        received_eaches=40, last_received_at=utc(17, 6)))
    # The orders feed: a PO moves warehouse; a new PO arrives (Core insert, like bulk_insert).
    pos = PurchaseOrder.__table__
    db.session.execute(update(pos).where(pos.c.po_number == "PO-SUN").values(
        ship_to_party_id="LGB8"))
    new_id = db.session.execute(insert(pos).values(
        vendor_id=vendor.id, po_number="PO-NEW", state="Acknowledged", po_type="RegularOrder",
        ordered_at=utc(1, 0), ack_due_at=utc(2, 0), delivery_window_end=utc(17, 7),
        ship_to_party_id="SBD1", ack_state="none", changed_by_amazon=False,
        first_synced_at=NOW, last_synced_at=NOW)).inserted_primary_key[0]
    db.session.execute(insert(lines).values(
        purchase_order_id=new_id, vendor_id=vendor.id, item_sequence_number="1",
        asin="B0AAAAAAA3", ordered_quantity=3, ordered_unit_of_measure="Eaches",
        ordered_eaches=3, back_order_allowed=False, cancelled=False, accepted_eaches=3))
    # A line cancelled by Amazon after the fact.
    db.session.execute(update(lines).where(lines.c.asin == "B0AAAAAAA4",
                                           lines.c.ordered_eaches == 7).values(cancelled=True))
    db.session.commit()
    assert db.session.scalar(marks) >= 1
    report = otif.otif_by_week(vendor, NOW, 13)
    this = _week(report, THIS_WEEK)
    # L8 now passes (+1 OTIF line, +40 units); PO-NEW is due and unreceived (+1 line, 3 units).
    assert (this.lines, this.lines_otif, this.units, this.units_otif) == (9, 4, 186, 63)
    assert _week(report, LAST_WEEK).lines == 0  # B1 cancelled
    assert {k: f.lines for k, f in report.by_warehouse} == {"ABE2": 4, "LGB8": 4, "SBD1": 1}
    reference = otif.otif_by_week_plain(vendor, NOW, 13)
    assert report.weeks == reference.weeks and report.total == reference.total
    assert sorted(report.by_warehouse) == sorted(reference.by_warehouse)
    assert sorted(report.by_asin) == sorted(reference.by_asin)
    assert db.session.scalar(marks) is None


def test_another_vendors_lines_are_never_counted(vendor):
    other = make_vendor("Other Co", timezone="Asia/Shanghai")
    add_po(other, "PO-ABE2", utc(16, 7), [{"qty": 1000, "asin": "B0AAAAAAA1"}])
    report = otif.otif_by_week(vendor, NOW, 13)
    assert _week(report, THIS_WEEK) == otif.OtifFigures(**THIS_WEEK_COUNTS)
    weeks = recent_weeks(NOW, vendor.timezone, 1)
    lines, total = otif.failing_lines(vendor, NOW, start=weeks[0].start_utc, end=weeks[0].end_utc)
    assert total == 5 and all(f.ordered_eaches != 1000 for f in lines)
    theirs = _week(otif.otif_by_week(other, NOW, 13), THIS_WEEK)
    assert (theirs.lines, theirs.lines_otif, theirs.units) == (1, 0, 1000)


def test_a_mark_that_grows_during_a_refresh_survives_it(vendor, monkeypatch):
    """A sync committing while facts are recomputed leaves its mark for the next read."""
    from webapp.dashboards import facts

    otif.otif_by_week(vendor, NOW, 13)
    lines = PurchaseOrderLine.__table__
    db.session.execute(update(lines).where(lines.c.asin == "B0AAAAAAA4").values(
        received_eaches=0))
    db.session.commit()
    original, calls = facts.counted_lines, []

    def sync_meanwhile():
        if not calls:  # the sync's trigger bumps the mark after the refresher read it
            db.session.execute(update(OtifDirty).where(OtifDirty.vendor_id == vendor.id)
                               .values(marks=OtifDirty.marks + 1))
        calls.append(1)
        return original()

    monkeypatch.setattr(facts, "counted_lines", sync_meanwhile)
    assert facts.refresh_otif_facts(vendor) == 2  # B1's and B2's window ends
    left = db.session.scalars(select(OtifDirty.marks).where(OtifDirty.vendor_id == vendor.id))
    assert sorted(left) == [2, 2]
    monkeypatch.setattr(facts, "counted_lines", original)
    assert facts.refresh_otif_facts(vendor) == 2
    assert facts.refresh_otif_facts(vendor) == 0
    report, reference = otif.otif_by_week(vendor, NOW, 13), otif.otif_by_week_plain(vendor, NOW, 13)
    assert report.weeks == reference.weeks and _week(report, THIS_WEEK).lines_in_full == 4
