"""The ASN: Amazon's model, the outbox and a real worker to the sandbox, receipts and reminders."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from tests.amazon_fixtures import (  # noqa: F401 - fixtures
    control,
    sandbox,
    start_worker,
    vendor,
    worker_env,
)
from tests.auth_helpers import make_vendor
from tests.shipments_helpers import acknowledged_po, plan, sandbox_acknowledged_po, with_prefix
from webapp.amazon import outbox, schemas
from webapp.amazon.models import OutboxMessage
from webapp.amazon.sync_status import sync_status
from webapp.audit.models import AuditEntry
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.extensions import db
from webapp.push.kinds import CATEGORIES, EVENT_CATEGORIES
from webapp.shipments import asn, correction, loading, plans, receipts
from webapp.shipments.dispute import dispute_pack
from webapp.shipments.models import Shipment
from webapp.shipments.plans import PlanError

MODEL = ("vendorShipments.json", "/vendor/shipping/v1/shipmentConfirmations", "post")


def _validate(body: dict) -> None:
    schemas.validate_request_body(*MODEL, body)


def _whole(shipment_po) -> dict:
    return {line: line.accepted_eaches // (line.ordered_unit_size or 1)
            if line.ordered_unit_of_measure == "Cases" else line.accepted_eaches
            for line in shipment_po.lines}


def test_body_validates_with_cartons_pallets_and_sums(app):
    v = with_prefix(make_vendor("Body Foods"))
    po = acknowledged_po(v.id)
    cases, eaches = po.lines
    shipment = plan(v, [po], {cases: 10, eaches: 5}, per={eaches: 5}, pallets=2)
    for b in shipment.cartons:
        b.weight_value, b.weight_unit = 4, "Kg"
    body = asn.build_confirmation(shipment)
    _validate(body)
    c = body["shipmentConfirmations"][0]
    assert c["shipmentIdentifier"] == shipment.shipment_identifier
    assert c["shipmentConfirmationType"] == "Original"
    assert c["shipmentStructure"] == "PalletizedStandardCase"
    assert c["shippedItems"][0]["shippedQuantity"] == {"amount": 10, "unitOfMeasure": "Cases",
                                                      "unitSize": 12}
    assert c["shippedItems"][0]["itemDetails"]["purchaseOrderNumber"] == po.po_number
    assert [x["cartonIdentifiers"][0]["containerIdentificationNumber"] for x in c["cartons"]] \
        == [b.sscc for b in shipment.cartons]
    per_item = {}
    for carton in c["cartons"]:
        for item in carton["items"]:
            per_item[item["itemReference"]] = per_item.get(item["itemReference"], 0) + \
                item["shippedQuantity"]["amount"]
    assert per_item == {"001": 10, "002": 5}
    assert len(c["pallets"]) == 2 and c["shipmentMeasurements"]["palletCount"] == 2
    assert c["shipmentMeasurements"]["grossShipmentWeight"] == {"unitOfMeasure": "Kg",
                                                                 "value": "44.00"}
    other = acknowledged_po(v.id, "MIXED001")
    mixed = asn.build_confirmation(plan(v, [other], {other.lines[0]: 2, other.lines[1]: 5},
                                        mode="mixed", mixed_cartons=2))
    _validate(mixed)
    assert mixed["shipmentConfirmations"][0]["shipmentStructure"] == "LooseAssortmentCase"
    assert mixed["shipmentConfirmations"][0]["shipmentMeasurements"] == {"cartonCount": 2}


def test_submitted_through_a_real_worker_received_once(app, sandbox, vendor, test_config,
                                                        tmp_path):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor)
    shipment = plan(vendor, [po], _whole(po), pallets=1)
    message = asn.submit_asn(shipment)
    db.session.commit()
    assert shipment.status == "pending"
    outbox.request_send(message.id)
    worker = start_worker(worker_env(test_config, sandbox, tmp_path), "outbox", burst=True)
    assert worker.wait(timeout=120) == 0
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert db.session.get(OutboxMessage, message.id).state == "succeeded"
    assert shipment.status == "submitted"
    counts = control(sandbox, "submissions?kind=shipment_confirmation", method="GET")["counts"]
    assert counts == {shipment.shipment_identifier: 1}
    recorded = control(sandbox, "shipments", method="GET")["shipments"]
    assert [s["identifier"] for s in recorded] == [shipment.shipment_identifier]
    # Amazon keeps each ASN once: the same Original again is refused.
    again = outbox.submit_to_amazon(vendor.id, "shipment_confirmation", shipment.id,
                                    message.payload, idempotency_key="asn:again")
    db.session.commit()
    assert outbox.send_message(again.id) == "failed"
    assert again.errors[0]["code"] == "DuplicateShipmentIdentifier"
    assert len(control(sandbox, "shipments", method="GET")["shipments"]) == 1


def test_failure_marks_the_shipment_failed_and_raises_a_push_event(app, sandbox, vendor):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor)
    # Ours says more was accepted than Amazon has: Amazon refuses the ASN.
    line = po.lines[0]
    line.accepted_eaches += 5 * (line.ordered_unit_size or 1)
    db.session.commit()
    shipment = plan(vendor, [po], {line: line.accepted_eaches // (line.ordered_unit_size or 1)
                                   if line.ordered_unit_of_measure == "Cases"
                                   else line.accepted_eaches})
    message = asn.submit_asn(shipment)
    db.session.commit()
    assert outbox.send_message(message.id) == "failed"
    db.session.refresh(shipment)
    assert shipment.status == "failed"
    assert db.session.get(OutboxMessage, message.id).errors[0]["code"] == \
        "QuantityExceedsAccepted"
    event = db.session.scalar(select(Event).where(Event.kind == "shipment.failed"))
    assert event is not None and event.purchase_order_id == po.id
    assert EVENT_CATEGORIES["shipment.failed"] == "submission_failed"
    # A failed shipment may be fixed and sent again, as a new outbox message.
    assert shipment.editable


def test_short_receipt_shows_the_gap_and_the_dispute_pack(app, sandbox, vendor):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor)
    shipment = plan(vendor, [po], _whole(po))
    message = asn.submit_asn(shipment)
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    lost = shipment.cartons[0]
    lost_eaches = lost.contents[0].eaches
    lost_line = lost.contents[0].item.line
    control(sandbox, "receipts", {"shipment_identifier": shipment.shipment_identifier,
                                  "missing_cartons": [lost.sscc]})
    # The whole PO was on this ASN: once received Amazon closes it, so the shortage is final
    # as soon as the status sync stores it (no page visit needed).
    sync_status(vendor.id, now=sandbox.store.now())
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == "discrepancy"
    gaps = {g.item.line.id: g for g in receipts.item_gaps(shipment)}
    assert gaps[lost_line.id].gap == lost_eaches
    assert all(g.gap == 0 for line_id, g in gaps.items() if line_id != lost_line.id)
    pack = pdfium.PdfDocument(dispute_pack(shipment))
    try:  # the summary page, then one 4x6 label page per carton
        assert len(pack) == 1 + len(shipment.cartons)
        text = pack[0].get_textpage().get_text_range()
        assert shipment.shipment_identifier in text and f"short {lost_eaches}" in text
    finally:
        pack.close()


def test_full_receipt_settles_as_received(app, sandbox, vendor):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor, lines=1)
    shipment = plan(vendor, [po], _whole(po))
    message = asn.submit_asn(shipment)
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    control(sandbox, "receipts", {"shipment_identifier": shipment.shipment_identifier})
    sync_status(vendor.id, now=sandbox.store.now())  # settles where the receipts land
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status == "received"
    assert receipts.settle_all(vendor.id) == 0


def test_loading_check_blocks_the_asn_until_resolved_or_shipped_without(app):
    v = with_prefix(make_vendor("Load Foods"))
    po = acknowledged_po(v.id)
    cases, eaches = po.lines
    shipment = plan(v, [po], {cases: 3, eaches: 5})  # 3 carton of cases + 1 of eaches
    assert loading.record_scan(shipment, f"(00){shipment.cartons[0].sscc}") == \
        ("carton", shipment.cartons[0].sscc)
    assert loading.record_scan(shipment, shipment.cartons[0].sscc)[0] == "repeat"
    with pytest.raises(PlanError, match="not scanned"):
        asn.submit_asn(shipment)
    db.session.rollback()
    shipment = db.session.get(Shipment, shipment.id)
    with pytest.raises(PlanError, match="not a valid SSCC"):
        loading.record_scan(shipment, shipment.cartons[1].sscc[:17] + "x")
    loading.record_scan(shipment, shipment.cartons[0].sscc)
    message = asn.submit_asn(shipment, ship_without=True)
    body = message.payload["shipmentConfirmations"][0]
    assert len(body["cartons"]) == 1
    assert body["shippedItems"] == [{**body["shippedItems"][0],
                                     "shippedQuantity": {"amount": 1, "unitOfMeasure": "Cases",
                                                         "unitSize": 12}}]
    assert [i.shipped_eaches for i in shipment.items] == [12, 0]
    _validate(message.payload)


def test_extra_cartons_block_the_asn(app):
    v = with_prefix(make_vendor("Extra Foods"))
    a, b = acknowledged_po(v.id, "EXTRAA01"), acknowledged_po(v.id, "EXTRAB01")
    mine = plan(v, [a], {a.lines[1]: 5})
    theirs = plan(v, [b], {b.lines[1]: 5})
    assert loading.record_scan(mine, theirs.cartons[0].sscc)[0] == "extra"
    with pytest.raises(PlanError, match="Extra cartons"):
        asn.submit_asn(mine)
    db.session.rollback()
    mine = db.session.get(Shipment, mine.id)
    loading.clear_extras(mine)
    loading.record_scan(mine, mine.cartons[0].sscc)
    assert asn.submit_asn(mine).state == "pending"


def test_overdue_asn_reminder_once_per_shipment(app):
    v = with_prefix(make_vendor("Late Foods"))
    po = acknowledged_po(v.id)
    late = plan(v, [po], {po.lines[1]: 2}, shipped_at=utcnow() - timedelta(hours=2))
    plan(v, [po], {po.lines[1]: 1}, shipped_at=utcnow() + timedelta(hours=5))  # not yet
    sent = plan(v, [po], {po.lines[1]: 2}, shipped_at=utcnow() - timedelta(hours=3))
    sent.status = "submitted"
    db.session.commit()
    assert asn.raise_overdue_reminders() == 1
    assert asn.raise_overdue_reminders() == 0  # deduplicated
    [event] = db.session.scalars(select(Event).where(Event.kind == "shipment.asn_overdue"))
    assert event.payload["shipment_id"] == late.id and event.purchase_order_id == po.id
    category = CATEGORIES[EVENT_CATEGORIES["shipment.asn_overdue"]]
    assert category.urgency == "high" and category.ignores_quiet_hours


def _send_through_worker(message_id, test_config, sandbox, tmp_path) -> None:
    outbox.request_send(message_id)
    worker = start_worker(worker_env(test_config, sandbox, tmp_path), "outbox", burst=True)
    assert worker.wait(timeout=120) == 0
    db.session.expire_all()


def test_correct_asn_sends_a_replace_through_a_real_worker(app, sandbox, vendor, test_config,
                                                           tmp_path):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor)
    shipment = plan(vendor, [po], _whole(po))
    first = asn.submit_asn(shipment)
    db.session.commit()
    _send_through_worker(first.id, test_config, sandbox, tmp_path)
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == "submitted" and correction.refusal(shipment) is None
    dropped = shipment.cartons[-1]
    edits = [correction.CartonEdit(c.id, on_truck=c.id != dropped.id) for c in shipment.cartons]
    transport = plans.Transport(carrier_scac="UPSN", bill_of_lading="BOL-9",
                                tracking_number="PRO-42", transport_mode="Road")
    replace = correction.correct_asn(shipment, edits, transport, actor="tester")
    db.session.commit()
    assert replace.id != first.id and replace.idempotency_key != first.idempotency_key
    assert shipment.status == "pending" and shipment.outbox_id == replace.id
    body = replace.payload["shipmentConfirmations"][0]
    _validate(replace.payload)
    assert body["shipmentConfirmationType"] == "Replace"
    assert body["shipmentIdentifier"] == shipment.shipment_identifier
    assert dropped.sscc not in {c["cartonIdentifiers"][0]["containerIdentificationNumber"]
                                for c in body["cartons"]}
    _send_through_worker(replace.id, test_config, sandbox, tmp_path)
    shipment = db.session.get(Shipment, shipment.id)
    assert db.session.get(OutboxMessage, replace.id).state == "succeeded"
    assert shipment.status == "submitted" and shipment.tracking_number == "PRO-42"
    [kept] = control(sandbox, "shipments", method="GET")["shipments"]
    assert kept["version"] == 2 and kept["type"] == "Replace"
    assert sum(line["eaches"] for line in kept["lines"]) == \
        sum(i.shipped_eaches for i in shipment.items)
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "shipment.asn_replace"))
    assert entry.details["version"] == 2 and dropped.sscc in entry.details["before"]["cartons"]
    assert dropped.sscc not in entry.details["after"]["cartons"]
    # The old Original's outcome no longer speaks for the shipment.
    outbox._record_on_subject(db.session.get(OutboxMessage, first.id), False)
    assert shipment.status == "submitted"
    db.session.rollback()
    # Amazon refuses a Replace for an identifier it does not hold.
    unknown = {"shipmentConfirmations": [{**body, "shipmentIdentifier": "ACN0000000000"}]}
    stray = outbox.submit_to_amazon(vendor.id, "shipment_confirmation", shipment.id, unknown,
                                    idempotency_key="asn:stray")
    db.session.commit()
    assert outbox.send_message(stray.id) == "failed"
    assert stray.errors[0]["code"] == "ShipmentNotFound"
    # Once the warehouse receives it, the ASN is final: no screen offers it, Amazon refuses.
    control(sandbox, "receipts", {"shipment_identifier": shipment.shipment_identifier})
    sync_status(vendor.id, now=sandbox.store.now())
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == "received" and correction.refusal(shipment) is not None
    with pytest.raises(PlanError):
        correction.correct_asn(shipment, [], transport)
    db.session.rollback()
    late = outbox.submit_to_amazon(vendor.id, "shipment_confirmation", shipment.id,
                                   replace.payload, idempotency_key="asn:late")
    db.session.commit()
    assert outbox.send_message(late.id) == "failed"
    assert late.errors[0]["code"] == "ShipmentAlreadyReceived"


def test_correction_keeps_the_plan_limits_and_a_failed_replace_is_not_overdue(app):
    v = with_prefix(make_vendor("Fix Foods"))
    po = acknowledged_po(v.id)
    cases, eaches = po.lines
    shipment = plan(v, [po], {cases: 8, eaches: 5}, per={eaches: 5},
                    shipped_at=utcnow() - timedelta(hours=3))
    assert correction.refusal(shipment) is not None  # a draft is edited, not corrected
    shipment.status = "submitted"
    db.session.commit()
    transport = plans.Transport(carrier_scac="ABFS", bill_of_lading="BOL-1")
    case_carton = shipment.cartons[0]
    content = case_carton.contents[0]
    too_many = [correction.CartonEdit(case_carton.id, quantities={content.id: 4})]
    with pytest.raises(PlanError, match="still to ship"):  # 7 other + 4 > 10 accepted
        correction.correct_asn(shipment, too_many, transport)
    db.session.rollback()
    empty = [correction.CartonEdit(case_carton.id, quantities={content.id: 0})]
    with pytest.raises(PlanError, match="empty"):
        correction.correct_asn(shipment, empty, transport)
    db.session.rollback()
    with pytest.raises(PlanError, match="bill of lading"):
        correction.correct_asn(shipment, [], plans.Transport(carrier_scac="ABFS"))
    db.session.rollback()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == "submitted" and shipment.confirmation_type == "Original"
    more = [correction.CartonEdit(case_carton.id, quantities={content.id: 2})]
    message = correction.correct_asn(shipment, more, transport)
    db.session.commit()
    assert {i.line.id: i.quantity for i in shipment.items} == {cases.id: 9, eaches.id: 5}
    assert message.payload["shipmentConfirmations"][0]["shippedItems"][0][
        "shippedQuantity"]["amount"] == 9
    # Amazon refused the Replace: it still holds the Original, so no "ASN overdue" reminder,
    # and the shipment cannot be cancelled locally.
    outbox._finish(message, outbox.OutboxState.FAILED, errors=[{"code": "X"}])
    assert shipment.status == "failed" and correction.refusal(shipment) is None
    assert asn.raise_overdue_reminders() == 0
    with pytest.raises(PlanError):
        plans.cancel(shipment)
