"""The outbox against the sandbox over HTTP: sent once, results recorded, no double submission."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.amazon_fixtures import (  # noqa: F401 - fixtures
    control,
    kill_tree,
    sandbox,
    start_worker,
    vendor,
    worker_env,
)
from webapp.amazon import outbox, schemas
from webapp.amazon.ack_payload import build_acknowledgement_payload
from webapp.amazon.models import OutboxMessage, OutboxState
from webapp.amazon.sync_orders import sync_orders
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders.models import Acknowledgement, AcknowledgementLine, PurchaseOrder
from worker.queues import enqueue


def make_acknowledgement(po: PurchaseOrder, code: str = "Accepted", extra: int = 0
                         ) -> Acknowledgement:
    """Answer every live line of `po` with `code` for the full quantity (plus `extra`)."""
    ack = Acknowledgement(vendor_id=po.vendor_id, purchase_order_id=po.id,
                          acknowledged_at=utcnow())
    for line in po.lines:
        if line.cancelled:
            continue
        ack.lines.append(AcknowledgementLine(
            purchase_order_line=line, code=code, quantity=line.ordered_quantity + extra,
            unit_of_measure=line.ordered_unit_of_measure, unit_size=line.ordered_unit_size,
            scheduled_ship_at=po.ship_window_start, scheduled_delivery_at=po.delivery_window_end,
            net_cost_amount=line.net_cost_amount, net_cost_currency=line.net_cost_currency))
    db.session.add(ack)
    db.session.flush()
    return ack


def synced_pos(sandbox, vendor, count: int = 3, **options) -> list[PurchaseOrder]:
    control(sandbox, "purchase-orders", {"count": count, "days_back": 0.5, **options})
    sync_orders(vendor.id, now=sandbox.store.now())
    return list(db.session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)))


def submissions(sandbox, number: str) -> int:
    return control(sandbox, "submissions?kind=acknowledgement", method="GET")["counts"].get(
        number, 0)


def test_acknowledgement_payload_matches_the_model(app, sandbox, vendor):
    po = synced_pos(sandbox, vendor, 1)[0]
    payload = build_acknowledgement_payload(make_acknowledgement(po))
    schemas.validate_request_body("vendorOrders.json", "/vendor/orders/v1/acknowledgements",
                                  "post", payload)
    item = payload["acknowledgements"][0]["items"][0]
    assert item["itemAcknowledgements"][0]["acknowledgedQuantity"]["amount"] == \
        po.lines[0].ordered_quantity
    assert isinstance(item["netCost"]["amount"], str)


def test_sent_once_polled_to_success_and_recorded_on_the_po(app, sandbox, vendor):
    po = synced_pos(sandbox, vendor, 1)[0]
    ack = make_acknowledgement(po)
    message = outbox.queue_acknowledgement(ack)
    # Same idempotency key (a replayed offline POST): the same message, not a second one.
    assert outbox.submit_to_amazon(vendor.id, "acknowledgement", ack.id, message.payload,
                                   idempotency_key=f"ack:{ack.id}").id == message.id
    db.session.commit()
    assert po.ack_state == "pending"
    assert outbox.send_message(message.id) == OutboxState.SUCCEEDED.value
    assert outbox.send_message(message.id) == OutboxState.SUCCEEDED.value  # no resend
    db.session.refresh(po)
    assert po.ack_state == "accepted" and ack.state == "accepted"
    assert submissions(sandbox, po.po_number) == 1
    assert db.session.get(OutboxMessage, message.id).transaction_id


def test_failure_is_recorded_on_the_po_and_raised_as_event(app, sandbox, vendor):
    po = synced_pos(sandbox, vendor, 1)[0]
    message = outbox.queue_acknowledgement(make_acknowledgement(po, extra=5))
    db.session.commit()
    assert outbox.send_message(message.id) == OutboxState.FAILED.value
    db.session.refresh(po)
    assert po.ack_state == "failed"
    message = db.session.get(OutboxMessage, message.id)
    assert message.errors and message.errors[0]["code"] == "QuantityExceedsOrdered"
    events = db.session.scalars(select(Event).where(Event.kind == "acknowledgement.failed")).all()
    assert len(events) == 1 and events[0].purchase_order_id == po.id


def test_invalid_body_is_refused_before_it_is_queued(app, sandbox, vendor):
    with pytest.raises(schemas.SchemaError):
        outbox.submit_to_amazon(vendor.id, "acknowledgement", 1,
                                {"acknowledgements": [{"purchaseOrderNumber": "X"}]},
                                idempotency_key="bad")
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_only_one_worker_can_claim_a_message(app, sandbox, vendor):
    po = synced_pos(sandbox, vendor, 1)[0]
    message = outbox.queue_acknowledgement(make_acknowledgement(po))
    db.session.commit()
    assert outbox.claim(message.id) is True
    assert outbox.claim(message.id) is False


def test_sender_dead_before_post_is_unknown_until_a_user_retries(app, sandbox, vendor):
    po = synced_pos(sandbox, vendor, 1)[0]
    message = outbox.queue_acknowledgement(make_acknowledgement(po))
    db.session.commit()
    assert outbox.claim(message.id)  # ...and the worker dies here
    found = outbox.sweep(now=utcnow() + outbox.SENDING_LEASE + timedelta(seconds=1))
    assert found["stale"] == 1 and found["unknown"] == [message.id]
    assert outbox.send_message(message.id) == "unknown"  # never resent blindly
    assert outbox.resolve_unknown(message.id) == "unknown"  # Amazon still shows it New
    assert submissions(sandbox, po.po_number) == 0
    assert db.session.scalar(select(Event.id).where(Event.kind == "outbox.unknown"))
    outbox.retry_message(message.id, user_id=None, actor="ops@demo-foods.example")
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    assert submissions(sandbox, po.po_number) == 1


@pytest.mark.slow
def test_sender_killed_mid_post_is_never_submitted_twice(app, sandbox, vendor, test_config,
                                                         tmp_path):
    po = synced_pos(sandbox, vendor, 1)[0]
    message = outbox.queue_acknowledgement(make_acknowledgement(po))
    db.session.commit()
    control(sandbox, "faults", {"slow_share": 1.0, "slow_seconds": 1.5})
    enqueue("outbox", "worker.jobs.send_outbox_message", message.id)
    worker = start_worker(worker_env(test_config, sandbox, tmp_path), "outbox", burst=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        stats = control(sandbox, "stats", method="GET")["requests"]
        if stats.get("submitAcknowledgement"):
            break
        time.sleep(0.05)
    kill_tree(worker.pid)  # the POST is in flight: Amazon will get it, we never hear back
    worker.wait()
    control(sandbox, "faults", {"slow_share": 0})
    time.sleep(2)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).state == "sending"
    outbox.sweep(now=utcnow() + outbox.SENDING_LEASE + timedelta(seconds=1))
    assert db.session.get(OutboxMessage, message.id).state == "unknown"
    assert outbox.send_message(message.id) == "unknown"
    # Amazon's own view settles it: the PO is acknowledged, so ours arrived.
    assert outbox.resolve_unknown(message.id) == "succeeded"
    db.session.refresh(po)
    assert po.ack_state == "accepted"
    assert submissions(sandbox, po.po_number) == 1


def test_invoice_goes_through_the_same_outbox(app, sandbox, vendor):
    from webapp.invoices.models import Invoice

    po = synced_pos(sandbox, vendor, 1)[0]
    invoice = Invoice(vendor_id=vendor.id, purchase_order_id=po.id, invoice_number="INV-1",
                      currency="USD", status="pending")
    db.session.add(invoice)
    db.session.flush()
    payload = {"invoices": [{
        "invoiceType": "Invoice", "id": "INV-1", "date": "2026-11-20T12:00:00Z",
        "remitToParty": {"partyId": "DEMO1"}, "billToParty": {"partyId": "AMZN_US"},
        "invoiceTotal": {"currencyCode": "USD", "amount": "112.05"},
        "items": [{"itemSequenceNumber": 1, "invoicedQuantity": {"amount": 1,
                   "unitOfMeasure": "Eaches"}, "netCost": {"currencyCode": "USD",
                                                           "amount": "112.05"},
                   "purchaseOrderNumber": po.po_number}]}]}
    message = outbox.submit_to_amazon(vendor.id, "invoice", invoice.id, payload,
                                      idempotency_key="invoice:INV-1")
    invoice.outbox_id = message.id
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    db.session.refresh(invoice)
    assert invoice.status == "accepted"
    counts = control(sandbox, "submissions?kind=invoice", method="GET")["counts"]
    assert counts == {"INV-1": 1}
