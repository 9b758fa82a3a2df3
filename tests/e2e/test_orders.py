"""Phone-sized Chromium: inbox -> PO -> accept all -> pending -> accepted (real worker and
sandbox); then offline: answer another PO, back online, Amazon gets the answer exactly once."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from tests.amazon_fixtures import control, sandbox, start_worker, vendor, worker_env  # noqa: F401
from tests.auth_helpers import PASSWORD, make_user
from tests.processes import stop
from webapp.amazon.sync_orders import sync_orders
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder

pytestmark = pytest.mark.e2e


def _sign_in(page, base: str, user, secret: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    page.wait_for_url("**/orders")


def _accept_all(page) -> None:
    page.click("[data-action=accept-all]")
    page.wait_for_load_state()
    if page.locator("[data-action=send-anyway]").count():  # the answer carries a risk
        page.click("[data-action=send-anyway]")


def _submissions(sandbox) -> dict:
    return control(sandbox, "submissions?kind=acknowledgement", method="GET")["counts"]


def test_accept_all_then_offline_answer_reaches_amazon_once(live_server, page, context, app,
                                                             sandbox, vendor, test_config,
                                                             tmp_path):
    control(sandbox, "purchase-orders", {"count": 2, "days_back": 0.5, "lines_per_po": 3})
    sync_orders(vendor.id, now=sandbox.store.now())
    first, second = db.session.scalars(
        select(PurchaseOrder).order_by(PurchaseOrder.ack_due_at, PurchaseOrder.id)).all()
    user, secret = make_user(vendor, role="manager")
    worker = start_worker(worker_env(test_config, sandbox, tmp_path), "outbox")
    try:
        base = live_server.url
        _sign_in(page, base, user, secret)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.click(f"[data-po='{first.po_number}']")
        page.wait_for_selector(f"[data-po-detail='{first.po_number}']")
        _accept_all(page)
        page.wait_for_selector("[data-po-detail] [data-ack-state=pending]")
        page.wait_for_selector("[data-po-detail] [data-ack-state=accepted]", timeout=30_000)
        assert _submissions(sandbox).get(first.po_number) == 1

        # Open the second PO online so the service worker keeps it, then lose the network.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.goto(f"{base}/orders/{second.po_number}")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.reload()
        context.set_offline(True)
        page.goto(f"{base}/orders/{second.po_number}")  # from the service worker's cache
        page.click("[data-action=accept-all]")
        page.wait_for_selector("[data-queue-status][data-state=queued]")
        assert _submissions(sandbox).get(second.po_number) is None
        context.set_offline(False)
        page.wait_for_selector("[data-queue-status][data-state=accepted]", timeout=30_000)
        assert _submissions(sandbox).get(second.po_number) == 1
        page.reload()  # the page reads the queue again: nothing is sent twice
        page.wait_for_selector("[data-queue-status][data-state=accepted]")
        assert _submissions(sandbox).get(second.po_number) == 1
    finally:
        stop(worker)
