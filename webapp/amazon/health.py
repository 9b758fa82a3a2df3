"""Sync health of one vendor: feed cursors and errors, queue depths, failed jobs, stuck sends."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import select

from webapp.amazon.models import OutboxMessage, OutboxState, SyncState
from webapp.extensions import db
from webapp.redis_conn import get_redis
from worker.queues import get_queue

SYNC_JOB = "worker.jobs.sync_vendor"
OUTBOX_JOB = "worker.jobs.send_outbox_message"


@dataclass
class FailedJob:
    """A failed RQ job that concerns the vendor."""

    id: str
    queue: str
    description: str
    ended_at: object
    error: str


def feed_states(vendor_id: int) -> list[SyncState]:
    """Every feed cursor of the vendor, by feed and scope."""
    return list(db.session.scalars(select(SyncState).where(SyncState.vendor_id == vendor_id)
                                   .order_by(SyncState.feed, SyncState.scope)))


def queue_depths() -> list[dict]:
    """Queued, running and failed job counts per queue."""
    depths = []
    for name in current_app.config["QUEUES"]:
        queue = get_queue(name)
        depths.append({
            "queue": name, "queued": queue.count,
            "started": StartedJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
        })
    return depths


def _job_vendor(job: Job) -> int | None:
    """The vendor a job works for, read from its arguments (ids only, by design)."""
    try:
        if job.func_name == SYNC_JOB:
            return int(job.args[0])
        if job.func_name == OUTBOX_JOB:
            message = db.session.get(OutboxMessage, int(job.args[0]))
            return message.vendor_id if message else None
    except Exception:  # noqa: BLE001 - a job we cannot read is not this vendor's
        return None
    return None


def failed_jobs(vendor_id: int, limit: int = 50) -> list[FailedJob]:
    """Failed sync and outbox jobs of this vendor, newest first."""
    found = []
    for name in ("sync", "outbox"):
        registry = FailedJobRegistry(queue=get_queue(name))
        ids = registry.get_job_ids()[-500:]
        for job in Job.fetch_many(ids, connection=get_redis(), serializer=JSONSerializer):
            if job is None or _job_vendor(job) != vendor_id:
                continue
            result = job.latest_result()
            error = (result.exc_string or "") if result else ""
            found.append(FailedJob(job.id, name, job.func_name, job.ended_at,
                                   error.strip().splitlines()[-1][:300] if error else ""))
    found.sort(key=lambda j: str(j.ended_at or ""), reverse=True)
    return found[:limit]


def requeue_failed_job(vendor_id: int, job_id: str) -> bool:
    """Put a failed job of this vendor back on its queue; False if it is not theirs."""
    for name in ("sync", "outbox"):
        registry = FailedJobRegistry(queue=get_queue(name))
        if job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=get_redis(), serializer=JSONSerializer)
            if _job_vendor(job) != vendor_id:
                return False
            registry.requeue(job_id)
            return True
    return False


def outbox_needing_attention(vendor_id: int) -> list[OutboxMessage]:
    """Failed and unknown submissions: a person decides whether to send again."""
    return list(db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.vendor_id == vendor_id,
            OutboxMessage.state.in_([OutboxState.FAILED.value, OutboxState.UNKNOWN.value]))
        .order_by(OutboxMessage.id.desc()).limit(50)))
