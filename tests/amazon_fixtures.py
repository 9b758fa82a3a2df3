"""Fixtures for the Amazon connector tests: a real sandbox over HTTP and a vendor that uses it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.processes import process_env
from webapp.amazon.sandbox import SandboxServer
from webapp.extensions import db
from webapp.vendors.services import create_vendor


@pytest.fixture
def sandbox(app):
    """A fresh sandbox on a free port; the app's SP-API endpoint and token URL point at it."""
    with SandboxServer(seed=1) as server:
        app.config["SPAPI_ENDPOINT"] = server.url
        app.config["SPAPI_TOKEN_URL"] = server.token_url
        app.config["SPAPI_BACKOFF_BASE_SECONDS"] = 0.02
        yield server


@pytest.fixture
def vendor(app):
    """The demo vendor with the sandbox's default vendor code DEMO1 (no own credentials)."""
    vendor = create_vendor("Demo Foods", domains=["demo-foods.example"], vendor_codes=["DEMO1"],
                           timezone="UTC")
    db.session.commit()
    return vendor


def control(server, path: str, payload: dict | None = None, method: str = "POST"):
    """Call the sandbox's control API over HTTP."""
    response = httpx.request(method, f"{server.url}/_sandbox/{path}", json=payload, timeout=30)
    response.raise_for_status()
    return response.json()


def children_of(pid: int) -> list[int]:
    """Direct children of a process (an RQ work horse runs in its own process group)."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse at once, like a machine losing power."""
    for child in children_of(pid):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def worker_env(test_config, server, instance_dir, **extra) -> dict:
    """Environment for a `flask worker` subprocess on the test database, Redis and sandbox."""
    return process_env(test_config, SPAPI_ENDPOINT=server.url, SPAPI_TOKEN_URL=server.token_url,
                       ACORN_INSTANCE_DIR=str(instance_dir), **extra)


def start_worker(env: dict, *queues: str, burst: bool = False) -> subprocess.Popen:
    """Start `flask --app webapp worker` as a real subprocess."""
    args = [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--without-scheduler"]
    args += [f"--queue={q}" for q in queues] + (["--burst"] if burst else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
