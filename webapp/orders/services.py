"""Domain verbs for purchase orders: answer a PO line by line and send it through the outbox.

No `request` here: views and the API parse input into Amazon-shaped items, call these verbs,
commit, then call `after_commit` so a worker sends at once (the outbox sweep is the backstop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.amazon import outbox
from webapp.audit.services import record as audit
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders import inbox
from webapp.orders.acknowledgement_rules import (
    AnswerPart,
    LineAnswer,
    RuleCheck,
    accept_all_as_ordered,
    check_acknowledgement,
)
from webapp.orders.detail import extended_cost
from webapp.orders.models import (
    AckApproval,
    AckCode,
    Acknowledgement,
    AcknowledgementLine,
    AckState,
    ApprovalState,
    PurchaseOrder,
    RejectionReason,
)
from webapp.vendors.models import Vendor

log = logging.getLogger(__name__)


class InvalidAnswer(ValueError):
    """The answer body cannot be read (wrong shape, unknown code, bad date)."""

    def __init__(self, code: str, message) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)


@dataclass
class AckOutcome:
    """What happened to an answer: sent, refused by the rules, awaiting confirmation/approval."""

    status: str  # queued | refused | confirm | approval
    check: RuleCheck
    acknowledgement: Acknowledgement | None = None
    approval: AckApproval | None = None
    to_send: list[int] = field(default_factory=list)  # outbox ids to hand to a worker
    answered_for_badge: int | None = None  # vendor whose Orders badge counted the answered PO


def po_version(po: PurchaseOrder) -> str:
    """The PO version an answer was made against: Amazon's last change (or the PO date)."""
    return (po.amazon_changed_at or po.ordered_at).isoformat()


def parse_time(value, where: str) -> datetime | None:
    """Read an ISO 8601 date or date-time (dates mean midnight UTC); None stays None."""
    if value in (None, ""):
        return None
    try:
        text = str(value).replace("Z", "+00:00")
        moment = datetime.fromisoformat(text if "T" in text else f"{text}T00:00:00+00:00")
    except ValueError as exc:
        raise InvalidAnswer("invalid_date", _l("%(field)s is not a date.", field=where)) from exc
    if moment.tzinfo is None:
        raise InvalidAnswer("invalid_date", _l("%(field)s needs a time zone.", field=where))
    return moment


def answers_from_items(po: PurchaseOrder, items) -> list[LineAnswer]:
    """Turn Amazon-shaped items (one per line part) into rule-checkable LineAnswers."""
    if not isinstance(items, list):
        raise InvalidAnswer("invalid_body", _l("`items` must be a list."))
    lines = {line.item_sequence_number: line for line in po.lines}
    parts: dict[str, list[AnswerPart]] = {}
    costs: dict[str, Decimal] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidAnswer("invalid_body", _l("Item %(n)s is not an object.", n=n + 1))
        seq = str(item.get("itemSequenceNumber") or "").strip()
        if not seq:
            raise InvalidAnswer("invalid_body", _l("Item %(n)s has no itemSequenceNumber.",
                                                   n=n + 1))
        try:
            code = AckCode(item.get("acknowledgementCode"))
        except ValueError as exc:
            raise InvalidAnswer("invalid_code", _l(
                "Line %(line)s: acknowledgementCode must be Accepted, Backordered or Rejected.",
                line=seq)) from exc
        reason = item.get("rejectionReason")
        if reason is not None:
            try:
                reason = RejectionReason(reason)
            except ValueError as exc:
                raise InvalidAnswer("invalid_reason", _l(
                    "Line %(line)s: unknown rejection reason.", line=seq)) from exc
        quantity = _quantity_in_ordered_unit(lines.get(seq), item.get("acknowledgedQuantity"),
                                             seq)
        parts.setdefault(seq, []).append(AnswerPart(
            code, quantity,
            scheduled_ship_at=parse_time(item.get("scheduledShipDate"), "scheduledShipDate"),
            scheduled_delivery_at=parse_time(item.get("scheduledDeliveryDate"),
                                             "scheduledDeliveryDate"),
            rejection_reason=reason))
        if item.get("netCost") is not None:
            costs[seq] = _amount(item["netCost"], seq)
    return [LineAnswer(seq, tuple(p), costs.get(seq)) for seq, p in parts.items()]


def _amount(node, seq: str) -> Decimal:
    raw = node.get("amount") if isinstance(node, dict) else node
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAnswer("invalid_cost", _l("Line %(line)s: the net cost is not a number.",
                                               line=seq)) from exc
    if not value.is_finite():
        raise InvalidAnswer("invalid_cost", _l("Line %(line)s: the net cost is not a number.",
                                               line=seq))
    return value


