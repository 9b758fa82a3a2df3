"""Events and deadlines become alerts: settings, quiet hours, summaries, stages, tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.push_service import make_po, make_user, make_vendor
from webapp.amazon.models import SyncState
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.push import services
from webapp.push.models import Alert, PushDelivery
from webapp.push.services import DEFAULT_PREFERENCES, Preferences, PushError


@pytest.fixture
def vendor(app):
    return make_vendor()


def alerts_of(user) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.user_id == user.id)
                                   .order_by(Alert.id)))


def new_po_event(vendor, number, **po_kw):
    po = make_po(vendor, number, **po_kw)
    raise_event(vendor.id, "po.new", number, purchase_order_id=po.id)
    db.session.commit()
    return po


def test_one_new_po_is_one_alert_naming_po_deadline_and_warehouse(vendor):
    user = make_user(vendor, "ops@acme.example")
    new_po_event(vendor, "PO1", warehouse="LAX9")
    assert services.alerts_from_events() == 1
    [alert] = alerts_of(user)
    assert alert.title == "New PO PO1" and "LAX9" in alert.body
    assert alert.data["po_number"] == "PO1" and alert.data["warehouse"] == "LAX9"
    assert alert.url == "/orders/PO1" and alert.ttl > 0
    assert db.session.scalar(select(Event.notified_at)) is not None
    assert services.alerts_from_events() == 0  # notified events are not seen again


def test_several_new_pos_at_once_make_one_summary(vendor):
    user = make_user(vendor, "ops@acme.example")
    for i in range(5):
        new_po_event(vendor, f"BATCH{i}", due_in_hours=20 - i)
    assert services.alerts_from_events() == 1
    [alert] = alerts_of(user)
    assert alert.title == "5 new purchase orders"
    assert "BATCH0, BATCH1, BATCH2 and 2 more" in alert.body
    assert alert.url == "/orders" and alert.data["po_numbers"][0] == "BATCH0"


def test_each_user_gets_alerts_of_their_own_vendor_only(vendor):
    other = make_vendor("Other Co", "other.example", "OTHER1")
    mine = make_user(vendor, "ops@acme.example")
    theirs = make_user(other, "ops@other.example")
    new_po_event(vendor, "MINE1")
    services.alerts_from_events()
    assert [a.title for a in alerts_of(mine)] == ["New PO MINE1"]
    assert alerts_of(theirs) == []


def test_switched_off_kinds_and_inactive_users_get_nothing(vendor):
    user = make_user(vendor, "ops@acme.example")
    gone = make_user(vendor, "gone@acme.example")
    gone.active = False
    services.save_preferences(user, enabled={"deadline"}, deadline_hours=[6, 1],
                              quiet_start=None, quiet_end=None)
    db.session.commit()
    new_po_event(vendor, "OFF1")
    services.alerts_from_events()
    assert alerts_of(user) == [] and alerts_of(gone) == []
    with pytest.raises(PushError):
        services.save_preferences(user, enabled={"bogus"}, deadline_hours=[1],
                                  quiet_start=None, quiet_end=None)


@pytest.mark.parametrize(("kind", "payload", "category", "urgency"), [
    ("po.changed", {"changed_lines": ["1"]}, "po_changed", "normal"),
    ("acknowledgement.failed", {"errors": [{"code": "X", "message": "Bad qty"}]},
     "submission_failed", "high"),
    ("invoice.failed", {"invoice_number": "INV9"}, "submission_failed", "high"),
    ("ack.mismatch", {}, "ack_mismatch", "normal"),
    ("invoice.mismatch", {}, "invoice_mismatch", "normal"),
    ("stock.low", {"asin": "B0TEST", "weeks_of_cover": "1.5"}, "low_stock", "low"),
    ("otif.below_target", {"otif_percent": 81, "target_percent": 90}, "otif_below_target",
     "low"),
])
def test_every_event_kind_maps_to_its_setting(vendor, kind, payload, category, urgency):
    user = make_user(vendor, "ops@acme.example")
    po = make_po(vendor, "KIND1")
    raise_event(vendor.id, kind, "k", purchase_order_id=po.id, payload=payload)
    db.session.commit()
    services.alerts_from_events()
    [alert] = alerts_of(user)
    assert (alert.category, alert.urgency) == (category, urgency)
    assert alert.title and alert.topic == f"po-{po.id}"
    if kind == "acknowledgement.failed":
        assert alert.body == "Bad qty"


def test_deadline_reminders_most_urgent_stage_once_then_overdue(vendor):
    user = make_user(vendor, "ops@acme.example")
    po = make_po(vendor, "DL1", due_in_hours=10)
    now = utcnow()
    assert services.alerts_from_deadlines(now) == 0  # 10 h left: nothing yet
    assert services.alerts_from_deadlines(now + timedelta(hours=4.5)) == 1  # 5.5 h left
    assert services.alerts_from_deadlines(now + timedelta(hours=5)) == 0  # same stage
    assert services.alerts_from_deadlines(now + timedelta(hours=9.5)) == 1  # 0.5 h left
    assert services.alerts_from_deadlines(now + timedelta(hours=11)) == 1  # overdue
    assert services.alerts_from_deadlines(now + timedelta(hours=12)) == 0
    kinds = [a.kind for a in alerts_of(user)]
    assert kinds == ["deadline.6h", "deadline.1h", "deadline.overdue"]
    assert all(a.urgency == "high" and a.topic == f"po-{po.id}" for a in alerts_of(user))


def test_a_late_seen_po_gets_only_the_nearest_reminder_and_answered_pos_none(vendor):
    user = make_user(vendor, "ops@acme.example")
    make_po(vendor, "LATE1", due_in_hours=0.5)
    answered = make_po(vendor, "DONE1", due_in_hours=0.5)
    answered.ack_state = "accepted"
    ancient = make_po(vendor, "OLD1", due_in_hours=-48)
    db.session.commit()
    services.alerts_from_deadlines()
    assert [a.kind for a in alerts_of(user)] == ["deadline.1h"]
    assert ancient.po_number not in str([a.title for a in alerts_of(user)])


def test_custom_reminder_hours(vendor):
    user = make_user(vendor, "ops@acme.example")
    services.save_preferences(user, enabled={"deadline"}, deadline_hours=[12, 3],
                              quiet_start=None, quiet_end=None)
    db.session.commit()
    make_po(vendor, "CUST1", due_in_hours=11)
    services.alerts_from_deadlines()
    assert [a.kind for a in alerts_of(user)] == ["deadline.12h"]


def test_quiet_hours_hold_routine_alerts_but_not_deadlines_or_failures(vendor):
    # Vendor in Shanghai (UTC+8): 22:00-07:00 local is 14:00-23:00 UTC.
    user = make_user(vendor, "ops@acme.example")
    services.save_preferences(user, enabled={"new_po", "deadline", "submission_failed"},
                              deadline_hours=[6, 1], quiet_start=22 * 60, quiet_end=7 * 60)
    db.session.commit()
    night = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
    po = new_po_event(vendor, "NIGHT1")
    raise_event(vendor.id, "acknowledgement.failed", "x", purchase_order_id=po.id)
    db.session.commit()
    services.alerts_from_events(night)
    by_category = {a.category: a for a in alerts_of(user)}
    held, failure = by_category["new_po"], by_category["submission_failed"]
    assert held.deliver_after == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 07:00 local
    assert failure.deliver_after is None
    assert services.dispatch_due_alerts(night) == []  # nobody has a device, but...
    db.session.expire_all()
    assert db.session.get(Alert, held.id).dispatched_at is None  # ...held is not dispatched
    assert db.session.get(Alert, failure.id).dispatched_at is not None
    services.dispatch_due_alerts(datetime(2026, 11, 22, 23, 1, tzinfo=UTC))
    db.session.expire_all()
    assert db.session.get(Alert, held.id).dispatched_at is not None


def test_quiet_until_handles_windows_within_a_day_and_across_midnight():
    tz = ZoneInfo("Europe/Berlin")
    over_night = Preferences(DEFAULT_PREFERENCES.disabled, (6, 1), 22 * 60, 6 * 60)
    at = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)  # 23:30 in Berlin (summer time)
    assert services.quiet_until(over_night, tz, at) == datetime(2026, 7, 2, 4, 0, tzinfo=UTC)
    assert services.quiet_until(over_night, tz, datetime(2026, 7, 1, 12, tzinfo=UTC)) is None
    lunch = Preferences(DEFAULT_PREFERENCES.disabled, (6, 1), 12 * 60, 13 * 60)
    assert services.quiet_until(lunch, tz, datetime(2026, 7, 1, 10, 30, tzinfo=UTC)) == \
        datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert services.quiet_until(DEFAULT_PREFERENCES, tz, at) is None


def test_sync_failing_for_an_hour_raises_one_alert_per_outage(vendor):
    user = make_user(vendor, "ops@acme.example")
    now = utcnow()
    state = SyncState(vendor_id=vendor.id, feed="orders", scope="ACME1",
                      last_success_at=now - timedelta(minutes=30), last_error="HTTP 503",
                      last_error_at=now, consecutive_failures=3)
    db.session.add(state)
    db.session.commit()
    assert services.detect_failing_syncs(now) == 0  # only 30 minutes
    later = now + timedelta(minutes=40)
    assert services.detect_failing_syncs(later) == 1
    assert services.detect_failing_syncs(later + timedelta(minutes=5)) == 0  # same outage
    services.alerts_from_events(later)
    [alert] = alerts_of(user)
    assert alert.category == "sync_failing" and "503" in alert.body
    assert alert.deliver_after is None and alert.urgency == "high"


def test_alerts_are_in_the_users_language_and_time_zone(vendor):
    zh = make_user(vendor, "zh@acme.example", locale="zh_Hans")
    new_po_event(vendor, "ZH1")
    services.alerts_from_events()
    [alert] = alerts_of(zh)
    assert "ZH1" in alert.title and alert.title != "New PO ZH1", alert.title


def test_dispatch_makes_one_delivery_per_device_once(vendor):
    from tests.push_service import PushService, add_device

    user = make_user(vendor, "ops@acme.example")
    with PushService() as service:
        add_device(user, service, "a")
        add_device(user, service, "b")
        new_po_event(vendor, "DISP1")
        services.alerts_from_events()
        assert len(services.dispatch_due_alerts()) == 2
        assert services.dispatch_due_alerts() == []
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 2


@pytest.mark.parametrize(("kind", "payload", "title", "url"), [
    ("shipment.failed", {"shipment_id": 7, "shipment_identifier": "ASN-7",
                         "errors": [{"code": "X", "message": "Carton has no SSCC"}]},
     "ASN ASN-7 failed at Amazon", "/shipments/7"),
    ("shipment.asn_overdue", {"shipment_id": 7, "shipment_identifier": "ASN-7",
                              "shipped_at": "2026-11-20T08:00:00+00:00"},
     "ASN not sent: shipment ASN-7", "/shipments/7"),
    ("shipment.shortage", {"shipment_id": 7, "shipment_identifier": "ASN-7",
                           "short_eaches": 12},
     "Amazon received 12 units fewer than ASN ASN-7", "/shipments/7"),
    ("invoice.mismatch", {"invoice_id": 3, "invoice_number": "INV3"},
     "Invoice check found a mismatch on PO WORD1", "/invoices/3"),
])
def test_shipment_and_invoice_alerts_say_what_happened_and_link_to_it(vendor, kind, payload,
                                                                      title, url):
    user = make_user(vendor, "ops@acme.example")
    po = make_po(vendor, "WORD1")
    raise_event(vendor.id, kind, "w", purchase_order_id=po.id, payload=payload)
    db.session.commit()
    services.alerts_from_events()
    [alert] = alerts_of(user)
    assert (alert.title, alert.url) == (title, url)
    assert alert.body and kind not in alert.title
