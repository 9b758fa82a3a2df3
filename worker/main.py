"""The worker entry point: an RQ worker that runs every job inside the Flask app."""

from __future__ import annotations

import gc
import time

from flask import Flask
from redis.client import Pipeline
from rq import Worker
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer

from webapp.core.health import HEARTBEATS_KEY
from webapp.extensions import db
from webapp.observability.request_ids import current_job_request_id
from webapp.redis_conn import get_redis

# RQ heartbeats every worker_ttl - 15 seconds when idle; 60 keeps /healthz's view fresh.
WORKER_TTL = 60


class AppWorker(Worker):
    """Forking RQ worker whose work horses run jobs in the app context with their own DB pool."""

    app: Flask

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None):
        super().heartbeat(timeout, pipeline)
        connection = pipeline if pipeline is not None else self.connection
        now = time.time()
        connection.zadd(HEARTBEATS_KEY, {self.name: now})
        connection.zremrangebyscore(HEARTBEATS_KEY, 0, now - 86400)  # forget long-gone workers

    def main_work_horse(self, job: Job, queue: Queue):
        # A forked child must not reuse the parent's database connections.
        with self.app.app_context():
            db.engine.dispose(close=False)
        # The horse lives for one job: freezing what it inherited keeps the garbage collector
        # from walking (and so copy-on-write copying) the whole inherited heap; measured:
        # push fan-out 0.71-0.88 -> 0.82-0.86 of a bare loop (docs/benchmarks.md).
        gc.freeze()
        return super().main_work_horse(job, queue)

    def get_heartbeat_ttl(self, job: Job) -> int:
        # RQ adds a fixed 60 s to the monitoring interval; a job whose worker died stays
        # "started" that long before the registry cleanup hands it on. Configurable, so a
        # deployment (or a test that kills workers) can notice dead workers sooner.
        ttl = super().get_heartbeat_ttl(job)
        return ttl - 60 + self.app.config["WORKER_HEARTBEAT_GRACE_SECONDS"]

    def perform_job(self, job: Job, queue: Queue) -> bool:
        # The request that enqueued the job names it in every log line the job writes.
        token = current_job_request_id.set((job.meta or {}).get("request_id"))
        with self.app.app_context():
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()
                current_job_request_id.reset(token)


def build_worker(app: Flask, queues: list[str] | None = None, name: str | None = None) -> AppWorker:
    """Create a worker listening on `queues` (default: all of ACORN's, in priority order)."""
    names = queues or list(app.config["QUEUES"])
    unknown = set(names) - set(app.config["QUEUES"])
    if unknown:
        raise ValueError(f"unknown queue(s): {', '.join(sorted(unknown))}")
    connection = get_redis(app)
    worker = AppWorker(
        [Queue(n, connection=connection, serializer=JSONSerializer) for n in names],
        connection=connection,
        serializer=JSONSerializer,
        name=name,
        worker_ttl=WORKER_TTL,
        job_monitoring_interval=app.config["WORKER_MONITOR_INTERVAL_SECONDS"],
    )
    worker.app = app
    return worker


def warm_up(app: Flask, queues: list[str]) -> None:
    """Do once, before the first fork, what every work horse would otherwise do again.

    A horse is a fresh copy of this process for one job: whatever the parent has not done
    yet, each horse does on its own time. Configuring the ORM's mappers on the first query
    and loading the VAPID keys cost about a tenth of a second a job, which for push batches
    was a tenth of the fan-out (docs/benchmarks.md, "Web push fan-out").
    """
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    if "notify" in queues:
        from webapp.push.vapid import vapid_keys

        with app.app_context():
            vapid_keys(app)


def run_worker(app: Flask, queues=None, *, burst: bool = False, with_scheduler: bool = True,
               name: str | None = None) -> bool:
    """Run a worker until stopped (or, with `burst`, until the queues are empty)."""
    worker = build_worker(app, queues, name)
    warm_up(app, queues or list(app.config["QUEUES"]))
    if "media" in (queues or app.config["QUEUES"]):
        # Import the OCR stack once, before the fork per job, but never build the engine here:
        # onnxruntime's state does not survive fork (docs/invoices.md, "Reading invoices").
        from webapp.invoices.ocr import preload_modules

        preload_modules()
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
