"""Service verbs: reading answers, history-aware rules, dual control, failures, the watchdog."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.amazon_fixtures import control, sandbox, vendor  # noqa: F401 - fixtures
from tests.auth_helpers import make_user, make_vendor, sign_in
from tests.orders_helpers import add_po
from webapp.amazon import outbox
from webapp.amazon.models import OutboxMessage, OutboxState
from webapp.amazon.sync_orders import sync_orders
from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders import services, watchdog
from webapp.orders.acknowledgement_rules import accept_all_as_ordered
from webapp.orders.models import Acknowledgement, AckState, PurchaseOrder


def _items(*parts):
    return [{"itemSequenceNumber": seq, "acknowledgementCode": code,
             "acknowledgedQuantity": {"amount": amount, "unitOfMeasure": unit},
             **extra} for seq, code, amount, unit, extra in parts]


def test_answers_convert_eaches_to_the_ordered_cases_and_refuse_bad_input(app):
    po = add_po(make_vendor().id)
    answers = services.answers_from_items(po, _items(("1", "Accepted", 120, "Eaches", {}),
                                                     ("2", "Accepted", 5, "Eaches", {})))
    assert answers[0].parts[0].quantity == 10  # 120 eaches = 10 cases of 12
    for bad, code in [
        (_items(("1", "Accepted", 7, "Eaches", {})), "invalid_quantity"),
        (_items(("1", "Maybe", 1, "Cases", {})), "invalid_code"),
        (_items(("1", "Rejected", 10, "Cases", {"rejectionReason": "Nope"})), "invalid_reason"),
        (_items(("1", "Backordered", 10, "Cases", {"scheduledShipDate": "soon"})),
         "invalid_date"),
        ("not a list", "invalid_body"),
    ]:
        with pytest.raises(services.InvalidAnswer) as caught:
            services.answers_from_items(po, bad)
        assert caught.value.code == code and caught.value.message


def test_split_answer_accept_some_backorder_the_rest(app):
    user, _ = make_user()
    po = add_po(user.vendor_id)
    ship = (po.ordered_at + timedelta(days=5)).isoformat()
    answers = services.answers_from_items(po, _items(
        ("1", "Accepted", 8, "Cases", {}),
        ("1", "Backordered", 2, "Cases", {"scheduledShipDate": ship}),
        ("2", "Accepted", 5, "Eaches", {})))
    outcome = services.acknowledge_po(po, answers, user=user, risks_confirmed=True)
    assert outcome.status == "queued", outcome.check.problems
    db.session.commit()
    payload = db.session.get(OutboxMessage, outcome.to_send[0]).payload
    codes = [a["acknowledgementCode"]
             for a in payload["acknowledgements"][0]["items"][0]["itemAcknowledgements"]]
    assert codes == ["Accepted", "Backordered"]


def test_rules_use_the_po_history_rejected_before_changed_and_in_flight(app):
    user, _ = make_user()
    po = add_po(user.vendor_id)
    rejected = services.answers_from_items(po, _items(
        ("1", "Rejected", 10, "Cases", {"rejectionReason": "ObsoleteProduct"}),
        ("2", "Accepted", 5, "Eaches", {})))
    outcome = services.acknowledge_po(po, rejected, user=user, risks_confirmed=True)
    db.session.commit()
    # While it is on its way, another answer is refused with the plain message.
    check = services.check_answers(po, accept_all_as_ordered(po))
    assert [p.code for p in check.problems] == ["answer_in_flight"]
    assert "already on its way" in check.problems[0].message
    # Amazon took it: the rejected line can never be accepted later.
    outcome.acknowledgement.state = po.ack_state = AckState.ACCEPTED.value
    db.session.commit()
    check = services.check_answers(po, accept_all_as_ordered(po))
    assert [p.code for p in check.problems] == ["rejected_before"]
    assert "never lets a rejected line be accepted later" in check.problems[0].message
    # An answer made against an older version of the PO (offline) is refused.
    po.amazon_changed_at = po.ordered_at + timedelta(hours=1)
    check = services.check_answers(po, services.answers_from_items(po, _items(
        ("1", "Rejected", 10, "Cases", {"rejectionReason": "ObsoleteProduct"}),
        ("2", "Accepted", 5, "Eaches", {}))), expected_version=po.ordered_at)
    assert [p.code for p in check.problems] == ["po_changed"]
    assert "Amazon changed this purchase order" in check.problems[0].message


def test_dual_control_needs_a_second_manager_for_large_rejections(app):
    first, _ = make_user(role="manager")
    second, _ = make_user(first.vendor, role="manager")
    first.vendor.dual_control_reject_above = Decimal("100")
    po = add_po(first.vendor_id)
    reject = services.answers_from_items(po, _items(
        ("1", "Rejected", 10, "Cases", {"rejectionReason": "TemporarilyUnavailable"}),
        ("2", "Accepted", 5, "Eaches", {})))
    outcome = services.acknowledge_po(po, reject, user=first, risks_confirmed=True)
    assert outcome.status == "approval"
    assert outcome.approval.rejected_value == Decimal("1260.00")  # 120 eaches x 10.50
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    with pytest.raises(services.InvalidAnswer, match="second manager"):
        services.decide_approval(outcome.approval, user=first, approve=True)
    done = services.decide_approval(outcome.approval, user=second, approve=True)
    db.session.commit()
    assert done.status == "queued" and outcome.approval.state == "approved"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    # Small rejections go straight out.
    po2 = add_po(first.vendor_id, "SMALL001")
    small = services.answers_from_items(po2, _items(
        ("1", "Accepted", 10, "Cases", {}),
        ("2", "Rejected", 5, "Eaches", {"rejectionReason": "ObsoleteProduct"})))
    assert services.acknowledge_po(po2, small, user=first, risks_confirmed=True).status == \
        "queued"


def test_a_failure_is_shown_on_the_po_and_raised_as_an_event(app, client):
    user = sign_in(client)
    po = add_po(user.vendor_id)
    outcome = services.accept_all(po, user=user)
    db.session.commit()
    message = db.session.get(OutboxMessage, outcome.to_send[0])
    outbox._finish(message, OutboxState.FAILED,
                   errors=[{"code": "InvalidInput", "message": "Net cost does not match"}],
                   error="Amazon reported the transaction failed")
    html = client.get(f"/orders/{po.po_number}").get_data(as_text=True)
    assert "Amazon refused the answer." in html and "Net cost does not match" in html
    assert 'data-ack-state="failed"' in html
    assert db.session.scalar(select(Event.kind).where(Event.purchase_order_id == po.id)) == \
        "acknowledgement.failed"
    # The API says the same.
    body = client.get(f"/api/v1/purchase-orders/{po.po_number}/acknowledgement").get_json()
    assert body["acknowledgementState"] == "failed"
    assert body["latest"]["errors"][0]["message"] == "Net cost does not match"


def test_watchdog_confirms_amazons_view_and_flags_a_mismatch(app, sandbox, vendor):
    user, _ = make_user(vendor)
    control(sandbox, "purchase-orders", {"count": 2, "days_back": 0.5, "lines_per_po": 2})
    sync_orders(vendor.id, now=sandbox.store.now())
    good, bad = db.session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)).all()
    for po in (good, bad):
        outcome = services.accept_all(po, user=user, risks_confirmed=True)
        db.session.commit()
        assert outbox.send_message(outcome.to_send[0]) == "succeeded"
    acks = {a.purchase_order_id: a for a in db.session.scalars(select(Acknowledgement))}
    assert watchdog.verify_acknowledgement(acks[good.id].id) == "accepted"
    # Pretend ACORN sent one unit less than Amazon recorded: the watchdog must notice.
    acks[bad.id].lines[0].quantity -= 1
    db.session.commit()
    assert watchdog.verify_acknowledgement(acks[bad.id].id) == "mismatch"
    db.session.refresh(bad)
    assert bad.ack_state == "mismatch"
    event = db.session.scalar(select(Event).where(Event.kind == "ack.mismatch"))
    assert event.purchase_order_id == bad.id and event.payload["lines"][0]["line"] == "1"
    assert watchdog.verify_acknowledgement(acks[bad.id].id) == "mismatch"  # idempotent
    assert db.session.scalar(select(func.count()).select_from(Event).where(
        Event.kind == "ack.mismatch")) == 1
