"""Amazon's rules for acknowledging a purchase order, checked before anything is sent.

Pure functions over a PO and the user's answers: no request, no database writes. Each broken
rule becomes a `Problem` with a stable code and a plain message; answers that are allowed but
costly (short confirmations, late dates, a late answer) become `Risk`s shown before sending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from webapp.orders.models import AckCode, PoState, PurchaseOrder, RejectionReason

# Amazon accepts quantity, price and date changes only within 48 hours of the PO.
CHANGE_WINDOW = timedelta(hours=48)
# Confirming less than this share of the ordered units hurts the vendor's confirmation rate.
LOW_CONFIRMATION_SHARE = Decimal("0.8")


@dataclass(frozen=True)
class AnswerPart:
    """One `itemAcknowledgement`: a code and a quantity in the line's ordered unit of measure."""

    code: AckCode
    quantity: int
    scheduled_ship_at: datetime | None = None
    scheduled_delivery_at: datetime | None = None
    rejection_reason: RejectionReason | None = None


@dataclass(frozen=True)
class LineAnswer:
    """The answer for one PO line: one or more parts (e.g. accept 8, back-order 4)."""

    item_sequence_number: str
    parts: tuple[AnswerPart, ...]
    net_cost: Decimal | None = None  # None: the PO's net cost


@dataclass(frozen=True)
class Problem:
    """A broken rule: the answer cannot be sent as it is."""

    code: str
    message: str
    item_sequence_number: str | None = None


@dataclass(frozen=True)
class Risk:
    """An allowed answer that may cost the vendor (chargebacks, lower future orders)."""

    code: str
    message: str
    item_sequence_number: str | None = None


@dataclass
class RuleCheck:
    """The outcome of checking answers against a PO."""

    problems: list[Problem] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, code: str, message, line: str | None = None) -> None:
        self.problems.append(Problem(code, str(message), line))

    def risk(self, code: str, message, line: str | None = None) -> None:
        self.risks.append(Risk(code, str(message), line))


def accept_all_as_ordered(po: PurchaseOrder) -> list[LineAnswer]:
    """Answers accepting every open line in full, at the PO's cost and dates."""
    return [
        LineAnswer(line.item_sequence_number,
                   (AnswerPart(AckCode.ACCEPTED, line.ordered_quantity),))
        for line in po.lines
        if not line.cancelled
    ]


def check_acknowledgement(
    po: PurchaseOrder,
    answers: list[LineAnswer],
    *,
    now: datetime,
    rejected_before: set[str] = frozenset(),
    expected_changed_at: datetime | None = None,
    answer_in_flight: bool = False,
) -> RuleCheck:
    """Check answers for `po` against Amazon's acknowledgement rules at time `now`.

    `rejected_before` holds item sequence numbers rejected earlier (by us or per Amazon);
    `expected_changed_at` is the PO version the user answered (offline answers carry it).
    """
    check = RuleCheck()
    if po.state == PoState.CLOSED:
        check.problem("po_closed",
                      _l("This purchase order is closed; it cannot be acknowledged."))
        return check
    if answer_in_flight:
        check.problem("answer_in_flight", _l(
            "An answer for this purchase order is already on its way to Amazon. "
            "Wait for Amazon's reply before sending another."))
    if (expected_changed_at is not None and po.amazon_changed_at is not None
            and po.amazon_changed_at > expected_changed_at):
        check.problem("po_changed", _l(
            "Amazon changed this purchase order after you answered it. "
            "Review it and answer again."))

    lines = {line.item_sequence_number: line for line in po.lines}
    seen: set[str] = set()
    change_window_open = now <= po.ordered_at + CHANGE_WINDOW
    for answer in answers:
        seq = answer.item_sequence_number
        line = lines.get(seq)
        if line is None:
            check.problem("unknown_line", _l("Line %(line)s is not on this purchase order.",
                                             line=seq), seq)
            continue
        if seq in seen:
            check.problem("duplicate_line", _l("Line %(line)s is answered twice.", line=seq), seq)
            continue
        seen.add(seq)
        _check_line(check, po, line, answer, now, change_window_open, seq in rejected_before)

    for seq, line in lines.items():
        if seq not in seen and not line.cancelled:
            check.problem("missing_line", _l(
                "Line %(line)s (%(asin)s) has no answer. Amazon counts a missing line as "
                "rejected: accept, back-order or reject it.", line=seq, asin=line.asin or "-"), seq)

    if now > po.ack_due_at:
        check.risk("deadline_passed", _l(
            "The acknowledgement deadline has passed; Amazon may count this answer as late."))
    return check


