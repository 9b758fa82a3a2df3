"""`make run`'s supervisor: everything comes up on embedded defaults and SIGTERM leaves nothing."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import REPO, wait_until

# `make run` always uses its own SQLite file and embedded Redis: one CI pass is enough.
pytestmark = [pytest.mark.slow, pytest.mark.backend_independent]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line or environment mentions `marker` (our instance directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in text:
            found.append(int(entry.name))
    return found


def test_run_starts_everything_and_sigterm_stops_it_all(tmp_path):
    instance = tmp_path / "instance"
    port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SPAPI_ENDPOINT", "SPAPI_TOKEN_URL")}
    env.update(ACORN_INSTANCE_DIR=str(instance), ACORN_PORT=str(port),
               SANDBOX_PORT=str(sandbox_port))
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    stack = subprocess.Popen([sys.executable, "-m", "webapp.devstack"], cwd=REPO, env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        def healthy():
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        def banner_printed():
            return "ACORN is running at" in (tmp_path / "run.log").read_text()

        assert wait_until(healthy, 120, 0.5), (tmp_path / "run.log").read_text()
        assert wait_until(banner_printed, 30, 0.5), (tmp_path / "run.log").read_text()
        assert httpx.get(url + "/", timeout=5).status_code == 200
        assert (instance / "acorn.db").exists()  # SQLite under instance/
        assert (instance / "redis.sock").exists()  # embedded Redis under instance/
        assert len(_processes_mentioning(str(instance))) >= 5  # redis, sandbox, worker, ...
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(60)
    assert stack.returncode == 0, (tmp_path / "run.log").read_text()
    assert wait_until(lambda: not _processes_mentioning(str(instance)), 10), (
        "processes left running after SIGTERM")
    assert not (instance / "redis.sock").exists()