def _quantity_in_ordered_unit(line, node, seq: str) -> int:
    """The quantity in the line's ordered unit (Eaches given for a Cases line are converted)."""
    if not isinstance(node, dict) or isinstance(node.get("amount"), bool) \
            or not isinstance(node.get("amount"), int):
        raise InvalidAnswer("invalid_quantity", _l(
            "Line %(line)s: acknowledgedQuantity needs a whole `amount`.", line=seq))
    amount = node["amount"]
    unit = node.get("unitOfMeasure") or (line.ordered_unit_of_measure if line else "Eaches")
    if line is None or unit == line.ordered_unit_of_measure:
        return amount
    size = line.ordered_unit_size or 1
    if unit == "Eaches" and amount % size == 0:
        return amount // size
    raise InvalidAnswer("invalid_quantity", _l(
        "Line %(line)s: answer in %(unit)s of %(size)s, as Amazon ordered.",
        line=seq, unit=line.ordered_unit_of_measure, size=size))


def items_from_answers(answers: list[LineAnswer]) -> list[dict]:
    """The Amazon-shaped items of answers (stored for dual control, echoed by the API)."""
    items = []
    for answer in answers:
        for part in answer.parts:
            item = {"itemSequenceNumber": answer.item_sequence_number,
                    "acknowledgementCode": part.code.value,
                    "acknowledgedQuantity": {"amount": part.quantity}}
            if part.scheduled_ship_at:
                item["scheduledShipDate"] = part.scheduled_ship_at.isoformat()
            if part.scheduled_delivery_at:
                item["scheduledDeliveryDate"] = part.scheduled_delivery_at.isoformat()
            if part.rejection_reason:
                item["rejectionReason"] = part.rejection_reason.value
            if answer.net_cost is not None:
                item["netCost"] = {"amount": str(answer.net_cost)}
            items.append(item)
    return items


def rejected_before(po: PurchaseOrder) -> set[str]:
    """Lines rejected earlier, by an answer Amazon took or per Amazon's own status."""
    seqs = {line.item_sequence_number for line in po.lines
            if (line.confirmation_status or "").upper() == "REJECTED"}
    rows = db.session.execute(
        select(AcknowledgementLine.purchase_order_line_id, AcknowledgementLine.quantity)
        .join(Acknowledgement)
        .where(Acknowledgement.purchase_order_id == po.id,
               Acknowledgement.state.in_([AckState.ACCEPTED.value, AckState.MISMATCH.value]),
               AcknowledgementLine.code == AckCode.REJECTED.value)).all()
    by_id = {line.id: line.item_sequence_number for line in po.lines}
    seqs |= {by_id[row.purchase_order_line_id] for row in rows if row.purchase_order_line_id
             in by_id}
    return seqs


def check_answers(po: PurchaseOrder, answers: list[LineAnswer], *, now: datetime | None = None,
                  expected_version: datetime | None = None) -> RuleCheck:
    """Check answers against Amazon's rules with this PO's history."""
    return check_acknowledgement(
        po, answers, now=now or utcnow(), rejected_before=rejected_before(po),
        expected_changed_at=expected_version,
        answer_in_flight=po.ack_state == AckState.PENDING.value)


def rejected_value(po: PurchaseOrder, answers: list[LineAnswer]) -> Decimal:
    """Net value of the units rejected (and of lines left out, which count as rejected)."""
    lines = {line.item_sequence_number: line for line in po.lines if not line.cancelled}
    value = Decimal(0)
    for seq, line in lines.items():
        answer = next((a for a in answers if a.item_sequence_number == seq), None)
        confirmed = sum(p.quantity for p in answer.parts if p.code != AckCode.REJECTED) \
            if answer else 0
        refused = max(line.ordered_quantity - confirmed, 0)
        value += extended_cost(line, refused) or Decimal(0)
    return value


def needs_second_manager(po: PurchaseOrder, answers: list[LineAnswer]) -> Decimal | None:
    """The rejected value when it is above the vendor's dual-control limit, else None."""
    vendor = db.session.get(Vendor, po.vendor_id)
    limit = vendor.dual_control_reject_above if vendor else None
    if limit is None:
        return None
    value = rejected_value(po, answers)
    return value if value > limit else None


