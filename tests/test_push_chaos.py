"""A worker killed mid-fan-out, then a fresh one: every device gets each alert exactly once.

The worker sends with several streams at once; killed, it leaves exactly the in-flight
rows (one per stream) in doubt and never sends them again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from tests.processes import REPO, process_env
from tests.push_service import PushService, add_device, make_po, make_user, make_vendor
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.push import services
from webapp.push.models import DeliveryState, PushDelivery
from webapp.push.vapid import vapid_keys
from worker.push_jobs import scan

pytestmark = pytest.mark.slow

STALE_SECONDS = 2
STREAMS = 4  # sends in flight at once per job (PUSH_CONCURRENCY)


def start_worker(config, log_path, *extra_args: str) -> subprocess.Popen:
    """Start `flask worker` on the notify queue with short claim and batch settings."""
    env = process_env(config, PUSH_CLAIM_STALE_SECONDS=str(STALE_SECONDS),
                      PUSH_TIMEOUT_SECONDS="30", PUSH_BATCH_SIZE="40",
                      PUSH_CONCURRENCY=str(STREAMS))
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--queue", "notify",
         *extra_args],
        cwd=REPO, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively (RQ's work horse runs in a session of its own)."""
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except FileNotFoundError:
        return []
    return [d for c in map(int, children) for d in (c, *descendants(c))]


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL a worker and its work horse, as a power cut or the OOM killer would."""
    for pid in [*descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(10)


def test_worker_killed_mid_fan_out_then_restarted_delivers_each_alert_once_per_device(
        app, test_config, tmp_path):
    app.config.update(PUSH_CLAIM_STALE_SECONDS=STALE_SECONDS, PUSH_BATCH_SIZE=40)
    vendor = make_vendor()
    with PushService(expected_vapid_key=vapid_keys(app).public_key) as service:
        users = [make_user(vendor, f"u{i}@acme.example") for i in range(3)]
        for user in users:
            add_device(user, service, "phone")
            add_device(user, service, "tablet")
        for i in range(25):
            po = make_po(vendor, f"CHAOS{i:02d}")
            raise_event(vendor.id, "po.changed", po.po_number, purchase_order_id=po.id)
        db.session.commit()
        result = scan()  # 75 alerts x 2 devices, queued as 4 jobs
        assert result["deliveries"] == 150 and result["jobs"] == 4
        # From the 61st push on every request hangs: each of the job's streams is stuck
        # mid-request, its claim committed, when the worker is killed.
        service.hang_from(60)

        log = tmp_path / "worker.log"
        first = start_worker(test_config, log)
        try:
            deadline = time.monotonic() + 60
            while service.held < STREAMS and time.monotonic() < deadline:
                time.sleep(0.05)
            assert service.held == STREAMS, log.read_text()
            kill_hard(first)
        finally:
            if first.poll() is None:
                kill_hard(first)
        service.hang_from(None)
        service.release.set()  # the dead worker's connections are gone anyway
        sent_before_restart = len(service.requests)
        assert sent_before_restart == 60 + STREAMS

        time.sleep(STALE_SECONDS + 0.5)
        recovered = scan()  # marks the cut-off sends in doubt, re-queues what nobody claimed
        assert recovered["in_doubt"] == STREAMS
        assert recovered["requeued"] == 150 - sent_before_restart
        second = start_worker(test_config, log, "--burst")
        assert second.wait(120) == 0, log.read_text()

        counts = service.count_by_device_and_alert()
        assert len(counts) == 150, "every (alert, device) reached the push service"
        assert set(counts.values()) == {1}, "and none twice"
        by_state = dict(db.session.execute(
            select(PushDelivery.state, func.count()).group_by(PushDelivery.state)).all())
        assert by_state == {DeliveryState.SENT.value: 150 - STREAMS,
                            DeliveryState.IN_DOUBT.value: STREAMS}
        # A third scan changes nothing: the in-doubt sends are never repeated.
        assert scan()["requeued"] == 0
        assert services.overdue_pending_deliveries() == []
