"""Browser-test fixtures: the app served on a free loopback port, driven in Debian's Chromium.

Chromium is a hard requirement: a missing /usr/bin/chromium fails these tests, never skips
them (`.ci/run` installs it with apt-get).
"""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


class LiveServer:
    """The app under test, served by werkzeug in a background thread."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    """Serve `app` on a free port for the duration of a test."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    """Debian's Chromium, headless; fail (not skip) when it is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser):
    """A fresh phone-sized browser context."""
    ctx = browser.new_context(**PHONE)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A page in a phone-sized context."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
