"""Delivery through RQ to a real (local) push service that decrypts and checks VAPID."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from tests.processes import spawn_flask
from tests.push_service import (
    Answer,
    PushService,
    add_device,
    make_po,
    make_user,
    make_vendor,
)
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.push import delivery, services
from webapp.push.models import Alert, DeliveryState, PushDelivery, PushSubscription
from webapp.push.vapid import KEY_FILE, vapid_claims, vapid_keys
from worker.main import build_worker
from worker.queues import NOTIFY, enqueue, get_queue


@pytest.fixture
def push_service(app):
    with PushService(expected_vapid_key=vapid_keys(app).public_key) as service:
        yield service


@pytest.fixture
def vendor(app):
    return make_vendor()


def run_notify_worker(app) -> None:
    build_worker(app, [NOTIFY]).work(burst=True)


def states() -> dict[str, int]:
    rows = db.session.execute(select(PushDelivery.state, func.count())
                              .group_by(PushDelivery.state)).all()
    db.session.commit()
    return dict(rows)


def test_dev_vapid_keys_are_generated_once_under_instance_and_claims_are_fresh(app):
    keys = vapid_keys(app)
    stored = json.loads((Path(app.instance_path) / KEY_FILE).read_text())
    assert stored["public_key"] == keys.public_key
    app.extensions.pop("acorn.vapid")
    assert vapid_keys(app).public_key == keys.public_key  # read back, not regenerated
    first, second = vapid_claims(app), vapid_claims(app)
    first["aud"] = "https://mutated.example"
    assert second == {"sub": app.config["VAPID_CONTACT"]} and first is not second


def test_configured_vapid_keys_win_and_a_mismatched_public_key_is_refused(app):
    from webapp.push.vapid import VapidKeys, generate_key_pair

    pair, other = generate_key_pair(), generate_key_pair()
    app.extensions.pop("acorn.vapid", None)
    app.config.update(VAPID_PRIVATE_KEY=pair["private_key"], VAPID_PUBLIC_KEY=pair["public_key"])
    try:
        assert vapid_keys(app).public_key == pair["public_key"]
        with pytest.raises(RuntimeError):
            VapidKeys(pair["private_key"], other["public_key"])
    finally:
        app.config.update(VAPID_PRIVATE_KEY=None, VAPID_PUBLIC_KEY=None)
        app.extensions.pop("acorn.vapid", None)


def test_new_po_event_reaches_the_push_service_once_decryptable_and_signed(app, vendor,
                                                                          push_service):
    user = make_user(vendor, "ops@acme.example", role="manager")
    add_device(user, push_service)
    po = make_po(vendor, "4Z7QK2PA", due_in_hours=20, warehouse="PHX7")
    raise_event(vendor.id, "po.new", po.po_number, purchase_order_id=po.id,
                payload={"po_number": po.po_number})
    db.session.commit()

    enqueue(NOTIFY, "worker.push_jobs.scan")
    run_notify_worker(app)
    enqueue(NOTIFY, "worker.push_jobs.scan")  # a second scan finds nothing new
    run_notify_worker(app)

    [message] = push_service.delivered()
    assert message.payload["po_number"] == "4Z7QK2PA"
    assert "4Z7QK2PA" in message.payload["title"]
    assert message.payload["warehouse"] == "PHX7"
    assert message.payload["url"] == "/orders/4Z7QK2PA"
    assert [a["action"] for a in message.payload["actions"]] == ["open", "accept-all"]
    assert int(message.headers["ttl"]) > 0
    assert message.headers["urgency"] == "normal"
    assert message.headers["topic"] == f"po-{po.id}"
    assert message.claims["sub"] == app.config["VAPID_CONTACT"]
    assert states() == {"sent": 1}
    assert db.session.get(PushSubscription, 1).last_success_at is not None


def test_viewer_gets_no_accept_all_and_deadline_alerts_are_urgent(app, vendor, push_service):
    viewer = make_user(vendor, "view@acme.example", role="viewer")
    add_device(viewer, push_service)
    make_po(vendor, "DEADLINE1", due_in_hours=0.5)
    services.alerts_from_deadlines()
    ids = services.dispatch_due_alerts()
    delivery.deliver_batch(ids)
    [message] = push_service.delivered()
    assert message.headers["urgency"] == "high"
    assert "1 h" in message.payload["title"] and message.payload["po_number"] == "DEADLINE1"
    assert [a["action"] for a in message.payload["actions"]] == ["open"]


def test_two_push_services_each_get_their_own_audience(app, vendor, push_service):
    with PushService(expected_vapid_key=vapid_keys(app).public_key) as other:
        user = make_user(vendor, "ops@acme.example")
        add_device(user, push_service, "one")
        add_device(user, other, "two")
        ids = services.send_test_notification(user, queue=False)
        report = delivery.deliver_batch(ids)
        assert report.counts == {"sent": 2}
        assert push_service.delivered()[0].claims["aud"] == push_service.origin
        assert other.delivered()[0].claims["aud"] == other.origin


def test_send_test_notification_goes_through_the_queue_and_cli(app, vendor, push_service,
                                                                runner):
    user = make_user(vendor, "ops@acme.example")
    add_device(user, push_service, "phone")
    add_device(user, push_service, "tablet")
    result = runner.invoke(args=["push", "test", "OPS@acme.example"])
    assert "queued for 2 device(s)" in result.output, result.output
    run_notify_worker(app)
    assert len(push_service.delivered()) == 2
    assert {m.payload["kind"] for m in push_service.delivered()} == {"test"}


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted(app, vendor, push_service, status):
    user = make_user(vendor, "ops@acme.example")
    add_device(user, push_service)
    push_service.set_answer(status)
    ids = services.send_test_notification(user, queue=False)
    report = delivery.deliver_batch(ids)
    assert report.counts == {"gone": 1}
    assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    row = db.session.get(PushDelivery, ids[0])
    assert row.subscription_id is None and row.status_code == status  # history kept
    assert len(push_service.requests) == 1


def test_413_is_never_retried(app, vendor, push_service):
    user = make_user(vendor, "ops@acme.example")
    add_device(user, push_service)
    push_service.set_answer(413)
    ids = services.send_test_notification(user)
    run_notify_worker(app)
    services.recover_stale_claims()
    assert services.overdue_pending_deliveries(utcnow() + timedelta(days=1)) == []
    assert states() == {"failed": 1}
    assert len(push_service.requests) == 1
    assert ScheduledJobRegistry(queue=get_queue(NOTIFY)).count == 0
    assert db.session.get(PushDelivery, ids[0]).status_code == 413


def test_429_waits_for_retry_after_then_sends(app, vendor, push_service):
    user = make_user(vendor, "ops@acme.example")
    device = add_device(user, push_service)
    push_service.script(device.endpoint, Answer(429, retry_after="2"))
    ids = services.send_test_notification(user)
    started = utcnow()
    run_notify_worker(app)
    row = db.session.get(PushDelivery, ids[0])
    assert row.state == "pending" and row.status_code == 429
    assert row.next_attempt_at >= started + timedelta(seconds=2)
    # The retry is an RQ scheduled job, due no earlier than Retry-After.
    registry = ScheduledJobRegistry(queue=get_queue(NOTIFY))
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) >= started + timedelta(seconds=2)
    # Anything that runs the batch again before then sends nothing.
    delivery.deliver_batch(ids)
    assert len(push_service.requests) == 1
    time.sleep(2.1)
    delivery.deliver_batch(ids)
    assert len(push_service.requests) == 2
    db.session.expire_all()
    assert db.session.get(PushDelivery, ids[0]).state == "sent"


def test_503_is_retried_with_backoff(app, vendor, push_service):
    app.config["PUSH_RETRY_BASE_SECONDS"] = 1
    user = make_user(vendor, "ops@acme.example")
    device = add_device(user, push_service)
    push_service.script(device.endpoint, Answer(503), Answer(503))
    ids = services.send_test_notification(user, queue=False)
    t0 = utcnow()
    delivery.deliver_batch(ids)
    first = db.session.get(PushDelivery, ids[0]).next_attempt_at
    assert first >= t0 + timedelta(seconds=1)
    time.sleep((first - utcnow()).total_seconds() + 0.05)
    delivery.deliver_batch(ids)
    db.session.expire_all()
    second = db.session.get(PushDelivery, ids[0])
    assert second.attempts == 2 and second.next_attempt_at - utcnow() > timedelta(seconds=1.2)
    time.sleep((second.next_attempt_at - utcnow()).total_seconds() + 0.05)
    delivery.deliver_batch(ids)
    assert [r.status for r in push_service.requests] == [503, 503, 201]
    db.session.expire_all()
    assert db.session.get(PushDelivery, ids[0]).state == "sent"


def test_5xx_gives_up_after_max_attempts(app, vendor, push_service):
    app.config.update(PUSH_RETRY_BASE_SECONDS=0, PUSH_MAX_ATTEMPTS=2)
    user = make_user(vendor, "ops@acme.example")
    add_device(user, push_service)
    push_service.set_answer(503)
    ids = services.send_test_notification(user, queue=False)
    delivery.deliver_batch(ids)
    time.sleep(1.05)  # the floor of one second between tries
    delivery.deliver_batch(ids)
    db.session.expire_all()
    assert db.session.get(PushDelivery, ids[0]).state == "failed"
    assert len(push_service.requests) == 2


def test_hanging_push_service_ends_at_the_timeout_and_is_not_repeated(app, vendor, push_service):
    app.config["PUSH_TIMEOUT_SECONDS"] = 1.0
    user = make_user(vendor, "ops@acme.example")
    add_device(user, push_service)
    push_service.set_answer(201, hang=True)
    ids = services.send_test_notification(user, queue=False)
    started = time.monotonic()
    delivery.deliver_batch(ids)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3, elapsed
    row = db.session.get(PushDelivery, ids[0])
    assert row.state == DeliveryState.IN_DOUBT.value  # it may have arrived: not sent again
    push_service.set_answer(201)
    delivery.deliver_batch(ids)
    assert len(push_service.requests) == 1


def test_every_message_has_ttl_above_zero(app, vendor, push_service):
    user = make_user(vendor, "ops@acme.example")
    add_device(user, push_service)
    for number, hours in (("TTL1", 0.2), ("TTL2", -1), ("TTL3", 30)):
        po = make_po(vendor, number, due_in_hours=hours)
        raise_event(vendor.id, "po.changed", number, purchase_order_id=po.id)
    db.session.commit()
    services.alerts_from_events()
    services.alerts_from_deadlines()
    delivery.deliver_batch(services.dispatch_due_alerts())
    assert len(push_service.delivered()) == 5  # 3 changes, a 1 h reminder, an overdue
    assert all(int(m.headers["ttl"]) > 0 for m in push_service.requests)
    with pytest.raises(ValueError):
        delivery.send_push({"endpoint": "http://127.0.0.1:1/x", "keys": {}}, b"{}", ttl=0,
                           urgency="normal", topic=None, signer=None, claims={}, session=None,
                           timeout=1)


def test_a_batch_run_twice_at_once_sends_each_device_once(app, vendor, push_service,
                                                         test_config):
    users = [make_user(vendor, f"u{i}@acme.example") for i in range(3)]
    for user in users:
        add_device(user, push_service, "a")
        add_device(user, push_service, "b")
    for i in range(5):
        po = make_po(vendor, f"DUP{i}")
        raise_event(vendor.id, "po.changed", po.po_number, purchase_order_id=po.id)
    db.session.commit()
    services.alerts_from_events()
    ids = services.dispatch_due_alerts()
    assert len(ids) == 30
    enqueue(NOTIFY, "worker.push_jobs.deliver", ids)
    enqueue(NOTIFY, "worker.push_jobs.deliver", ids)  # a retried or duplicated job
    enqueue(NOTIFY, "worker.push_jobs.deliver", list(reversed(ids)))
    # Two worker processes take the three jobs at the same time.
    workers = [spawn_flask(["worker", "--queue", "notify", "--burst", "--without-scheduler"],
                           test_config) for _ in range(2)]
    for worker in workers:
        assert worker.wait(60) == 0
    counts = push_service.count_by_device_and_alert()
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert states() == {"sent": 30}
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 15


def test_sandbox_po_to_sync_to_worker_to_one_decryptable_push(app, push_service, runner):
    """The whole path: Amazon (sandbox) creates a PO, sync finds it, the worker pushes it."""
    from tests.amazon_fixtures import control
    from webapp.amazon.sandbox import SandboxServer

    with SandboxServer(seed=7) as sandbox:
        app.config.update(SPAPI_ENDPOINT=sandbox.url, SPAPI_TOKEN_URL=sandbox.token_url)
        vendor = make_vendor("Demo Foods", "demo-foods.example", "DEMO1", timezone="UTC")
        user = make_user(vendor, "ops@demo-foods.example", role="admin")
        add_device(user, push_service, "phone")
        [number] = control(sandbox, "purchase-orders", {"count": 1, "days_back": 0})[
            "purchase_order_numbers"]
        result = runner.invoke(args=["sync", "run", "Demo Foods", "--feed", "orders"])
        assert result.exit_code == 0, result.output

    enqueue(NOTIFY, "worker.push_jobs.scan")
    run_notify_worker(app)

    [message] = push_service.requests
    assert message.status == 201 and message.error is None
    assert message.payload["po_number"] == number and number in message.payload["title"]
    assert message.payload["warehouse"] and message.payload["deadline"]
    assert int(message.headers["ttl"]) > 0 and message.headers["topic"].startswith("po-")


def test_cli_generates_production_keys_and_production_requires_them(runner, monkeypatch):
    from config import ProductionConfig
    from webapp.push.vapid import VapidKeys

    output = runner.invoke(args=["push", "generate-vapid-keys"]).output
    private = output.split("VAPID_PRIVATE_KEY=")[1].split()[0]
    public = output.split("VAPID_PUBLIC_KEY=")[1].split()[0]
    assert VapidKeys(private, public).public_key == public

    class NoVapid(ProductionConfig):
        SECRET_KEY = "x" * 40
        DATA_ENCRYPTION_KEYS = "not-the-dev-key"
        REDIS_URL = "redis://example"
        VAPID_PRIVATE_KEY = None

    monkeypatch.setenv("DATABASE_URL", "postgresql://example/db")
    with pytest.raises(RuntimeError, match="VAPID_PRIVATE_KEY"):
        NoVapid.check_production()
    assert "no user" in runner.invoke(args=["push", "test", "nobody@x.example"]).output


def test_a_batch_keeps_push_concurrency_sends_in_flight_and_each_goes_once(app, vendor,
                                                                         push_service):
    import threading

    app.config["PUSH_CONCURRENCY"] = 3
    users = [make_user(vendor, f"c{i}@acme.example") for i in range(4)]
    for user in users:
        add_device(user, push_service, "a")
        add_device(user, push_service, "b")
    for i in range(3):
        po = make_po(vendor, f"CONC{i}")
        raise_event(vendor.id, "po.changed", po.po_number, purchase_order_id=po.id)
    db.session.commit()
    services.alerts_from_events()
    ids = services.dispatch_due_alerts()
    assert len(ids) == 24
    push_service.hang_from(0)  # hold every request: the sender must not wait for one to end
    reports = []
    sender = threading.Thread(target=lambda: reports.append(_deliver_in(app, ids)))
    sender.start()
    deadline = time.monotonic() + 20
    while push_service.held < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # a fourth send would show up now
    assert push_service.held == 3  # three in flight at once, never more
    assert states() == {"sending": 3, "pending": 21}  # each claim committed before its send
    push_service.hang_from(None)
    push_service.release.set()
    sender.join(30)
    assert reports[0].counts == {"sent": 24}
    counts = push_service.count_by_device_and_alert()
    assert len(counts) == 24 and set(counts.values()) == {1}
    assert states() == {"sent": 24}


def _deliver_in(app, ids):
    with app.app_context():
        return delivery.deliver_batch(ids)


def test_push_requests_use_the_environment_proxy_except_for_no_proxy_hosts(monkeypatch):
    from webapp.push.sending import proxy_for

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "push.internal.example")
    for name in ("https_proxy", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for("https://fcm.googleapis.com/fcm/send/abc") == "http://proxy.corp.example:3128"
    assert proxy_for("https://push.internal.example/x") is None
    assert proxy_for("http://127.0.0.1:9/x") is None  # no HTTP_PROXY set
