"""Dashboards in Chromium on a phone: every dashboard fits 390 px; drill-down reaches the lines."""

from __future__ import annotations

import pyotp
import pytest

from tests.auth_helpers import PASSWORD, make_user, make_vendor
from tests.dashboards_data import NOW, seed_otif, seed_reports

pytestmark = pytest.mark.e2e


def test_dashboards_on_a_phone_and_drill_down_to_failing_lines(live_server, page, app,
                                                                 monkeypatch):
    monkeypatch.setattr("webapp.dashboards.routes.utcnow", lambda: NOW)
    vendor = make_vendor("Acme Trading", domain="acme.cn", timezone="Asia/Shanghai")
    seed_otif(vendor)
    seed_reports(vendor)
    user, secret = make_user(vendor, role="viewer")
    page.goto(live_server.url + "/dashboards")
    page.wait_for_url("**/login**")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    page.wait_for_url("**/dashboards")
    for path, heading in (("/dashboards", "How are we doing with Amazon?"),
                          ("/dashboards/otif", "On time, in full"),
                          ("/dashboards/metrics", "Amazon's vendor metrics"),
                          ("/dashboards/stock", "Stock"),
                          ("/dashboards/shipments", "Advance ship notices"),
                          ("/dashboards/sales", "Sales and returns")):
        page.goto(live_server.url + path)
        assert page.locator("h1").inner_text() == heading
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        for chart in page.locator("svg.chart").all():
            assert chart.get_attribute("role") == "img"
            assert chart.bounding_box()["width"] <= 390
    page.goto(live_server.url + "/dashboards/otif")
    assert page.locator("[data-figure=otif] .figure").inner_text() == "44.44%"  # 4 of 9 lines
    page.click("[data-figure=otif]")
    page.wait_for_url("**/dashboards/otif/lines**")
    assert page.locator("[data-failing-total]").inner_text().startswith("5 failing lines")
    assert page.locator("[data-late-days='3']").count() == 1
    assert page.locator("[data-short='12']").inner_text() == "short by 12 units"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
