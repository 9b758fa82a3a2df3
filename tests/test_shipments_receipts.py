"""Receipts settle shipments where they arrive: receiving, received, discrepancy and its push."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.amazon_fixtures import control, sandbox, vendor  # noqa: F401 - fixtures
from tests.auth_helpers import make_vendor, sign_in
from tests.shipments_helpers import acknowledged_po, plan, sandbox_acknowledged_po, with_prefix
from webapp.amazon import outbox
from webapp.amazon.sync_status import sync_status
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.extensions import db
from webapp.push.kinds import CATEGORIES, EVENT_CATEGORIES
from webapp.shipments import asn, receipts
from webapp.shipments.models import Shipment
from worker.shipment_jobs import check_shipments


def _units(line) -> int:
    size = line.ordered_unit_size or 1
    return line.accepted_eaches // size if line.ordered_unit_of_measure == "Cases" \
        else line.accepted_eaches


def _shortages() -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == "shipment.shortage")))


def test_short_while_receiving_then_grace_makes_a_discrepancy_once(app, sandbox, vendor):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor, lines=2)
    first = po.lines[0]
    # Only the first line ships: Amazon still expects the rest, so the PO stays open.
    shipment = plan(vendor, [po], {first: _units(first)},
                    estimated_delivery_at=utcnow() + timedelta(days=1))
    message = asn.submit_asn(shipment)
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    control(sandbox, "receipts", {"shipment_identifier": shipment.shipment_identifier,
                                  "short": {f"{po.po_number}:{first.item_sequence_number}": 1}})
    sync_status(vendor.id, now=sandbox.store.now())
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == "receiving"  # short so far, but Amazon is not done
    assert _shortages() == []
    closes = receipts.receiving_closes_at(shipment)
    assert closes >= shipment.estimated_delivery_at + timedelta(days=7)
    assert receipts.settle_all(vendor.id, now=closes - timedelta(minutes=1)) == 0
    assert receipts.settle_all(vendor.id, now=closes + timedelta(minutes=1)) == 1
    assert shipment.status == "discrepancy"
    [event] = _shortages()
    assert event.payload["shipment_id"] == shipment.id and event.payload["short_eaches"] == 1
    assert event.purchase_order_id == po.id
    assert CATEGORIES[EVENT_CATEGORIES["shipment.shortage"]].name == "shipment_shortage"
    # Judged again (periodic job, next sync): still one event.
    assert receipts.settle_all(vendor.id, now=closes + timedelta(days=1)) == 0
    shipment.status = "receiving"
    receipts.settle_receipts(shipment, now=closes + timedelta(days=2))
    db.session.commit()
    assert len(_shortages()) == 1


def test_closed_po_judges_at_once_and_full_receipt_is_received(app):
    v = with_prefix(make_vendor("Dock Foods"))
    po = acknowledged_po(v.id)
    cases, eaches = po.lines
    shipment = plan(v, [po], {cases: 10, eaches: 5})
    shipment.status = "submitted"
    db.session.commit()
    assert receipts.settle_all(v.id) == 0  # nothing received: still submitted
    now = utcnow()
    cases.received_eaches, cases.last_received_at = 120, now
    eaches.received_eaches, eaches.last_received_at = 3, now
    db.session.commit()
    assert receipts.settle_all(v.id) == 1 and shipment.status == "receiving"
    po.state = "Closed"  # Amazon closed the PO: receiving is over, 2 eaches short
    db.session.commit()
    assert receipts.settle_all(v.id) == 1 and shipment.status == "discrepancy"
    assert len(_shortages()) == 1
    eaches.received_eaches = 5  # a late receipt closes the gap
    db.session.commit()
    assert receipts.settle_all(v.id) == 1 and shipment.status == "received"


def test_each_new_unit_extends_the_grace_and_the_periodic_job_judges(app):
    v = with_prefix(make_vendor("Slow Foods"))
    po = acknowledged_po(v.id)
    cases = po.lines[0]
    start = utcnow() - timedelta(days=20)
    shipment = plan(v, [po], {cases: 5}, shipped_at=start,
                    estimated_delivery_at=start + timedelta(days=2))
    shipment.status = "submitted"
    cases.received_eaches, cases.last_received_at = 24, utcnow() - timedelta(days=3)
    db.session.commit()
    # Delivery was 18 days ago, but units came 3 days ago: Amazon is still receiving.
    assert check_shipments()["settled"] == 1
    assert shipment.status == "receiving"
    cases.last_received_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert check_shipments()["settled"] == 1
    assert shipment.status == "discrepancy" and len(_shortages()) == 1


def test_the_page_only_reads_and_shows_units_so_far(app, client):
    user = sign_in(client, role="viewer")
    vendor = with_prefix(user.vendor)
    po = acknowledged_po(vendor.id)
    cases = po.lines[0]
    shipment = plan(vendor, [po], {cases: 5})
    shipment.status = "submitted"
    cases.received_eaches, cases.last_received_at = 36, utcnow()
    db.session.commit()
    page = client.get(f"/shipments/{shipment.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status == "submitted"  # GET wrote nothing
    assert 'data-receiving' not in page
    receipts.settle_all(vendor.id)
    page = client.get(f"/shipments/{shipment.id}").get_data(as_text=True)
    assert 'data-shipment-status="receiving"' in page and "data-receiving" in page
    assert "36" in page and "data-shortage" not in page
