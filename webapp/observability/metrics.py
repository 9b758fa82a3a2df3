"""Prometheus metrics at /metrics: requests as they happen, queues and data read at scrape time.

Request counters and latencies live in this process (or, under gunicorn with
PROMETHEUS_MULTIPROC_DIR set before start-up, in files shared by all workers). Queue depths,
failed jobs, sync lag, outbox and push counts are read from Redis and the database when
scraped, so every web process reports the same truth and nothing needs a background thread.
"""

from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from webapp.extensions import csrf, db

REQUESTS = Counter("acorn_http_requests", "HTTP requests by endpoint, method and status.",
                   ["endpoint", "method", "status"], registry=None)
LATENCY = Histogram("acorn_http_request_duration_seconds", "Time to answer a request.",
                    ["endpoint", "method"], registry=None,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Registered by hand so the app never touches prometheus_client's global default registry.
LOCAL_REGISTRY = CollectorRegistry(auto_describe=True)
LOCAL_REGISTRY.register(REQUESTS)
LOCAL_REGISTRY.register(LATENCY)

bp = Blueprint("observability", __name__)


def init_metrics(app: Flask) -> None:
    """Count and time every request; serve /metrics when METRICS_ENABLED."""
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
    csrf.exempt(bp)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        # The route's name, never the raw path: one series per endpoint, not per PO number.
        endpoint = request.endpoint or "unmatched"
        LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    return response


@bp.get("/metrics")
def metrics_endpoint():
    """Prometheus exposition: 404 unless enabled, 401 without the bearer token when one is set."""
    config = current_app.config
    if not config.get("METRICS_ENABLED"):
        abort(404)
    token = config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"},
                            mimetype="text/plain")
    body = request_metrics() + generate_latest(_state_registry())
    response = Response(body, mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    g.private_page = True
    return response


def request_metrics() -> bytes:
    """The request series of this process, or of all gunicorn workers in multi-process mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.path.isdir(directory):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)
    return generate_latest(LOCAL_REGISTRY)


def _state_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector())
    return registry


class StateCollector:
    """Read queue, sync, outbox and push state when scraped; a part that is down reports 0 up."""

    def collect(self):
        yield from _redis_metrics()
        yield from _database_metrics()


def _redis_metrics():
    from rq import Queue
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    from webapp.core.health import HEARTBEAT_STALE_SECONDS, HEARTBEATS_KEY
    from webapp.redis_conn import get_redis

    up = GaugeMetricFamily("acorn_redis_up", "1 if Redis answered this scrape.")
    depth = GaugeMetricFamily("acorn_queue_jobs", "Jobs waiting in each queue.", labels=["queue"])
    busy = GaugeMetricFamily("acorn_queue_started_jobs", "Jobs running now.", labels=["queue"])
    later = GaugeMetricFamily("acorn_queue_scheduled_jobs", "Jobs scheduled for later.",
                              labels=["queue"])
    failed = GaugeMetricFamily("acorn_queue_failed_jobs",
                               "Jobs in RQ's failed registry (kept 7 days).", labels=["queue"])
    workers = GaugeMetricFamily("acorn_workers_alive", "Workers with a recent heartbeat.")
    try:
        connection = get_redis()
        rows = []
        for name in current_app.config["QUEUES"]:
            queue = Queue(name, connection=connection)
            rows.append((name, queue.count,
                         StartedJobRegistry(queue=queue).count,
                         ScheduledJobRegistry(queue=queue).count,
                         FailedJobRegistry(queue=queue).count))
        alive = connection.zcount(HEARTBEATS_KEY, time.time() - HEARTBEAT_STALE_SECONDS, "+inf")
    except Exception:  # noqa: BLE001 - Redis down is itself the signal
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    for name, waiting, running, scheduled, failures in rows:
        depth.add_metric([name], waiting)
        busy.add_metric([name], running)
        later.add_metric([name], scheduled)
        failed.add_metric([name], failures)
    workers.add_metric([], alive)
    yield from (up, depth, busy, later, failed, workers)


def _database_metrics():
    from webapp.amazon.models import OutboxMessage, SyncState
    from webapp.db_types import utcnow
    from webapp.push.models import PushDelivery
    from webapp.vendors.models import Vendor

    up = GaugeMetricFamily("acorn_database_up", "1 if the database answered this scrape.")
    lag = GaugeMetricFamily("acorn_sync_lag_seconds",
                            "Seconds since the last successful sync of a feed.",
                            labels=["vendor_id", "vendor", "feed", "scope"])
    failing = GaugeMetricFamily("acorn_sync_consecutive_failures",
                                "Failed sync runs in a row.",
                                labels=["vendor_id", "vendor", "feed", "scope"])
    outbox = GaugeMetricFamily("acorn_outbox_messages", "Outbox messages by kind and state.",
                               labels=["kind", "state"])
    push = GaugeMetricFamily("acorn_push_deliveries", "Push deliveries by result.",
                             labels=["state"])
    try:
        now = utcnow()
        syncs = db.session.execute(
            select(SyncState.vendor_id, Vendor.name, SyncState.feed, SyncState.scope,
                   SyncState.last_success_at, SyncState.consecutive_failures)
            .join(Vendor, Vendor.id == SyncState.vendor_id)).all()
        outbox_rows = db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.state, func.count())
            .group_by(OutboxMessage.kind, OutboxMessage.state)).all()
        push_rows = db.session.execute(
            select(PushDelivery.state, func.count()).group_by(PushDelivery.state)).all()
    except Exception:  # noqa: BLE001
        db.session.rollback()
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    for vendor_id, name, feed, scope, last_success, failures in syncs:
        labels = [str(vendor_id), name, feed, scope or ""]
        if last_success is not None:
            lag.add_metric(labels, (now - last_success).total_seconds())
        failing.add_metric(labels, failures or 0)
    for kind, state, count in outbox_rows:
        outbox.add_metric([kind, state], count)
    for state, count in push_rows:
        push.add_metric([state], count)
    yield from (up, lag, failing, outbox, push)
