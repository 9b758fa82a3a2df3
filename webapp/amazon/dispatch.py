"""Run and request syncs: one queued job per (vendor, feeds) however often it is asked for."""

from __future__ import annotations

import time
from datetime import datetime

from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from webapp.amazon.accounts import has_credentials
from webapp.amazon.sync_orders import sync_orders
from webapp.amazon.sync_reports import sync_reports
from webapp.amazon.sync_state import SyncResult
from webapp.amazon.sync_status import sync_status
from webapp.extensions import db
from webapp.redis_conn import get_redis
from webapp.vendors.models import Vendor

FEEDS = ("orders", "status", "reports")
JOB_FUNC = "worker.jobs.sync_vendor"
# A queued request older than this whose job vanished is considered lost and replaced.
LOST_AFTER_SECONDS = 30

# Replace the marker only if it still names the job we looked at (compare-and-set).
_SWAP = """
local current = redis.call('get', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""
_CLEAR = """
local current = redis.call('get', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  return redis.call('del', KEYS[1])
end
return 0
"""


def run_feeds(vendor_id: int, feeds: list[str], *, since: datetime | None = None
              ) -> list[SyncResult]:
    """Run the named feeds of one vendor in order (orders before status, so status finds POs)."""
    from flask import current_app

    # Page size is Amazon's maximum unless ops (or a chaos test) asks for smaller pages.
    page_size = current_app.config["SPAPI_PAGE_SIZE"]
    results = []
    for feed in [f for f in FEEDS if f in feeds]:
        if feed == "orders":
            results.append(sync_orders(vendor_id, since=since, page_size=page_size))
        elif feed == "status":
            results.append(sync_status(vendor_id, since=since, page_size=page_size))
        else:
            results.append(sync_reports(vendor_id))
    return results


def _marker(vendor_id: int, feeds: list[str]) -> str:
    return f"acorn:sync:queued:{vendor_id}:{'+'.join(feeds)}"


def request_sync(vendor_id: int, feeds: list[str], *, since: str | None = None,
                 queue_name: str = "sync") -> str:
    """Enqueue a sync unless the same one is already waiting; return the job id.

    A Redis marker names the waiting job; the job clears it when it starts. So a hundred
    requests at once queue one job, and a request made after a run began queues the next.
    """
    from flask import current_app

    from worker.queues import get_queue

    feeds = [f for f in FEEDS if f in feeds]
    r = get_redis()
    key = _marker(vendor_id, feeds)
    ttl = int(current_app.config["JOB_TIMEOUT_SECONDS"]) * 6
    for _ in range(5):
        raw = r.get(key)
        current = raw.decode() if raw else ""
        if current:
            job_id, _, stamp = current.partition("|")
            if _still_waiting(job_id, float(stamp or 0)):
                return job_id
        job_id = f"sync-{vendor_id}-{'_'.join(feeds)}-{r.incr('acorn:sync:seq')}"
        if r.eval(_SWAP, 1, key, current, f"{job_id}|{time.time()}", ttl):
            get_queue(queue_name).enqueue(
                JOB_FUNC, args=(vendor_id, feeds), kwargs={"since": since}, job_id=job_id,
                result_ttl=3600, failure_ttl=7 * 24 * 3600, retry=Retry(3, [30, 120, 600]),
                job_timeout=current_app.config["JOB_TIMEOUT_SECONDS"])
            return job_id
    return job_id


def _still_waiting(job_id: str, requested_at: float) -> bool:
    try:
        job = Job.fetch(job_id, connection=get_redis(), serializer=JSONSerializer)
    except NoSuchJobError:
        # Between the marker and the enqueue, or lost: give the requester a moment.
        return time.time() - requested_at < LOST_AFTER_SECONDS
    return job.get_status(refresh=True) in ("queued", "deferred", "scheduled")


def mark_started(vendor_id: int, feeds: list[str], job_id: str | None) -> None:
    """Forget the waiting marker if it names this job, so later requests queue a new run."""
    if job_id:
        get_redis().eval(_CLEAR, 1, _marker(vendor_id, [f for f in FEEDS if f in feeds]), job_id)


def syncable_vendor_ids() -> list[int]:
    """Vendors with SP-API credentials (every vendor in development: the sandbox default)."""
    return [v.id for v in db.session.scalars(select(Vendor).order_by(Vendor.id))
            if has_credentials(v)]
