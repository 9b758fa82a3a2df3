"""Send alerts to devices with pywebpush: claim, send once, record what the push service said."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.push.models import Alert, DeliveryState, PushDelivery, PushSubscription
from webapp.push.sending import (  # noqa: F401 - send_push, alert_payload: part of this API
    MAX_BODY_CHARS,
    Outcome,
    PushSession,
    alert_payload,
    classify_response,
    parse_retry_after,
    send_push,
)
from webapp.push.vapid import vapid_keys

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600
@dataclass
class BatchReport:
    """What a batch did: counts per final state, and deliveries to try again later."""

    counts: dict[str, int] = field(default_factory=dict)
    retry_at: dict[int, datetime] = field(default_factory=dict)
    reached: set[int] = field(default_factory=set)  # devices that answered 201
    failing: set[int] = field(default_factory=set)  # devices whose send did not succeed
    gone: set[int] = field(default_factory=set)  # devices to delete (404, 410)

    def count(self, state: str) -> None:
        self.counts[state] = self.counts.get(state, 0) + 1


def _backoff(attempts: int) -> float:
    base = current_app.config["PUSH_RETRY_BASE_SECONDS"]
    return min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1))


DELIVERIES = PushDelivery.__table__
DEVICES = PushSubscription.__table__


# Built once: executing a prepared statement with parameters is several times cheaper than
# building (and cache-keying) a new UPDATE for every message.
_CLAIM = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("c_id"),
           DELIVERIES.c.state == DeliveryState.PENDING.value,
           DELIVERIES.c.next_attempt_at <= bindparam("c_now"))
    .values(state=DeliveryState.SENDING.value, claimed_at=bindparam("c_now"),
            attempts=DELIVERIES.c.attempts + 1)
)
_RECORD = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state"), status_code=bindparam("b_status"),
            last_error=bindparam("b_error"),
            sent_at=func.coalesce(bindparam("b_sent_at", type_=UTCDateTime),
                                  DELIVERIES.c.sent_at),
            next_attempt_at=func.coalesce(bindparam("b_next", type_=UTCDateTime),
                                          DELIVERIES.c.next_attempt_at))
)
# PostgreSQL: both in one statement, run in autocommit mode: one round trip per message
# instead of four (BEGIN, claim, record, COMMIT). Data-modifying CTEs always run in full.
_CLAIMED = _CLAIM.returning(DELIVERIES.c.id).cte("claimed")
_CLAIM_AND_RECORD = select(
    select(func.count()).select_from(_CLAIMED).scalar_subquery(),
    select(func.count()).select_from(_RECORD.returning(DELIVERIES.c.id).cte("recorded"))
    .scalar_subquery(),
)
NO_ROW = -1  # an id no delivery has: "nothing to claim" or "nothing to record"


def _record_params(result: tuple | None, report: BatchReport) -> dict:
    """Work out how to write what the push service said about one delivery."""
    if result is None:
        return {"b_id": NO_ROW, "b_state": None, "b_status": None, "b_error": None,
                "b_sent_at": None, "b_next": None}
    delivery_id, subscription_id, attempts, outcome = result
    now = utcnow()
    params = {"b_id": delivery_id, "b_status": outcome.status_code, "b_error": outcome.error,
              "b_sent_at": None, "b_next": None}
    state = outcome.state
    if state == DeliveryState.SENT:
        params.update(b_sent_at=now, b_error=None)
    elif state == DeliveryState.PENDING:
        if attempts >= current_app.config["PUSH_MAX_ATTEMPTS"]:
            state = DeliveryState.FAILED
            params["b_error"] = f"gave up after {attempts} attempts: {outcome.error}"
        else:
            delay = _backoff(attempts)
            if outcome.retry_after is not None:
                delay = max(outcome.retry_after, 1.0)  # never before the service allows
            params["b_next"] = now + timedelta(seconds=delay)
            report.retry_at[delivery_id] = params["b_next"]
    params["b_state"] = state.value
    if subscription_id:  # device rows are written once per batch (_update_devices)
        {DeliveryState.SENT: report.reached, DeliveryState.GONE: report.gone}.get(
            state, report.failing).add(subscription_id)
    report.count(state.value)
    return params


def _claim_and_record(conn: Connection, claim_id: int | None, done: tuple | None,
                      report: BatchReport) -> bool:
    """Claim `claim_id` and write the result `done` in one commit; tell whether it was claimed.

    The claim is committed when this returns, so its message may be sent.
    """
    params = _record_params(done, report)
    params.update(c_id=NO_ROW if claim_id is None else claim_id, c_now=utcnow())
    if conn.dialect.name == "postgresql":
        return conn.execute(_CLAIM_AND_RECORD, params).one()[0] == 1  # autocommit
    claimed = conn.execute(_CLAIM, params).rowcount == 1
    if done is not None:
        conn.execute(_RECORD, params)
    conn.commit()
    return claimed


def _load(delivery_ids: list[int]) -> tuple[list, dict[int, tuple]]:
    """Read the batch's pending deliveries and each alert's encoded message, once."""
    rows = db.session.execute(
        select(DELIVERIES.c.id, DELIVERIES.c.attempts, DELIVERIES.c.subscription_id,
               DELIVERIES.c.alert_id, DEVICES.c.endpoint, DEVICES.c.p256dh, DEVICES.c.auth)
        .select_from(DELIVERIES.outerjoin(DEVICES, DEVICES.c.id == DELIVERIES.c.subscription_id))
        .where(DELIVERIES.c.id.in_(delivery_ids),
               DELIVERIES.c.state == DeliveryState.PENDING.value)
        .order_by(DELIVERIES.c.id)
    ).all()
    alerts = db.session.scalars(select(Alert).where(Alert.id.in_({r.alert_id for r in rows})))
    messages = {a.id: (json.dumps(alert_payload(a), separators=(",", ":")).encode(), a.ttl,
                       a.urgency, a.topic) for a in alerts}
    db.session.commit()  # end the read transaction before the claims
    return rows, messages


def _relax_commit_durability(conn: Connection) -> bool:
    """On PostgreSQL, let this connection's commits skip waiting for the WAL flush.

    Visibility is immediate, so claims still stop every other worker and survive a worker
    crash; only a crash of the database server itself can lose the last fraction of a second
    of claims (and so repeat those few messages). Waiting for a flush per message would cap
    fan-out at the disk's fsync rate. PUSH_SYNCHRONOUS_COMMIT=on restores full durability.
    """
    if conn.dialect.name != "postgresql" or current_app.config["PUSH_SYNCHRONOUS_COMMIT"]:
        return False
    conn.exec_driver_sql("SET synchronous_commit TO off")
    conn.commit()
    return True


def _send_stream(app, take, messages: dict[int, tuple], report: BatchReport) -> None:
    """Claim, send and record deliveries taken from `take` until none are left.

    Core statements on a connection of its own: the ORM's per-commit bookkeeping would cost
    more than encrypting and sending the message. One commit per message carries both the
    previous message's result and the next one's claim; the claim is always committed before
    its message is sent, so a stream dying anywhere leaves at most one row in doubt.
    """
    timeout = app.config["PUSH_TIMEOUT_SECONDS"]
    with app.app_context(), db.engine.connect() as conn, PushSession() as session:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        done: tuple | None = None  # the last result, not yet written
        relaxed = _relax_commit_durability(conn)
        try:
            while (row := take()) is not None:
                delivery_id, attempts, sub_id, alert_id, endpoint, p256dh, auth = row
                claimed = _claim_and_record(conn, delivery_id, done, report)
                done = None
                if not claimed:
                    continue  # another worker has it, or its retry time has not come
                if endpoint is None:  # the device went away after the alert was dispatched
                    done = (delivery_id, None, attempts + 1,
                            Outcome(DeliveryState.GONE, error="device removed"))
                    continue
                payload, ttl, urgency, topic = messages[alert_id]
                outcome = send_push(
                    {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                    payload, ttl=ttl, urgency=urgency, topic=topic, session=session,
                    timeout=timeout)
                done = (delivery_id, sub_id, attempts + 1, outcome)
        finally:
            if done is not None:
                _claim_and_record(conn, None, done, report)
            if relaxed:
                conn.exec_driver_sql("RESET synchronous_commit")


def deliver_batch(delivery_ids: list[int]) -> BatchReport:
    """Send each pending delivery of `delivery_ids` at most once; return what happened.

    PUSH_CONCURRENCY streams run side by side, each a thread with its own connection and HTTP
    session taking the next row in order: a push service 50-200 ms away would otherwise cap
    a worker at a handful of messages per second. A worker killed anywhere leaves at most
    one claimed row per stream in doubt.
    """
    rows, messages = _load(delivery_ids)
    app = current_app._get_current_object()
    vapid_keys(app)  # load (or create) the keys once, before the threads share them
    streams = max(1, min(int(app.config["PUSH_CONCURRENCY"]), len(rows)))
    pending = iter(rows)
    lock = threading.Lock()
    stop = threading.Event()

    def take():
        if stop.is_set():
            return None
        with lock:
            return next(pending, None)

    reports = [BatchReport() for _ in range(streams)]
    errors: list[BaseException] = []

    def stream(report: BatchReport) -> None:
        try:
            _send_stream(app, take, messages, report)
        except BaseException as exc:  # re-raised in the calling thread below
            stop.set()
            errors.append(exc)

    if streams == 1:
        _send_stream(app, take, messages, reports[0])
    else:
        # Daemon threads: a job killed by its timeout must not wait for a hanging request.
        threads = [threading.Thread(target=stream, args=(r,), daemon=True,
                                    name=f"push-stream-{i}") for i, r in enumerate(reports)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:
            stop.set()  # e.g. the job's timeout: no new claims; in-flight rows stay claimed
            raise
        if errors:
            raise errors[0]
    report = _merge(reports)
    _update_devices(report)
    return report


def _merge(reports: list[BatchReport]) -> BatchReport:
    total = BatchReport()
    for r in reports:
        for state, n in r.counts.items():
            total.counts[state] = total.counts.get(state, 0) + n
        total.retry_at.update(r.retry_at)
        total.reached |= r.reached
        total.failing |= r.failing
        total.gone |= r.gone
    return total


def _update_devices(report: BatchReport) -> None:
    """Write what the batch learned about devices, once per batch rather than per message.

    Deferred to here so that concurrent streams never lock the same device row (or, through
    the foreign key, each other's deliveries) inside their per-message transactions.
    """
    now = utcnow()
    try:
        _write_devices(report, now)
    except DBAPIError:
        # E.g. a deadlock with another worker over the same device's deliveries. Every
        # delivery is recorded already; a gone device answers 404/410 again and goes then.
        log.warning("device bookkeeping of a push batch failed", exc_info=True)


def _write_devices(report: BatchReport, now: datetime) -> None:
    with db.engine.connect() as conn:
        if report.gone:
            # Deliveries keep their history; the device row goes (the FK sets their link NULL).
            conn.execute(delete(DEVICES).where(DEVICES.c.id.in_(report.gone)))
        failing = report.failing - report.gone
        if failing:
            conn.execute(update(DEVICES).where(DEVICES.c.id.in_(failing))
                         .values(last_failure_at=now))
        reached = report.reached - report.gone
        if reached:
            conn.execute(update(DEVICES).where(DEVICES.c.id.in_(reached))
                         .values(last_success_at=now))
        conn.commit()


def queue_deliveries(delivery_ids: list[int]) -> int:
    """Enqueue jobs that send `delivery_ids`, in batches; return the number of jobs."""
    from worker.queues import NOTIFY, enqueue

    size = current_app.config["PUSH_BATCH_SIZE"]
    chunks = [delivery_ids[i:i + size] for i in range(0, len(delivery_ids), size)]
    for chunk in chunks:
        enqueue(NOTIFY, "worker.push_jobs.deliver", chunk)
    return len(chunks)
