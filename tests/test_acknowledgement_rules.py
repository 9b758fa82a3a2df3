"""Every Amazon acknowledgement rule, each with the message the vendor sees."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from webapp import create_app
from webapp.orders.acknowledgement_rules import (
    AnswerPart,
    LineAnswer,
    accept_all_as_ordered,
    check_acknowledgement,
)
from webapp.orders.models import AckCode, PurchaseOrder, PurchaseOrderLine, RejectionReason

ORDERED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
EARLY = ORDERED + timedelta(hours=3)  # inside the 24 h deadline and the 48 h change window
LATE = ORDERED + timedelta(hours=50)  # after both


def make_po(**overrides) -> PurchaseOrder:
    overrides.setdefault("state", "New")
    po = PurchaseOrder(
        po_number="2JK3S9VC", ordered_at=ORDERED,
        ack_due_at=ORDERED + timedelta(hours=24),
        ship_window_end=ORDERED + timedelta(days=7),
        delivery_window_end=ORDERED + timedelta(days=10),
        **overrides,
    )
    po.lines = [
        PurchaseOrderLine(item_sequence_number="1", asin="B07DFVDRAB", ordered_quantity=10,
                          ordered_unit_of_measure="Cases", ordered_unit_size=12,
                          ordered_eaches=120, back_order_allowed=True,
                          net_cost_amount=Decimal("10.50"), net_cost_currency="USD",
                          cancelled=False),
        PurchaseOrderLine(item_sequence_number="2", asin="B07DFYF5CM", ordered_quantity=5,
                          ordered_unit_of_measure="Eaches", ordered_unit_size=1,
                          ordered_eaches=5, back_order_allowed=False,
                          net_cost_amount=Decimal("3.99"), net_cost_currency="USD",
                          cancelled=False),
    ]
    return po


def answer(seq, *parts, cost=None):
    return LineAnswer(seq, tuple(parts), cost)


def accept(qty, **kw):
    return AnswerPart(AckCode.ACCEPTED, qty, **kw)


def codes(check):
    return [p.code for p in check.problems]


@pytest.fixture(autouse=True)
def _app_context(test_config):
    """Messages are translatable strings rendered inside an app; no database is needed."""
    with create_app(test_config).app_context():
        yield


def test_accept_all_as_ordered_passes_without_risk():
    po = make_po()
    check = check_acknowledgement(po, accept_all_as_ordered(po), now=EARLY)
    assert check.ok and check.risks == []


def test_never_more_than_ordered():
    check = check_acknowledgement(make_po(), [answer("1", accept(11)), answer("2", accept(5))],
                                  now=EARLY)
    assert codes(check) == ["over_ordered"]
    assert "you answered 11 but Amazon ordered 10 Cases" in check.problems[0].message


def test_every_line_needs_an_answer():
    check = check_acknowledgement(make_po(), [answer("1", accept(10))], now=EARLY)
    assert codes(check) == ["missing_line"]
    assert "Amazon counts a missing line as rejected" in check.problems[0].message


def test_cancelled_lines_need_no_answer():
    po = make_po()
    po.lines[1].cancelled = True
    assert check_acknowledgement(po, [answer("1", accept(10))], now=EARLY).ok


def test_unknown_and_duplicate_lines_are_refused():
    check = check_acknowledgement(
        make_po(), [answer("1", accept(10)), answer("1", accept(1)), answer("2", accept(5)),
                    answer("9", accept(1))], now=EARLY)
    assert sorted(codes(check)) == ["duplicate_line", "unknown_line"]


def test_rejection_needs_a_coded_reason():
    check = check_acknowledgement(
        make_po(), [answer("1", accept(10)), answer("2", AnswerPart(AckCode.REJECTED, 5))],
        now=EARLY)
    assert codes(check) == ["rejection_reason_required"]
    ok = check_acknowledgement(
        make_po(), [answer("1", accept(10)), answer("2", AnswerPart(
            AckCode.REJECTED, 5, rejection_reason=RejectionReason.OBSOLETE_PRODUCT))], now=EARLY)
    assert ok.ok


def test_a_rejected_line_can_never_be_accepted_later():
    check = check_acknowledgement(make_po(), accept_all_as_ordered(make_po()), now=EARLY,
                                  rejected_before={"2"})
    assert codes(check) == ["rejected_before"]
    assert "never lets a rejected line be accepted later" in check.problems[0].message


def test_backorder_only_where_amazon_allows_it_and_with_a_date():
    ship = ORDERED + timedelta(days=5)
    check = check_acknowledgement(
        make_po(), [answer("1", AnswerPart(AckCode.BACKORDERED, 10)),
                    answer("2", AnswerPart(AckCode.BACKORDERED, 5, scheduled_ship_at=ship))],
        now=EARLY)
    assert sorted(codes(check)) == ["backorder_needs_date", "backorder_not_allowed"]
    assert "does not allow back-orders" in next(
        p.message for p in check.problems if p.code == "backorder_not_allowed")


def test_quantity_changes_only_within_48_hours():
    answers = [answer("1", accept(6), AnswerPart(
        AckCode.REJECTED, 4, rejection_reason=RejectionReason.TEMPORARILY_UNAVAILABLE)),
        answer("2", accept(5))]
    assert check_acknowledgement(make_po(), answers, now=EARLY).ok
    late = check_acknowledgement(make_po(), answers, now=LATE)
    assert "change_window_closed" in codes(late)
    assert "within 48 hours" in late.problems[0].message


def test_price_changes_only_within_48_hours_and_never_zero():
    answers = [answer("1", accept(10), cost=Decimal("10.00")), answer("2", accept(5))]
    assert check_acknowledgement(make_po(), answers, now=EARLY).ok
    assert codes(check_acknowledgement(make_po(), answers, now=LATE)) == ["change_window_closed"]
    zero = [answer("1", accept(10), cost=Decimal("0")), answer("2", accept(5))]
    assert codes(check_acknowledgement(make_po(), zero, now=EARLY)) == ["invalid_cost"]


def test_date_changes_only_within_48_hours():
    when = ORDERED + timedelta(days=6)
    answers = [answer("1", accept(10, scheduled_ship_at=when)), answer("2", accept(5))]
    assert check_acknowledgement(make_po(), answers, now=EARLY).ok
    assert codes(check_acknowledgement(make_po(), answers, now=LATE)) == ["change_window_closed"]


def test_rejecting_a_whole_line_late_is_allowed():
    answers = [answer("1", accept(10)), answer("2", AnswerPart(
        AckCode.REJECTED, 5, rejection_reason=RejectionReason.TEMPORARILY_UNAVAILABLE))]
    check = check_acknowledgement(make_po(), answers, now=LATE)
    assert check.ok
    assert "deadline_passed" in [r.code for r in check.risks]


def test_closed_po_changed_po_and_answer_in_flight_are_refused():
    assert codes(check_acknowledgement(make_po(state="Closed"), [], now=EARLY)) == ["po_closed"]
    changed = make_po(amazon_changed_at=ORDERED + timedelta(hours=2))
    check = check_acknowledgement(changed, accept_all_as_ordered(changed), now=EARLY,
                                  expected_changed_at=ORDERED)
    assert codes(check) == ["po_changed"]
    busy = check_acknowledgement(make_po(), accept_all_as_ordered(make_po()), now=EARLY,
                                 answer_in_flight=True)
    assert codes(busy) == ["answer_in_flight"]


def test_risks_short_confirmation_and_late_dates():
    late_delivery = ORDERED + timedelta(days=12)
    answers = [answer("1", accept(7, scheduled_delivery_at=late_delivery), AnswerPart(
        AckCode.REJECTED, 3, rejection_reason=RejectionReason.TEMPORARILY_UNAVAILABLE)),
        answer("2", accept(5))]
    check = check_acknowledgement(make_po(), answers, now=EARLY)
    assert check.ok
    assert sorted(r.code for r in check.risks) == ["late_schedule", "low_confirmation"]
    assert "confirming 7 of 10" in next(r.message for r in check.risks
                                        if r.code == "low_confirmation")
