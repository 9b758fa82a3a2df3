"""Send alerts to devices with pywebpush: claim, send once, record what the push service said."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Connection, bindparam, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.push.models import Alert, DeliveryState, PushDelivery, PushSubscription
from webapp.push.sending import (  # noqa: F401 - send_push, alert_payload: part of this API
    MAX_BODY_CHARS,
    Outcome,
    PushSessions,
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
# building (and cache-keying) a new UPDATE for every group.
_CLAIM = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id.in_(bindparam("c_ids", expanding=True)),
           DELIVERIES.c.state == DeliveryState.PENDING.value,
           DELIVERIES.c.next_attempt_at <= bindparam("c_now"))
    .values(state=DeliveryState.SENDING.value, claimed_at=bindparam("c_now"),
            attempts=DELIVERIES.c.attempts + 1)
    .returning(DELIVERIES.c.id)
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

# PostgreSQL: a whole group in one statement, in autocommit mode: one round trip per group.
# Data-modifying CTEs always run to completion; a group never claims a row it records.
_GROUP_PG = text("""
WITH claimed AS (
    UPDATE push_deliveries SET state = 'sending', claimed_at = :now, attempts = attempts + 1
    WHERE id = ANY(CAST(:claim_ids AS bigint[])) AND state = 'pending'
      AND next_attempt_at <= :now
    RETURNING id
), recorded AS (
    UPDATE push_deliveries AS d
    SET state = r.state, status_code = r.status_code, last_error = r.last_error,
        sent_at = COALESCE(r.sent_at, d.sent_at),
        next_attempt_at = COALESCE(r.next_attempt_at, d.next_attempt_at)
    FROM unnest(CAST(:ids AS bigint[]), CAST(:states AS text[]), CAST(:codes AS int[]),
                CAST(:errors AS text[]), CAST(:sent AS timestamptz[]),
                CAST(:next AS timestamptz[]))
         AS r(id, state, status_code, last_error, sent_at, next_attempt_at)
    WHERE d.id = r.id
    RETURNING d.id
)
SELECT id FROM claimed
""")


def _record_params(result: tuple, report: BatchReport) -> dict:
    """Work out how to write what the push service said about one delivery."""
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


class _GroupCommit:
    """Commit the claims and results of all of a batch's streams together (group commit).

    A stream hands over the next row to claim, with the result of its previous message, and
    awaits the answer. Every stream that gets there in the same turn of the event loop joins
    one transaction: the results, then one UPDATE ... RETURNING for the claims. Each claim is
    still committed before its message is sent, so a worker dying anywhere leaves at most
    one claimed row per stream in doubt, while the database sees one commit per group
    instead of one per message.
    """

    def __init__(self, conn: Connection, report: BatchReport) -> None:
        self._conn = conn
        self._report = report
        self._waiting: list[tuple[int | None, tuple | None, asyncio.Future]] = []

    def submit(self, claim_id: int, done: tuple | None) -> asyncio.Future:
        """Record `done` and claim `claim_id`; the future tells whether the claim is ours."""
        future = asyncio.get_running_loop().create_future()
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        self._waiting.append((claim_id, done, future))
        return future

    def record_now(self, done: tuple) -> None:
        """Write one last result at once (a stream ending, or cancelled)."""
        self._write([], [done])

    def _flush(self) -> None:
        group, self._waiting = self._waiting, []
        # A stream cancelled while waiting (the job stopping) claims nothing: its row stays
        # pending and goes out with a later job, instead of being left in doubt.
        claim_ids = [c for c, _, future in group if not future.cancelled()]
        try:
            claimed = self._write(claim_ids, [d for _, d, _ in group if d])
        except Exception as exc:  # noqa: BLE001 - handed to every stream of the group
            for *_, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for claim_id, _, future in group:
            if not future.done():  # a cancelled stream's claim stays claimed: in doubt
                future.set_result(claim_id in claimed)

    def _write(self, claim_ids: list[int], results: list[tuple]) -> set[int]:
        conn = self._conn
        if conn.dialect.name == "postgresql":  # autocommit: one statement, one round trip
            records = [_record_params(r, self._report) for r in results]
            return set(conn.execute(_GROUP_PG, {
                "now": utcnow(), "claim_ids": claim_ids,
                "ids": [r["b_id"] for r in records], "states": [r["b_state"] for r in records],
                "codes": [r["b_status"] for r in records],
                "errors": [r["b_error"] for r in records],
                "sent": [r["b_sent_at"] for r in records],
                "next": [r["b_next"] for r in records]}).scalars())
        try:
            if results:
                conn.execute(_RECORD, [_record_params(r, self._report) for r in results])
            claimed: set[int] = set()
            if claim_ids:
                claimed = set(conn.execute(_CLAIM, {"c_ids": claim_ids, "c_now": utcnow()})
                              .scalars())
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
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
    of claims (and so repeat those few messages). Waiting for a flush per commit would cap
    fan-out at the disk's fsync rate. PUSH_SYNCHRONOUS_COMMIT=on restores full durability.
    """
    if conn.dialect.name != "postgresql" or current_app.config["PUSH_SYNCHRONOUS_COMMIT"]:
        return False
    conn.exec_driver_sql("SET synchronous_commit TO off")
    conn.commit()
    return True


