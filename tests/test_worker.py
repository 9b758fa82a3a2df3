"""The RQ worker runs JSON-serialised jobs in the app; the scheduler enqueues each slot once."""

from sqlalchemy import func, select

from webapp.audit.models import AuditEntry
from webapp.audit.services import record
from webapp.extensions import db
from webapp.redis_conn import get_redis
from worker.main import build_worker
from worker.queues import enqueue, get_queue
from worker.schedule import Periodic
from worker.scheduler import LEADER_KEY, Scheduler


def write_audit_entry(action: str) -> str:
    """A job that needs the app context and the database."""
    record(action)
    db.session.commit()
    return action


def test_worker_runs_job_inside_app_with_json_serializer(app):
    job = enqueue("sync", "tests.test_worker.write_audit_entry", "test.job.ran")
    assert get_queue("sync").count == 1
    assert build_worker(app, ["sync"]).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == "test.job.ran"
    count = db.session.scalar(select(func.count()).where(AuditEntry.action == "test.job.ran"))
    assert count == 1


def test_same_job_id_is_not_queued_twice(app):
    first = enqueue("sync", "tests.test_worker.write_audit_entry", "x", job_id="sync-vendor-1")
    second = enqueue("sync", "tests.test_worker.write_audit_entry", "x", job_id="sync-vendor-1")
    assert first.id == second.id
    assert get_queue("sync").count == 1


def test_scheduler_enqueues_each_slot_once_and_elects_one_leader(app):
    periodic = [Periodic("probe", "tests.test_worker.write_audit_entry", 60, "sync",
                         kwargs={"action": "probe"})]
    a, b = Scheduler(app, periodic), Scheduler(app, periodic)
    assert a.is_leader() and not b.is_leader()
    assert len(a.run_due(now=120.0)) == 1
    assert b.run_due(now=130.0) == []  # same slot, even from a second scheduler
    assert len(a.run_due(now=185.0)) == 1  # next slot
    a.release()
    assert get_redis().get(LEADER_KEY) is None
    assert b.is_leader()
