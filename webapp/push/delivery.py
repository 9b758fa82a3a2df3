"""Send alerts to devices with pywebpush: claim, send once, record what the push service said."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from flask import current_app
from pywebpush import WebPushException, webpush
from sqlalchemy import Connection, bindparam, delete, func, select, update

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.push.models import Alert, DeliveryState, PushDelivery, PushSubscription
from webapp.push.vapid import vapid_claims, vapid_keys

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600
# Push services accept at least 4096 bytes of payload; the body is cut well below that.
MAX_BODY_CHARS = 600


@dataclass(frozen=True)
class Outcome:
    """What one push request came to."""

    state: DeliveryState
    status_code: int | None = None
    retry_after: float | None = None  # seconds, from a 429's Retry-After
    error: str | None = None


@dataclass
class BatchReport:
    """What a batch did: counts per final state, and deliveries to try again later."""

    counts: dict[str, int] = field(default_factory=dict)
    retry_at: dict[int, datetime] = field(default_factory=dict)
    reached: set[int] = field(default_factory=set)  # devices that answered 201

    def count(self, state: str) -> None:
        self.counts[state] = self.counts.get(state, 0) + 1


class PushSession(requests.Session):
    """A requests session that reads proxy settings from the environment once per origin.

    requests re-reads every environment variable for proxies on each request, which costs
    more than the message's encryption; the answer only changes with the origin.
    """

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert)
        return dict(self._settings[key])


def alert_payload(alert: Alert) -> dict:
    """Return what the service worker receives for `alert` (also used by the browser test)."""
    data = dict(alert.data or {})
    return {
        "id": alert.id, "kind": alert.kind, "title": alert.title,
        "body": alert.body[:MAX_BODY_CHARS], "url": alert.url,
        "tag": alert.topic or f"alert-{alert.id}", "urgency": alert.urgency,
        "timestamp": int(alert.created_at.timestamp() * 1000),
        "po_number": data.get("po_number"), "deadline": data.get("deadline"),
        "warehouse": data.get("warehouse"), "actions": data.get("actions", []),
    }


def parse_retry_after(value: str | None) -> float | None:
    """Read Retry-After as seconds (RFC 9110: delay seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def classify_response(status: int, retry_after: str | None = None) -> Outcome:
    """Map a push service's answer to what happens to the delivery."""
    if status in (200, 201, 202):
        return Outcome(DeliveryState.SENT, status)
    if status in (404, 410):
        return Outcome(DeliveryState.GONE, status, error="subscription expired or unsubscribed")
    if status == 429:
        return Outcome(DeliveryState.PENDING, status, parse_retry_after(retry_after),
                       "rate limited by the push service")
    if status >= 500:
        return Outcome(DeliveryState.PENDING, status, error=f"push service error {status}")
    # 413 (payload too large), 400, 401, 403: sending the same request again cannot help.
    return Outcome(DeliveryState.FAILED, status, error=f"refused by the push service ({status})")


def _never_reached(exc: requests.RequestException) -> bool:
    """Tell whether the request certainly never reached the push service."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = str(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        s in text for s in ("NewConnectionError", "Connection refused", "Failed to resolve",
                            "Name or service not known"))


def send_push(subscription_info: dict, payload: bytes, *, ttl: int, urgency: str,
              topic: str | None, session: requests.Session | None = None,
              timeout: float | None = None) -> Outcome:
    """Send one encrypted message and classify the answer; never raises for HTTP trouble."""
    if ttl <= 0:
        raise ValueError("TTL must be positive: 0 means an offline device never gets it")
    headers = {"Urgency": urgency}
    if topic:
        headers["Topic"] = topic
    try:
        response = webpush(
            subscription_info, data=payload, vapid_private_key=vapid_keys().signer,
            vapid_claims=vapid_claims(),  # fresh per call: webpush writes aud/exp into it
            ttl=ttl, headers=headers, requests_session=session,
            timeout=timeout or current_app.config["PUSH_TIMEOUT_SECONDS"],
        )
        return classify_response(response.status_code)
    except WebPushException as exc:
        if exc.response is None:
            return Outcome(DeliveryState.FAILED, error=str(exc)[:300])
        return classify_response(exc.response.status_code, exc.response.headers.get("Retry-After"))
    except requests.RequestException as exc:
        if _never_reached(exc):
            return Outcome(DeliveryState.PENDING, error=f"cannot connect: {type(exc).__name__}")
        # A read timeout or a dropped connection: the service may have the message already.
        return Outcome(DeliveryState.IN_DOUBT, error=f"no answer: {type(exc).__name__}")


def _backoff(attempts: int) -> float:
    base = current_app.config["PUSH_RETRY_BASE_SECONDS"]
    return min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1))


DELIVERIES = PushDelivery.__table__
DEVICES = PushSubscription.__table__


# Built once: executing a prepared statement with parameters is several times cheaper than
# building (and cache-keying) a new UPDATE for every message.
_CLAIM = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("b_id"),
           DELIVERIES.c.state == DeliveryState.PENDING.value,
           DELIVERIES.c.next_attempt_at <= bindparam("b_now"))
    .values(state=DeliveryState.SENDING.value, claimed_at=bindparam("b_now"),
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


def _claim(conn: Connection, delivery_id: int, now: datetime) -> bool:
    """Take a pending delivery for this worker (the caller commits before sending)."""
    return conn.execute(_CLAIM, {"b_id": delivery_id, "b_now": now}).rowcount == 1


def _record(conn: Connection, result: tuple, report: BatchReport) -> None:
    """Write what the push service said about one delivery (the caller commits)."""
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
    conn.execute(_RECORD, params)
    if subscription_id and state == DeliveryState.GONE:
        # Deliveries keep their history; the device row goes (the FK sets their link to NULL).
        conn.execute(delete(DEVICES).where(DEVICES.c.id == subscription_id))
    elif subscription_id and state != DeliveryState.SENT:
        conn.execute(update(DEVICES).where(DEVICES.c.id == subscription_id)
                     .values(last_failure_at=now))
    if state == DeliveryState.SENT and subscription_id:
        report.reached.add(subscription_id)
    report.count(state.value)


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


def deliver_batch(delivery_ids: list[int]) -> BatchReport:
    """Send each pending delivery of `delivery_ids` at most once; return what happened."""
    report = BatchReport()
    rows, messages = _load(delivery_ids)
    timeout = current_app.config["PUSH_TIMEOUT_SECONDS"]
    # Core statements on one connection: the ORM's per-commit bookkeeping would cost more
    # than encrypting and sending the message. One commit per message carries both the
    # previous message's result and the next one's claim; the claim is always committed
    # before its message is sent, so a worker dying anywhere leaves at most one row in doubt.
    with db.engine.connect() as conn, PushSession() as session:
        done: tuple | None = None  # the last result, not yet written
        relaxed = _relax_commit_durability(conn)
        try:
            for delivery_id, attempts, sub_id, alert_id, endpoint, p256dh, auth in rows:
                claimed = _claim(conn, delivery_id, utcnow())
                if done is not None:
                    _record(conn, done, report)
                    done = None
                conn.commit()
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
                _record(conn, done, report)
                conn.commit()
            if relaxed:
                conn.exec_driver_sql("RESET synchronous_commit")
        if report.reached:
            # Once per batch, not per message: a device's last success is informational.
            conn.execute(update(DEVICES).where(DEVICES.c.id.in_(report.reached))
                         .values(last_success_at=utcnow()))
            conn.commit()
    return report


def queue_deliveries(delivery_ids: list[int]) -> int:
    """Enqueue jobs that send `delivery_ids`, in batches; return the number of jobs."""
    from worker.queues import NOTIFY, enqueue

    size = current_app.config["PUSH_BATCH_SIZE"]
    chunks = [delivery_ids[i:i + size] for i in range(0, len(delivery_ids), size)]
    for chunk in chunks:
        enqueue(NOTIFY, "worker.push_jobs.deliver", chunk)
    return len(chunks)
