"""Phone-sized Chromium: acknowledged PO -> ship plan -> labels PDF -> ASN submitted through a real
worker -> the sandbox received it exactly once."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

import pyotp
import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from tests.amazon_fixtures import control, sandbox, start_worker, vendor, worker_env  # noqa: F401
from tests.auth_helpers import PASSWORD, make_user
from tests.processes import stop
from tests.shipments_helpers import sandbox_acknowledged_po, with_prefix
from webapp.extensions import db
from webapp.shipments.models import Shipment

pytestmark = pytest.mark.e2e


def _sign_in(page, base: str, user, secret: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    page.wait_for_url("**/orders")


def test_ship_plan_labels_and_asn_from_a_phone(live_server, page, app, sandbox, vendor,
                                               test_config, tmp_path):
    with_prefix(vendor)
    po = sandbox_acknowledged_po(sandbox, vendor, lines=2)
    user, secret = make_user(vendor, role="manager")
    worker = start_worker(worker_env(test_config, sandbox, tmp_path), "outbox")
    try:
        base = live_server.url
        _sign_in(page, base, user, secret)
        page.goto(f"{base}/orders/{po.po_number}")
        page.click("[data-action=ship]")
        page.wait_for_selector("[data-plan-form]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("input[name=pallets]", "1")
        page.fill("input[name=carrier_scac]", "ABFS")
        page.fill("input[name=bill_of_lading]", "BOL-E2E-1")
        page.fill("input[name=weight]", "7.5")
        page.click("[data-action=save-plan]")
        page.wait_for_selector("[data-shipment-detail]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shipment = db.session.scalar(select(Shipment))
        expected_pages = len(shipment.cartons) + len(shipment.pallets)
        assert expected_pages >= 2

        with page.expect_download() as info:
            page.click("[data-action=labels]")
        data = open(info.value.path(), "rb").read()
        assert data.startswith(b"%PDF")
        doc = pdfium.PdfDocument(data)
        try:
            assert len(doc) == expected_pages
        finally:
            doc.close()

        page.click("[data-action=submit-asn]")
        page.wait_for_selector("[data-shipment-status=pending], [data-shipment-status=submitted]")
        for _ in range(60):
            page.reload()
            if page.locator("[data-shipment-status=submitted]").count():
                break
            page.wait_for_timeout(500)
        page.wait_for_selector("[data-shipment-status=submitted]")
        counts = control(sandbox, "submissions?kind=shipment_confirmation",
                         method="GET")["counts"]
        assert counts == {shipment.shipment_identifier: 1}
        page.goto(f"{base}/shipments/")
        page.wait_for_selector(f"[data-shipment='{shipment.shipment_identifier}']")
    finally:
        stop(worker)
