"""Ship plans: quantity limits in Amazon's units, packing into cartons and pallets, SSCCs."""

from __future__ import annotations

import pytest

from tests.auth_helpers import make_vendor
from tests.orders_helpers import add_po
from tests.shipments_helpers import acknowledged_po, plan, with_prefix
from webapp.extensions import db
from webapp.orders.models import Acknowledgement, AcknowledgementLine
from webapp.shipments import plans
from webapp.shipments.plans import PlanError
from webapp.shipments.sscc import is_valid_sscc


@pytest.fixture
def vendor(app):
    return with_prefix(make_vendor("Plan Foods"))


def test_room_is_accepted_minus_other_shipments_in_the_line_unit(app, vendor):
    po = acknowledged_po(vendor.id, accepted=(120, 5))
    cases, eaches = po.lines
    rooms = {r.line.id: r for r in plans.line_rooms(vendor.id, [po])}
    assert (rooms[cases.id].unit, rooms[cases.id].unit_size, rooms[cases.id].room) == \
        ("Cases", 12, 10)
    assert (rooms[eaches.id].unit, rooms[eaches.id].room) == ("Eaches", 5)

    first = plan(vendor, [po], {cases: 4, eaches: 5})
    assert [i.shipped_eaches for i in first.items] == [48, 5]
    rooms = {r.line.id: r for r in plans.line_rooms(vendor.id, [po])}
    assert rooms[cases.id].room == 6 and rooms[eaches.id].room == 0
    with pytest.raises(PlanError, match="more than the 6 still to ship"):
        plan(vendor, [po], {cases: 7})
    with pytest.raises(PlanError):
        plan(vendor, [po], {eaches: 1})
    db.session.rollback()
    # A cancelled shipment gives its units back.
    plans.cancel(first)
    db.session.commit()
    assert plan(vendor, [po], {cases: 10, eaches: 5}).items[0].quantity == 10


def test_partial_case_acceptance_rounds_down_to_whole_cases(app, vendor):
    po = acknowledged_po(vendor.id, accepted=(30, 5))  # 2.5 cases accepted
    room = next(r for r in plans.line_rooms(vendor.id, [po]) if r.unit == "Cases")
    assert room.room == 2


def test_accepted_comes_from_our_accepted_acknowledgement_before_amazon_syncs(app, vendor):
    po = add_po(vendor.id, "ACKED001")
    po.ack_state = "accepted"
    ack = Acknowledgement(vendor_id=vendor.id, purchase_order_id=po.id, state="accepted")
    ack.lines = [AcknowledgementLine(purchase_order_line=po.lines[0], code="Accepted",
                                     quantity=8, unit_of_measure="Cases", unit_size=12),
                 AcknowledgementLine(purchase_order_line=po.lines[1], code="Rejected",
                                     quantity=5, unit_of_measure="Eaches", unit_size=1)]
    db.session.add(ack)
    db.session.commit()
    rooms = plans.line_rooms(vendor.id, [po])
    assert [r.room for r in rooms] == [8, 0]


def test_only_acknowledged_pos_of_one_warehouse(app, vendor):
    new = add_po(vendor.id, "NEWPO001")
    with pytest.raises(PlanError, match="not acknowledged"):
        plans.check_pos(vendor.id, [new])
    a = acknowledged_po(vendor.id, "WHA00001", ship_to="ABE8")
    b = acknowledged_po(vendor.id, "WHB00001", ship_to="PHX7")
    with pytest.raises(PlanError, match="one warehouse"):
        plans.check_pos(vendor.id, [a, b])
    c = acknowledged_po(vendor.id, "WHA00002", ship_to="ABE8")
    shipment = plan(vendor, [a, c], {a.lines[0]: 1, c.lines[1]: 2})
    assert shipment.ship_to_party_id == "ABE8" and len(shipment.items) == 2
    other = make_vendor("Someone Else")
    with pytest.raises(PlanError):
        plans.check_pos(other.id, [a])


def test_standard_packing_cartons_pallets_and_an_sscc_each(app, vendor):
    po = acknowledged_po(vendor.id)
    cases, eaches = po.lines
    shipment = plan(vendor, [po], {cases: 10, eaches: 5}, per={eaches: 2}, pallets=2)
    contents = [[(c.item.purchase_order_line_id, c.quantity) for c in carton.contents]
                for carton in shipment.cartons]
    assert contents == [[(cases.id, 1)]] * 10 + [[(eaches.id, 2)], [(eaches.id, 2)],
                                                 [(eaches.id, 1)]]
    assert [c.sequence_number for c in shipment.cartons] == list(range(1, 14))
    codes = [c.sscc for c in shipment.cartons] + [p.sscc for p in shipment.pallets]
    assert len(codes) == 15 and len(set(codes)) == 15
    assert all(is_valid_sscc(code) and code[1:8] == "0614141" for code in codes)
    assert [len(p.cartons) for p in shipment.pallets] == [7, 6]


def test_mixed_cartons_spread_every_item(app, vendor):
    po = acknowledged_po(vendor.id)
    cases, eaches = po.lines
    shipment = plan(vendor, [po], {cases: 10, eaches: 5}, mode="mixed", mixed_cartons=3)
    assert len(shipment.cartons) == 3
    per_line = {cases.id: [], eaches.id: []}
    for carton in shipment.cartons:
        assert len(carton.contents) == 2
        for content in carton.contents:
            per_line[content.item.purchase_order_line_id].append(content.quantity)
    assert per_line == {cases.id: [4, 3, 3], eaches.id: [2, 2, 1]}
    assert sum(c.eaches for carton in shipment.cartons for c in carton.contents) == 125


def test_ssccs_never_repeat_across_plans_and_bad_input_is_refused(app, vendor):
    a = acknowledged_po(vendor.id, "SSCCA001")
    b = acknowledged_po(vendor.id, "SSCCB001")
    one = plan(vendor, [a], {a.lines[0]: 3})
    two = plan(vendor, [b], {b.lines[0]: 3})
    assert not {c.sscc for c in one.cartons} & {c.sscc for c in two.cartons}
    with pytest.raises(PlanError, match="SCAC"):
        plan(vendor, [a], {a.lines[0]: 1}, carrier_scac="A1")
    db.session.rollback()
    with pytest.raises(PlanError, match="more pallets than cartons"):
        plan(vendor, [a], {a.lines[0]: 1}, pallets=2)
    db.session.rollback()
    with pytest.raises(PlanError, match="at least one line"):
        plan(vendor, [a], {})
