"""Graceful degradation: Redis down, SP-API down, PostgreSQL connections dropped.

Redis is a private server started and stopped here (never the shared one); PostgreSQL is
"restarted" by terminating the app's backend connections, never by stopping the server.
"""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.amazon_fixtures import control, sandbox, start_worker, vendor, worker_env  # noqa: F401
from tests.auth_helpers import make_user, post, sign_in
from tests.private_redis import PrivateRedis
from tests.processes import spawn_flask, stop, wait_until
from webapp import create_app
from webapp.amazon.models import OutboxMessage, OutboxState, SyncState
from webapp.amazon.sync_orders import sync_orders
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder
from webapp.push.services import detect_failing_syncs


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_app(app, test_config, private_redis, sandbox):
    """An app like production: queues, rate limits and locks all on the private Redis."""

    class PrivateRedisConfig(test_config):
        REDIS_URL = private_redis.url
        RATELIMIT_STORAGE_URI = private_redis.url
        METRICS_ENABLED = True

    other = create_app(PrivateRedisConfig)
    for key in ("SPAPI_ENDPOINT", "SPAPI_TOKEN_URL", "SPAPI_BACKOFF_BASE_SECONDS"):
        other.config[key] = app.config[key]
    with other.app_context():
        yield other
        db.session.remove()
        db.engine.dispose()


def _synced_po(sandbox, vendor) -> PurchaseOrder:
    control(sandbox, "purchase-orders", {"count": 2, "days_back": 0.5})
    sync_orders(vendor.id, now=sandbox.store.now())
    return db.session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)).first()


def _submissions(sandbox, number: str) -> int:
    counts = control(sandbox, "submissions?kind=acknowledgement", method="GET")["counts"]
    return counts.get(number, 0)


def test_acknowledgement_during_redis_outage_is_sent_once_after_restart(
        redis_app, private_redis, sandbox, vendor, test_config, tmp_path):
    po = _synced_po(sandbox, vendor)
    client = redis_app.test_client()
    sign_in(client, vendor=vendor, role="manager")

    private_redis.stop()
    # Reading keeps working: the inbox, a PO, and health (which says what is down).
    assert client.get("/orders").status_code == 200
    page = client.get(f"/orders/{po.po_number}")
    assert page.status_code == 200 and po.po_number in page.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["redis"]["ok"] is False
    # The acknowledgement succeeds for the user and lands in the outbox.
    response = post(client, f"/orders/{po.po_number}/accept-all", {},
                    token_from=f"/orders/{po.po_number}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.expire_all()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.state == OutboxState.PENDING.value
    assert _submissions(sandbox, po.po_number) == 0
    assert client.get(f"/orders/{po.po_number}").status_code == 200
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "acorn_redis_up 0.0" in metrics
    assert 'acorn_outbox_messages{kind="acknowledgement",state="pending"} 1.0' in metrics

    # Redis returns empty (no persistence): the scheduler's outbox sweep finds the message.
    private_redis.start()
    env = worker_env(test_config, sandbox, tmp_path / "instance", REDIS_URL=private_redis.url)
    worker = start_worker(env, "outbox")
    scheduler = spawn_flask(["scheduler"], test_config, tmp_path / "scheduler.log",
                            REDIS_URL=private_redis.url, SPAPI_ENDPOINT=sandbox.url,
                            SPAPI_TOKEN_URL=sandbox.token_url)
    try:
        def sent() -> bool:
            db.session.expire_all()
            state = db.session.get(OutboxMessage, message.id).state
            return state in (OutboxState.SUBMITTED.value, OutboxState.SUCCEEDED.value)

        assert wait_until(sent, timeout=60), (tmp_path / "scheduler.log").read_text()[-2000:]
    finally:
        stop(scheduler)
        stop(worker)
    assert _submissions(sandbox, po.po_number) == 1
    # Another sweep (the next minute's) sends nothing again.
    from worker.jobs import sweep_outbox

    sweep_outbox()
    assert _submissions(sandbox, po.po_number) == 1


def test_sign_in_and_metrics_survive_redis_outage(redis_app, private_redis, vendor):
    user, secret = make_user(vendor, role="viewer")
    private_redis.stop()
    client = redis_app.test_client()
    # Throttling and per-client limits fall back (fail open) instead of refusing every sign-in.
    sign_in(client, user=user, secret=secret)
    assert client.get("/orders").status_code == 200
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "acorn_redis_up 0.0" in metrics and "acorn_database_up 1.0" in metrics


def test_spapi_outage_loses_nothing_and_raises_sync_failing(redis_app, sandbox, vendor):
    _synced_po(sandbox, vendor)
    before = db.session.scalar(select(sa.func.count()).select_from(PurchaseOrder))
    control(sandbox, "faults", {"rate_503": 1.0})
    with pytest.raises(Exception):  # noqa: B017 - any SP-API error; what matters is below
        sync_orders(vendor.id, now=sandbox.store.now() + timedelta(minutes=10))
    db.session.rollback()
    assert db.session.scalar(select(sa.func.count()).select_from(PurchaseOrder)) == before
    state = db.session.scalars(select(SyncState).where(
        SyncState.vendor_id == vendor.id, SyncState.feed == "orders",
        SyncState.consecutive_failures >= 1)).first()
    assert state is not None and state.last_success_at is not None
    metrics = redis_app.test_client().get("/metrics").get_data(as_text=True)
    assert f'acorn_sync_consecutive_failures{{feed="orders",scope="{state.scope}",vendor="' \
           f'{vendor.name}",vendor_id="{vendor.id}"}} 1.0' in metrics
    assert "acorn_sync_lag_seconds{" in metrics
    assert detect_failing_syncs(utcnow() + timedelta(hours=2)) >= 1
    assert db.session.scalars(select(Event).where(Event.kind == "sync.failing")).first()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="terminating backend connections needs PostgreSQL "
                           "(CI runs this file on PostgreSQL too)")
def test_requests_recover_after_postgresql_drops_connections(app, client, database_url):
    sign_in(client, role="viewer")
    assert client.get("/orders").status_code == 200
    db.session.remove()  # as at the end of every real request: connections back to the pool
    admin = sa.create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    name = sa.engine.make_url(database_url).database
    with admin.connect() as conn:
        killed = conn.scalar(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    admin.dispose()
    assert killed >= 1
    assert db.engine.pool.checkedin() >= 1  # the pool still holds the dead connections
    assert client.get("/orders").status_code == 200
    assert client.get("/healthz").get_json()["database"]["ok"] is True
