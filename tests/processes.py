"""Start ACORN's own processes (`flask worker`, `flask scheduler`, ...) for a test's config."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def process_env(config, **extra: str) -> dict[str, str]:
    """Environment that points a child process at the test's database, Redis and instance."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=config.SQLALCHEMY_DATABASE_URI,
        REDIS_URL=config.REDIS_URL,
        ACORN_INSTANCE_DIR=config.INSTANCE_DIR,
        ACORN_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def spawn_flask(args: list[str], config, log_path: Path | None = None, **extra: str):
    """Run `flask --app webapp ARGS` as a child process."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", *args],
        cwd=REPO, env=process_env(config, **extra), stdout=out, stderr=subprocess.STDOUT,
    )


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def stop(process: subprocess.Popen, timeout: float = 15) -> int:
    """Ask a child to stop (SIGTERM), kill it if it will not; return its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