def acknowledge_po(po: PurchaseOrder, answers: list[LineAnswer], *, user, now=None,
                   expected_version: datetime | None = None, risks_confirmed: bool = True,
                   actor: str | None = None, approved: AckApproval | None = None) -> AckOutcome:
    """Check and, if allowed, write the answer and queue it in the outbox (caller commits)."""
    now = now or utcnow()
    in_badge = inbox.in_badge(po)  # before the answer changes its state
    check = check_answers(po, answers, now=now, expected_version=expected_version)
    if not check.ok:
        return AckOutcome("refused", check)
    if check.risks and not risks_confirmed:
        return AckOutcome("confirm", check)
    value = needs_second_manager(po, answers) if approved is None else None
    if value is not None:
        approval = AckApproval(vendor_id=po.vendor_id, purchase_order_id=po.id,
                               answers=items_from_answers(answers), rejected_value=value,
                               currency=db.session.get(Vendor, po.vendor_id).currency,
                               requested_by_id=user.id if user else None)
        db.session.add(approval)
        db.session.flush()
        raise_event(po.vendor_id, "ack.approval", f"approval:{approval.id}",
                    purchase_order_id=po.id,
                    payload={"approval_id": approval.id, "value": str(value)})
        _audit("po.acknowledge.approval_requested", po, user, actor,
               {"approval_id": approval.id, "rejected_value": str(value)})
        return AckOutcome("approval", check, approval=approval)
    ack = Acknowledgement(vendor_id=po.vendor_id, purchase_order_id=po.id,
                          created_by_id=user.id if user else None, acknowledged_at=now,
                          state=AckState.PENDING.value)
    lines = {line.item_sequence_number: line for line in po.lines}
    for answer in answers:
        line = lines[answer.item_sequence_number]
        for part in answer.parts:
            ack.lines.append(AcknowledgementLine(
                purchase_order_line_id=line.id, code=part.code.value, quantity=part.quantity,
                unit_of_measure=line.ordered_unit_of_measure, unit_size=line.ordered_unit_size,
                scheduled_ship_at=part.scheduled_ship_at,
                scheduled_delivery_at=part.scheduled_delivery_at,
                rejection_reason=part.rejection_reason.value if part.rejection_reason else None,
                net_cost_amount=answer.net_cost,
                net_cost_currency=line.net_cost_currency if answer.net_cost is not None
                else None))
    db.session.add(ack)
    db.session.flush()
    message = outbox.queue_acknowledgement(ack, created_by_id=user.id if user else None)
    _audit("po.acknowledge", po, user, actor,
           {"acknowledgement_id": ack.id, "outbox_id": message.id,
            "lines": {a.item_sequence_number: [p.code.value for p in a.parts] for a in answers},
            "risks": [r.code for r in check.risks]})
    return AckOutcome("queued", check, acknowledgement=ack, to_send=[message.id],
                      answered_for_badge=po.vendor_id if in_badge else None)


def accept_all(po: PurchaseOrder, *, user, now=None, risks_confirmed: bool = False,
               actor: str | None = None) -> AckOutcome:
    """Accept every open line in full (the one-tap answer)."""
    return acknowledge_po(po, accept_all_as_ordered(po), user=user, now=now,
                          risks_confirmed=risks_confirmed, actor=actor)


def decide_approval(approval: AckApproval, *, user, approve: bool, now=None) -> AckOutcome | None:
    """A second manager approves (the answer is sent) or declines a dual-control request."""
    if approval.state != ApprovalState.WAITING.value:
        raise InvalidAnswer("approval_decided", _l("This request was already decided."))
    if user is not None and approval.requested_by_id == user.id:
        raise InvalidAnswer("same_manager", _l(
            "A second manager must approve; you asked for this one."))
    approval.decided_by_id = user.id if user else None
    approval.decided_at = now or utcnow()
    po = db.session.get(PurchaseOrder, approval.purchase_order_id)
    if not approve:
        approval.state = ApprovalState.DECLINED.value
        _audit("po.acknowledge.approval_declined", po, user, None, {"approval_id": approval.id})
        return None
    outcome = acknowledge_po(po, answers_from_items(po, approval.answers), user=user, now=now,
                             approved=approval)
    if outcome.status == "queued":
        approval.state = ApprovalState.APPROVED.value
        approval.acknowledgement_id = outcome.acknowledgement.id
        _audit("po.acknowledge.approved", po, user, None, {"approval_id": approval.id})
    return outcome


def after_commit(outcome: AckOutcome | None) -> None:
    """Ask a worker to send what was queued; Redis being down only delays it to the sweep.
    The answered PO leaves the Orders badge (no recount: webapp.orders.inbox.badge_answered)."""
    if outcome is not None and outcome.answered_for_badge is not None:
        inbox.badge_answered(outcome.answered_for_badge)
    for message_id in (outcome.to_send if outcome else []):
        try:
            outbox.request_send(message_id)
        except Exception:  # noqa: BLE001 - the outbox sweep sends it within a minute
            log.warning("could not enqueue outbox message %s; the sweep will send it",
                        message_id, exc_info=True)


def _audit(action: str, po: PurchaseOrder, user, actor: str | None, details: dict) -> None:
    audit(action, actor=actor or (user.email if user else "system"),
          actor_user_id=user.id if user else None, vendor_id=po.vendor_id,
          target_type="purchase_order", target_id=po.id, details=details)
