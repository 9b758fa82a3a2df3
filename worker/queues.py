"""ACORN's RQ queues: JSON-serialised jobs (never pickle), one queue per concern."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer

from webapp.redis_conn import get_redis

SYNC, OUTBOX, NOTIFY, MEDIA = "sync", "outbox", "notify", "media"


class AppQueue(Queue):
    """A queue whose jobs carry the id of the request that enqueued them (for the logs)."""

    def create_job(self, *args, meta: dict | None = None, **kwargs) -> Job:
        from webapp.observability.request_ids import current_request_id

        request_id = current_request_id()
        if request_id:
            meta = {"request_id": request_id, **(meta or {})}
        return super().create_job(*args, meta=meta, **kwargs)


def get_queue(name: str) -> Queue:
    """Return the named queue on the app's Redis, with the JSON serializer."""
    if name not in current_app.config["QUEUES"]:
        raise ValueError(f"unknown queue {name!r}")
    return AppQueue(
        name,
        connection=get_redis(),
        serializer=JSONSerializer,
        default_timeout=current_app.config["JOB_TIMEOUT_SECONDS"],
    )


def enqueue(
    queue_name: str,
    func: Callable | str,
    *args,
    job_id: str | None = None,
    retry: Retry | None = None,
    job_timeout: int | None = None,
    **kwargs,
) -> Job:
    """Enqueue `func(*args, **kwargs)`; arguments must be JSON values (ids, not objects).

    A `job_id` makes the enqueue deterministic: RQ keeps one job per id, so the same
    work asked for twice while the first is still queued is not queued twice.
    """
    queue = get_queue(queue_name)
    if job_id is not None:
        existing = queue.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=True) in ("queued", "started",
                                                                           "deferred", "scheduled"):
            return existing
    return queue.enqueue(
        func, args=args, kwargs=kwargs, job_id=job_id, retry=retry, job_timeout=job_timeout,
        result_ttl=3600, failure_ttl=7 * 24 * 3600,
    )