def _check_line(check, po, line, answer, now, change_window_open, was_rejected) -> None:
    seq = line.item_sequence_number
    if not answer.parts:
        check.problem("empty_answer", _l("Line %(line)s has no answer.", line=seq), seq)
        return
    if any(p.quantity < 0 for p in answer.parts):
        check.problem("negative_quantity", _l("Quantities cannot be negative (line %(line)s).",
                                              line=seq), seq)
        return
    total = sum(p.quantity for p in answer.parts)
    if total > line.ordered_quantity:
        check.problem("over_ordered", _l(
            "Line %(line)s: you answered %(answered)s but Amazon ordered %(ordered)s "
            "%(unit)s. You can never confirm more than ordered.", line=seq, answered=total,
            ordered=line.ordered_quantity, unit=line.ordered_unit_of_measure), seq)

    confirmed = 0
    for part in answer.parts:
        if part.code == AckCode.REJECTED:
            if part.rejection_reason is None:
                check.problem("rejection_reason_required", _l(
                    "Line %(line)s: choose why you reject it (temporarily unavailable, invalid "
                    "product identifier or obsolete product).", line=seq), seq)
            continue
        if part.quantity == 0:
            continue
        confirmed += part.quantity
        if was_rejected:
            check.problem("rejected_before", _l(
                "Line %(line)s was rejected before; Amazon never lets a rejected line be "
                "accepted later.", line=seq), seq)
        if part.code == AckCode.BACKORDERED:
            if not line.back_order_allowed:
                check.problem("backorder_not_allowed", _l(
                    "Line %(line)s: Amazon does not allow back-orders for this item.",
                    line=seq), seq)
            if part.scheduled_ship_at is None and part.scheduled_delivery_at is None:
                check.problem("backorder_needs_date", _l(
                    "Line %(line)s: a back-order needs the new ship or delivery date.",
                    line=seq), seq)
        _check_dates(check, po, line, part, change_window_open)

    cost = answer.net_cost
    if cost is not None and cost != line.net_cost_amount:
        if cost <= 0:
            check.problem("invalid_cost", _l("Line %(line)s: the net cost must be above zero.",
                                             line=seq), seq)
        elif not change_window_open:
            check.problem("change_window_closed", _l(
                "Line %(line)s: the price can only be changed within 48 hours of the purchase "
                "order.", line=seq), seq)
    # Confirming part of a line changes its quantity; rejecting all of it does not.
    if 0 < confirmed < line.ordered_quantity and not change_window_open:
        check.problem("change_window_closed", _l(
            "Line %(line)s: quantities can only be changed within 48 hours of the purchase "
            "order; accept it in full or reject it.", line=seq), seq)
    if line.ordered_quantity and confirmed < LOW_CONFIRMATION_SHARE * line.ordered_quantity:
        check.risk("low_confirmation", _l(
            "Line %(line)s: confirming %(confirmed)s of %(ordered)s lowers your confirmation "
            "rate, which Amazon uses to size future orders.", line=seq, confirmed=confirmed,
            ordered=line.ordered_quantity), seq)


def _check_dates(check, po, line, part, change_window_open) -> None:
    seq = line.item_sequence_number
    dated = part.scheduled_ship_at is not None or part.scheduled_delivery_at is not None
    if dated and not change_window_open:
        check.problem("change_window_closed", _l(
            "Line %(line)s: dates can only be changed within 48 hours of the purchase order.",
            line=seq), seq)
    late_ship = (part.scheduled_ship_at and po.ship_window_end
                 and part.scheduled_ship_at > po.ship_window_end)
    late_delivery = (part.scheduled_delivery_at and po.delivery_window_end
                     and part.scheduled_delivery_at > po.delivery_window_end)
    if late_ship or late_delivery:
        check.risk("late_schedule", _l(
            "Line %(line)s: the scheduled date is after Amazon's window; the delivery will "
            "count as late.", line=seq), seq)