async def _stream(rows, messages: dict[int, tuple], claims: _GroupCommit,
                  sessions: PushSessions, signer, contact: str, timeout: float) -> None:
    """Claim, send and record deliveries taken from `rows` until none are left.

    `rows` is one iterator shared by every stream of the batch: each row goes to one stream.
    The claim is committed, together with the previous message's result, before the message
    is sent; a stream dying anywhere leaves at most one row in doubt.
    """
    done: tuple | None = None  # the last result, not yet written
    try:
        for row in rows:
            delivery_id, attempts, sub_id, alert_id, endpoint, p256dh, auth = row
            claim, done = claims.submit(delivery_id, done), None
            if not await claim:
                continue  # another worker has it, or its retry time has not come
            if endpoint is None:  # the device went away after the alert was dispatched
                done = (delivery_id, None, attempts + 1,
                        Outcome(DeliveryState.GONE, error="device removed"))
                continue
            payload, ttl, urgency, topic = messages[alert_id]
            outcome = await send_push(
                {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                payload, ttl=ttl, urgency=urgency, topic=topic, signer=signer,
                claims={"sub": contact}, session=sessions.for_endpoint(endpoint),
                timeout=timeout)
            done = (delivery_id, sub_id, attempts + 1, outcome)
    finally:
        if done is not None:
            claims.record_now(done)


async def _fan_out(app, conn: Connection, rows: list, messages: dict[int, tuple],
                   report: BatchReport) -> None:
    """Run PUSH_CONCURRENCY streams over `rows` on this thread's event loop."""
    streams = max(1, min(int(app.config["PUSH_CONCURRENCY"]), len(rows)))
    claims = _GroupCommit(conn, report)
    pending = iter(rows)
    signer, contact = vapid_keys(app).signer, app.config["VAPID_CONTACT"]
    async with PushSessions() as sessions:
        tasks = [asyncio.ensure_future(_stream(pending, messages, claims, sessions, signer,
                                               contact, app.config["PUSH_TIMEOUT_SECONDS"]))
                 for _ in range(streams)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # no new claims; rows in flight stay claimed (in doubt)
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


def _run_to_end(coro) -> None:
    """Run `coro` on a new event loop: here, or on a thread of its own if this one has a loop.

    Workers and the CLI have none; a caller inside an event loop (Playwright's synchronous
    API in the browser tests, an async host) gets a helper thread, in this context.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="push-loop") as pool:
        pool.submit(contextvars.copy_context().run, asyncio.run, coro).result()


def deliver_batch(delivery_ids: list[int]) -> BatchReport:
    """Send each pending delivery of `delivery_ids` at most once; return what happened.

    PUSH_CONCURRENCY streams keep that many requests in flight on one asyncio event loop
    (a push service 50-200 ms away would otherwise cap a worker at a handful of messages a
    second), and their claims are committed in groups on one connection. A worker killed
    anywhere leaves at most one claimed row per stream in doubt.
    """
    rows, messages = _load(delivery_ids)
    app = current_app._get_current_object()
    report = BatchReport()
    if rows:
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            relaxed = _relax_commit_durability(conn)
            try:
                _run_to_end(_fan_out(app, conn, rows, messages, report))
            finally:
                if relaxed:
                    conn.exec_driver_sql("RESET synchronous_commit")
    _update_devices(report)
    return report


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
