"""Dashboard figures and dual control become alerts: low stock, OTIF below target, approvals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.dashboards_data import NOW, THIS_WEEK, seed_otif, seed_reports
from tests.orders_helpers import add_po
from tests.push_service import PushService, add_device, make_user, make_vendor
from webapp.dashboards import alerts
from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders import services as orders
from webapp.push import services
from webapp.push.models import Alert
from webapp.push.vapid import vapid_keys
from worker.main import build_worker
from worker.queues import NOTIFY, enqueue
from worker.schedule import PERIODIC


@pytest.fixture
def vendor(app):
    return make_vendor()  # Asia/Shanghai, OTIF target 90 %, 4 weeks of cover


def events(kind: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def alerts_of(user) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.user_id == user.id)
                                   .order_by(Alert.id)))


def run_notify_worker(app) -> None:
    build_worker(app, [NOTIFY]).work(burst=True)


def test_otif_below_target_in_the_last_complete_week_alerts_once(vendor):
    user = make_user(vendor, "ops@acme.example")
    seed_otif(vendor)
    # On Wed 18 Nov the last complete week (8-14 Nov) had one line, on time and in full.
    assert alerts.raise_otif_below_target(vendor, NOW) == 0
    # A week later, 15-21 Nov is complete: 3 of 9 lines OTIF = 33.33 % < 90 % (the 8 lines
    # counted on the 18th, plus L7, due on the 19th and never received).
    later = NOW + timedelta(days=7)
    assert alerts.raise_otif_below_target(vendor, later) == 1
    assert alerts.raise_otif_below_target(vendor, later) == 0  # once per week
    db.session.commit()
    [event] = events("otif.below_target")
    assert event.payload == {"otif_percent": "33.33", "target_percent": "90.00",
                             "week": THIS_WEEK.isoformat(), "lines": 9, "lines_otif": 3}
    assert services.alerts_from_events() == 1
    [alert] = alerts_of(user)
    assert (alert.category, alert.urgency) == ("otif_below_target", "low")
    assert alert.title == "Weekly OTIF 33.33% is below target 90.00%"
    assert alert.body == "Week of 2026-11-15" and alert.url == "/dashboards"


def test_otif_waits_for_grace_days_and_spares_vendors_on_target(vendor):
    seed_otif(vendor)
    vendor.otif_grace_days = 3
    db.session.commit()
    # Sunday 22 Nov 12:00 UTC: the week has ended but its grace has not: not complete yet.
    sunday = NOW + timedelta(days=4)
    assert alerts.raise_otif_below_target(vendor, sunday) == 0
    vendor.otif_target_percent = Decimal("30")
    db.session.commit()
    assert alerts.raise_otif_below_target(vendor, NOW + timedelta(days=8)) == 0  # on target


def test_low_stock_reaches_the_phone_as_a_decryptable_push(app, vendor):
    user = make_user(vendor, "ops@acme.example")
    seed_reports(vendor)  # B0AAAAAAA1: 100 on hand, 50 a week -> 2.0 weeks; B0AAAAAAA2: 90.0
    with PushService(expected_vapid_key=vapid_keys(app).public_key) as push_service:
        add_device(user, push_service, "phone")
        enqueue(NOTIFY, "worker.push_jobs.dashboard_alerts")  # the hourly job
        enqueue(NOTIFY, "worker.push_jobs.dashboard_alerts")  # run again: nothing new
        run_notify_worker(app)
        enqueue(NOTIFY, "worker.push_jobs.scan")  # events -> alerts -> deliveries
        run_notify_worker(app)

        [event] = events("stock.low")
        assert event.payload["asin"] == "B0AAAAAAA1"
        assert event.payload["weeks_of_cover"] == "2.0" and event.payload["threshold"] == "4.00"
        [message] = push_service.delivered()
        assert message.payload["title"] == "Stock low: B0AAAAAAA1"
        assert message.payload["body"] == "2.0 weeks of cover left"
        assert message.payload["url"] == "/dashboards"
        assert message.headers["urgency"] == "low" and int(message.headers["ttl"]) > 0


def test_no_inventory_report_means_no_stock_alert(vendor):
    assert alerts.raise_low_stock(vendor) == 0
    assert events("stock.low") == []


def test_dashboard_alerts_run_hourly_for_every_vendor(app, vendor):
    [job] = [p for p in PERIODIC if p.func == "worker.push_jobs.dashboard_alerts"]
    assert job.interval == 3600 and job.queue == NOTIFY
    other = make_vendor("Other Co", "other.example", "OTHER1")
    seed_reports(other)
    seed_otif(vendor)
    totals = alerts.raise_dashboard_alerts(NOW + timedelta(days=7))
    assert totals == {"stock.low": 1, "otif.below_target": 1, "failed": 0}
    assert [e.vendor_id for e in events("stock.low")] == [other.id]
    assert [e.vendor_id for e in events("otif.below_target")] == [vendor.id]
    assert alerts.raise_dashboard_alerts(NOW + timedelta(days=7)) == {
        "stock.low": 0, "otif.below_target": 0, "failed": 0}


def test_a_large_rejection_asks_the_other_managers_and_admins_not_the_requester(vendor):
    requester = make_user(vendor, "first@acme.example", role="manager")
    second = make_user(vendor, "second@acme.example", role="manager")
    admin = make_user(vendor, "admin@acme.example", role="admin")
    viewer = make_user(vendor, "view@acme.example", role="viewer")
    finance = make_user(vendor, "money@acme.example", role="finance")
    vendor.dual_control_reject_above = Decimal("100")
    po = add_po(vendor.id, "APPROVE1")
    reject = orders.answers_from_items(po, [
        {"itemSequenceNumber": "1", "acknowledgementCode": "Rejected",
         "acknowledgedQuantity": {"amount": 10, "unitOfMeasure": "Cases"},
         "rejectionReason": "TemporarilyUnavailable"},
        {"itemSequenceNumber": "2", "acknowledgementCode": "Accepted",
         "acknowledgedQuantity": {"amount": 5, "unitOfMeasure": "Eaches"}}])
    outcome = orders.acknowledge_po(po, reject, user=requester, risks_confirmed=True)
    assert outcome.status == "approval"
    db.session.commit()

    assert services.alerts_from_events() == 2
    assert alerts_of(requester) == alerts_of(viewer) == alerts_of(finance) == []
    for user in (second, admin):
        [alert] = alerts_of(user)
        assert (alert.category, alert.urgency) == ("approval", "high")
        assert alert.deliver_after is None  # rings through quiet hours: the deadline runs
        assert alert.title == "PO APPROVE1: a rejection waits for your approval"
        assert alert.body.startswith("Rejecting $1,260.00 needs a second manager")
        assert alert.url == "/orders/APPROVE1"
