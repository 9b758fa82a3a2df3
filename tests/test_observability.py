"""Observability: request ids, JSON logs, /metrics (configuration, token, content), Sentry off."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from tests.auth_helpers import sign_in
from webapp.observability.logs import JsonFormatter, RequestIdFilter, configure_logging
from webapp.redis_conn import get_redis
from worker.queues import enqueue


def test_request_id_is_generated_or_taken_and_echoed(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/login", headers={"X-Request-ID": "edge-42.a"}).headers[
        "X-Request-ID"] == "edge-42.a"
    # A header that could forge log lines or headers is replaced, not echoed.
    assert client.get("/login", headers={"X-Request-ID": "bad id\"{}"}).headers[
        "X-Request-ID"] != "bad id\"{}"


def test_json_logs_carry_the_request_id(app, client):
    stream = io.StringIO()
    handler = configure_logging("json", "INFO", stream=stream)
    try:
        @app.get("/_test/log")
        def _log_something():
            logging.getLogger("acorn.test").info("hello %s", "world", extra={"po": "X1"})
            return "ok"

        client.get("/_test/log", headers={"X-Request-ID": "req-abc"})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    entry = next(e for e in lines if e["logger"] == "acorn.test")
    assert entry["message"] == "hello world" and entry["level"] == "INFO"
    assert entry["request_id"] == "req-abc" and entry["po"] == "X1" and entry["ts"]


def test_json_formatter_keeps_exceptions():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), None)
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad" in entry["exc"] and entry["request_id"] is None


def test_jobs_enqueued_during_a_request_carry_its_id(app):
    with app.test_request_context("/", headers={"X-Request-ID": "req-job-1"}):
        app.preprocess_request()
        job = enqueue("outbox", "worker.jobs.send_outbox_message", 1, job_id="obs-job-1")
    stored = Job.fetch(job.id, connection=get_redis(), serializer=JSONSerializer)
    assert stored.meta["request_id"] == "req-job-1"
    outside = enqueue("outbox", "worker.jobs.send_outbox_message", 2, job_id="obs-job-2")
    assert "request_id" not in Job.fetch(outside.id, connection=get_redis(),
                                         serializer=JSONSerializer).meta


def test_metrics_are_off_unless_enabled(app, client):
    assert client.get("/metrics").status_code == 404


@pytest.fixture
def metrics_app(app):
    app.config.update(METRICS_ENABLED=True, METRICS_TOKEN="s3cret-token")
    return app


def test_metrics_need_the_bearer_token(metrics_app, client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={
        "Authorization": "Bearer s3cret-token"}).status_code == 200


def test_metrics_cover_requests_queues_failures_outbox_and_push(metrics_app, client):
    sign_in(client, role="viewer")
    client.get("/orders")
    client.get("/orders/NO-SUCH-PO")
    enqueue("sync", "worker.jobs.sync_vendor", 1, ["orders"])
    enqueue("sync", "worker.jobs.sync_vendor", 2, ["orders"])
    from rq import Queue
    from rq.registry import FailedJobRegistry

    queue = Queue("notify", connection=get_redis(), serializer=JSONSerializer)
    failed = queue.enqueue("worker.push_jobs.scan")
    FailedJobRegistry(queue=queue).add(failed, ttl=60, exc_string="boom")
    text = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).get_data(
        as_text=True)
    assert 'acorn_http_requests_total{endpoint="orders.inbox",method="GET",status="200"}' in text
    assert 'endpoint="orders.detail_page",method="GET",status="404"' in text
    assert 'acorn_http_request_duration_seconds_bucket{endpoint="orders.inbox"' in text
    assert 'acorn_queue_jobs{queue="sync"} 2.0' in text
    assert 'acorn_queue_failed_jobs{queue="notify"} 1.0' in text
    assert "acorn_redis_up 1.0" in text and "acorn_database_up 1.0" in text
    assert "# TYPE acorn_sync_lag_seconds gauge" in text
    assert "# TYPE acorn_push_deliveries gauge" in text


def test_sentry_is_not_initialised_without_a_dsn(app):
    import sentry_sdk

    assert app.config.get("SENTRY_DSN") is None
    assert not sentry_sdk.get_client().is_active()
