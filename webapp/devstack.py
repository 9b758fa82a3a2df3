"""`make run`: the whole of ACORN on embedded defaults, in one terminal.

Starts, in order: the embedded Redis (unless REDIS_URL is set), database migrations, the demo
vendor on first run, the SP-API sandbox (unless SPAPI_ENDPOINT is set), an RQ worker with
RQ's scheduler, ACORN's periodic scheduler and the web server. Ctrl-C or SIGTERM stops them
all, Redis last, so nothing is left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from config import BASE_DIR, Config
from webapp.embedded_redis import EmbeddedRedis, die_with_parent


class DevStack:
    """Supervise ACORN's development processes."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5000) -> None:
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self.env = dict(os.environ, ACORN_ENV=os.environ.get("ACORN_ENV", "development"),
                        PYTHONUNBUFFERED="1")
        self.redis: EmbeddedRedis | None = None
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            [sys.executable, "-m", "flask", "--app", "webapp", *args],
            cwd=BASE_DIR, env=self.env, preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        self.children.append((name, process))
        return process

    def _flask(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "flask", "--app", "webapp", *args],
            cwd=BASE_DIR, env=self.env, check=True,
        )

    def start(self) -> None:
        """Bring everything up."""
        if not self.env.get("REDIS_URL"):
            self.redis = EmbeddedRedis(Config.INSTANCE_DIR)
            self.env["REDIS_URL"] = self.redis.start()
        self._flask("db", "upgrade")
        self._flask("demo", "--if-empty")
        if not self.env.get("SPAPI_ENDPOINT"):
            port = self.env.get("SANDBOX_PORT", str(Config.SANDBOX_PORT))
            sandbox_url = f"http://127.0.0.1:{port}"
            self._spawn("sandbox", ["sandbox", "--port", port, "--state",
                                    os.path.join(Config.INSTANCE_DIR, "sandbox-state.json")])
            self.env["SPAPI_ENDPOINT"] = sandbox_url
            self.env["SPAPI_TOKEN_URL"] = f"{sandbox_url}/auth/o2/token"
            self._wait_for(f"{sandbox_url}/_sandbox/stats", "SP-API sandbox")
        self._spawn("worker", ["worker", "--with-scheduler"])
        self._spawn("scheduler", ["scheduler"])
        self._spawn("web", ["run", "--host", self.host, "--port", str(self.port),
                            "--no-reload", "--with-threads"])
        self._wait_for(f"{self.url}/healthz", "web server", accept_any_status=True)
        self._banner()

    def _wait_for(self, url: str, what: str, timeout: float = 30,
                  accept_any_status: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            self._check_children()
            try:
                response = httpx.get(url, timeout=2)
                if accept_any_status or response.is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        if not self.stopping:
            raise RuntimeError(f"{what} did not come up at {url}")

    def _banner(self) -> None:
        self._flask("demo", "--show-access", "--base-url", self.url)
        print(f"\n  ACORN is running at {self.url}  (Ctrl-C stops everything)\n", flush=True)

    def _check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None and not self.stopping:
                raise RuntimeError(f"{name} exited with code {process.returncode}")

    def wait(self) -> None:
        """Sleep until a child dies or a stop is requested."""
        while not self.stopping:
            self._check_children()
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop children in reverse order, then Redis."""
        self.stopping = True
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.children):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.redis is not None:
            self.redis.stop()


def main() -> int:
    """Run the development stack until Ctrl-C or SIGTERM."""
    stack = DevStack(port=int(os.environ.get("ACORN_PORT", "5000")))

    def request_stop(_signum, _frame):
        stack.stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    code = 0
    try:
        stack.start()
        stack.wait()
    except RuntimeError as exc:
        print(f"ACORN: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
