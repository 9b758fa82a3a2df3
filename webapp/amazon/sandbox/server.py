"""Run the sandbox on a threaded WSGI server, in-process (tests) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from werkzeug.serving import WSGIRequestHandler, make_server

from webapp.amazon.sandbox.app import create_sandbox_app
from webapp.amazon.sandbox.faults import Faults
from webapp.amazon.sandbox.store import DEFAULT_REFRESH_TOKEN, SandboxStore

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (it costs time under load)."""

    def log_request(self, code="-", size="-"):
        pass


class SandboxServer:
    """The sandbox on a free port in a background thread: `with SandboxServer(seed=1) as s: s.url`.

    `validate_responses=True` checks every Amazon answer against its model (slow: about 70 ms
    per 1,000-line page) and lists violations in GET /_sandbox/stats; tests turn it on.
    `real_clock=False` (default) keeps a manual clock moved only by `tick`; `real_clock=True`
    follows the wall clock and plays due events (new POs every few minutes) in the background.
    """

    def __init__(
        self,
        seed: int = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | dict | None = None,
        real_clock: bool = False,
        start: datetime | None = None,
        state_file: str | None = None,
        po_interval_minutes: float = 10.0,
        token_ttl_seconds: int = 3600,
        enforce_rate_limits: bool = False,
        validate_responses: bool = False,
        autosave_seconds: float = 5.0,
        quiet: bool = True,
    ):
        self.store = SandboxStore(
            seed,
            start=start,
            real_clock=real_clock,
            po_interval_minutes=po_interval_minutes,
            token_ttl_seconds=token_ttl_seconds,
            state_file=state_file,
        )
        self.app = create_sandbox_app(
            self.store,
            seed=seed,
            faults=faults,
            enforce_rate_limits=enforce_rate_limits,
            validate_responses=validate_responses,
        )
        self.sandbox = self.app.extensions["acorn_sandbox"]
        self._host, self._port = host, port
        self._quiet = quiet
        self._autosave_seconds = autosave_seconds
        self._server = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        """Base URL (the SP-API endpoint), e.g. http://127.0.0.1:54321."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def endpoint(self) -> str:
        """Same as `url`: what SPAPI_ENDPOINT should be."""
        return self.url

    @property
    def token_url(self) -> str:
        """The Login-with-Amazon token URL (what SPAPI_TOKEN_URL should be)."""
        return f"{self.url}/auth/o2/token"

    refresh_token = DEFAULT_REFRESH_TOKEN

    def start(self) -> SandboxServer:
        """Bind and serve in a daemon thread; return self."""
        handler = _QuietHandler if self._quiet else WSGIRequestHandler
        self._server = make_server(
            self._host, self._port, self.app, threaded=True, request_handler=handler
        )
        self._server.daemon_threads = True
        self._stopping.clear()
        serve = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sandbox-http",
            daemon=True,
        )
        serve.start()
        background = threading.Thread(target=self._background, name="sandbox-clock", daemon=True)
        background.start()
        self._threads = [serve, background]
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (used by the CLI)."""
        if self._server is None:
            self.start()
        try:
            while not self._stopping.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def _background(self) -> None:
        waited = 0.0
        while not self._stopping.wait(1.0):
            try:
                if self.store.real_clock:
                    self.store.run_due_events()
                waited += 1.0
                if self.store.state_file and self.store.dirty and waited >= self._autosave_seconds:
                    waited = 0.0
                    self.store.save()
            except Exception:  # keep the clock alive; the next second tries again
                log.exception("sandbox background step failed")

    def stop(self) -> None:
        """Stop serving, save the state file if any, and join the threads."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self.store.state_file:
            self.store.save()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # Shortcuts for in-process callers; HTTP clients use /_sandbox/ instead.
    def tick(self, minutes: float) -> dict:
        """Advance the simulated clock by `minutes`."""
        return self.store.tick(minutes)

    def set_faults(self, **switches) -> dict:
        """Change fault switches (same names as POST /_sandbox/faults)."""
        return self.sandbox.injector.configure(switches)

    def create_purchase_orders(self, count: int = 10, **options) -> list[str]:
        """Create POs (same options as POST /_sandbox/purchase-orders)."""
        return self.store.create_purchase_orders(
            options.pop("refresh_token", None), count, **options
        )
