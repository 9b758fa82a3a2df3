"""Dashboard pages and their JSON twins: figures, drill-down, freshness, tenancy, OpenAPI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from tests.auth_helpers import make_user, make_vendor, sign_in
from tests.dashboards_data import NOW, THIS_WEEK, seed_otif, seed_reports
from webapp.amazon.models import SyncState
from webapp.auth import tokens
from webapp.extensions import db

PAGES = ["/dashboards", "/dashboards/otif", "/dashboards/otif?weeks=52", "/dashboards/metrics",
         "/dashboards/stock", "/dashboards/shipments", "/dashboards/sales",
         f"/dashboards/otif/lines?week={THIS_WEEK}"]


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr("webapp.dashboards.routes.utcnow", lambda: NOW)
    monkeypatch.setattr("webapp.dashboards.api.utcnow", lambda: NOW)


@pytest.fixture
def vendor(app):
    vendor = make_vendor("Acme Trading", timezone="Asia/Shanghai")
    seed_otif(vendor)
    seed_reports(vendor, asins=("B0AAAAAAA1", "B0AAAAAAA2"))
    for feed in ("orders", "status", "reports"):
        db.session.add(SyncState(vendor_id=vendor.id, feed=feed, scope="",
                                 last_success_at=NOW - timedelta(minutes=5)))
    db.session.commit()
    return vendor


def _token(vendor, role="viewer"):
    user, _ = make_user(vendor, role=role)
    _t, raw = tokens.create_token(user, "bi")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_every_page_renders_with_period_freshness_and_accessible_charts(client, vendor):
    sign_in(client, role="viewer", vendor=vendor)
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "data-period" in html, url
        assert ' style="' not in html, url  # CSP: no inline styles
        for svg in re.findall(r"<svg[^>]*>", html):
            assert 'role="img"' in svg and "aria-labelledby" in svg
    html = client.get("/dashboards/otif").get_data(as_text=True)
    assert "How ACORN counts OTIF" in html and "Sunday to Saturday" in html
    assert "37.50%" in html  # this week's OTIF by lines
    assert "Data last synced:" in html
    assert html.count("<title") >= 3  # page title + line chart + warehouse bars


def test_drill_down_page_shows_the_evidence(client, vendor):
    sign_in(client, role="viewer", vendor=vendor)
    otif_page = client.get("/dashboards/otif").get_data(as_text=True)
    link = re.search(rf'data-week="{THIS_WEEK}" href="([^"]+)"', otif_page).group(1)
    html = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "5 failing lines" in html
    assert "late by 3 days" in html and "short by 12 units" in html and "not received" in html
    assert "PO-NOT-DUE" not in html
    assert client.get("/dashboards/otif/lines?measure=nope").status_code == 400
    assert client.get("/dashboards/otif?weeks=7").status_code == 400


def test_shipments_page_has_an_honest_empty_state(client, vendor):
    sign_in(client, vendor=vendor)
    assert "data-empty" in client.get("/dashboards/shipments").get_data(as_text=True)


def test_pages_need_sign_in(client, app):
    assert client.get("/dashboards/otif").status_code == 302


def test_otif_json_twin(client, vendor):
    body = client.get("/api/v1/dashboards/otif?weeks=13", headers=_token(vendor)).get_json()
    assert len(body["weeks"]) == 13
    week = body["weeks"][-1]
    assert (week["week_start"], week["week_end"]) == ("2026-11-15", "2026-11-21")
    assert (week["lines"], week["lines_on_time"], week["lines_in_full"], week["lines_otif"]) == (
        8, 4, 5, 3)
    assert (week["units"], week["units_otif"]) == (183, 23)
    assert week["rates_by_lines"]["otif"] == "37.50"
    assert week["rates_by_units"]["otif"] == "12.57"
    assert body["target_percent"] == "90.00"
    assert body["definition"]["timezone"] == "Asia/Shanghai"
    assert body["synced_at"].startswith("2026-11-18T11:55")
    assert {w["warehouse"] for w in body["warehouses"]} == {"ABE2", "LGB8"}
    bad = client.get("/api/v1/dashboards/otif?weeks=7", headers=_token(vendor))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"


def test_drill_down_json_twin(client, vendor):
    body = client.get(f"/api/v1/dashboards/otif/lines?week={THIS_WEEK}&measure=otif",
                      headers=_token(vendor)).get_json()
    assert body["total"] == 5
    late = {(x["po_number"], x["item_sequence_number"]): x["late_days"] for x in body["lines"]}
    assert late[("PO-LGB8", "1")] == 3
    assert client.get("/api/v1/dashboards/otif/lines?measure=x",
                      headers=_token(vendor)).status_code == 400


def test_other_json_twins(client, vendor):
    headers = _token(vendor)
    stock = client.get("/api/v1/dashboards/stock", headers=headers).get_json()
    assert stock["low_stock"] == ["B0AAAAAAA1"]
    a1 = next(a for a in stock["asins"] if a["asin"] == "B0AAAAAAA1")
    assert (a1["sellable_on_hand"], a1["weekly_velocity"], a1["weeks_of_cover"]) == (
        100, "50.0", "2.0")
    m = client.get("/api/v1/dashboards/metrics?weeks=13", headers=headers).get_json()
    assert (m["confirmation_rate"], m["receive_fill_rate"]) == ("95.40", "70.00")
    sales = client.get("/api/v1/dashboards/sales", headers=headers).get_json()
    assert sales["alerts"] == ["B0AAAAAAA2"]
    ships = client.get("/api/v1/dashboards/shipments", headers=headers).get_json()
    assert ships["by_state"]["receiving"] == 0
    assert client.get("/api/v1/dashboards/stock").status_code == 401


def test_another_vendors_token_sees_none_of_it(client, vendor):
    other = make_vendor("Other Co", timezone="Asia/Shanghai")
    body = client.get("/api/v1/dashboards/otif", headers=_token(other)).get_json()
    assert body["total"]["lines"] == 0 and body["warehouses"] == []
    lines = client.get(f"/api/v1/dashboards/otif/lines?week={THIS_WEEK}",
                       headers=_token(other)).get_json()
    assert lines["total"] == 0
    assert client.get("/api/v1/dashboards/stock", headers=_token(other)).get_json()["asins"] == []


def test_dashboard_paths_are_documented(app):
    from webapp.dashboards.api import DASHBOARD_OPENAPI_PATHS

    routes = {r.rule.removeprefix("/api/v1") for r in current_app.url_map.iter_rules()
              if r.rule.startswith("/api/v1/dashboards")}
    assert set(DASHBOARD_OPENAPI_PATHS) == routes and len(routes) == 6
    for path in DASHBOARD_OPENAPI_PATHS.values():
        assert path["get"]["operationId"] and "200" in path["get"]["responses"]


def _low_stock_figure(client) -> str:
    html = client.get("/dashboards").get_data(as_text=True)
    card = html.split('data-card="stock"', 1)[1]
    return re.search(r'<strong class="figure[^"]*">([^<]*)</strong>', card).group(1)


def test_overview_figures_are_kept_a_minute_but_a_sync_or_a_setting_refreshes_them(
        app, client, vendor):
    import time

    from webapp.vendor_reports.models import InventoryWeek

    app.config["DASHBOARD_OVERVIEW_SECONDS"] = 60
    sign_in(client, role="viewer", vendor=vendor)
    assert _low_stock_figure(client) == "1"  # B0AAAAAAA1: 100 on hand, about 50 a week
    newest = db.session.scalar(
        sa.select(InventoryWeek).where(InventoryWeek.asin == "B0AAAAAAA2")
        .order_by(InventoryWeek.week_start.desc()).limit(1))
    newest.sellable_on_hand_units = 5  # now low too
    db.session.commit()
    assert _low_stock_figure(client) == "1"  # kept: no sync since
    html = client.get("/dashboards").get_data(as_text=True)
    assert "Figures as of" in html
    state = db.session.scalar(sa.select(SyncState).where(SyncState.feed == "reports"))
    state.last_success_at = NOW  # a sync brought new data
    db.session.commit()
    assert _low_stock_figure(client) == "2"
    vendor.weeks_of_cover_threshold = 0  # a changed setting applies at once
    db.session.commit()
    assert _low_stock_figure(client) == "0"
    app.config["DASHBOARD_OVERVIEW_SECONDS"] = 1
    vendor.weeks_of_cover_threshold = 4
    db.session.commit()
    assert _low_stock_figure(client) == "2"
    newest.sellable_on_hand_units = 900
    db.session.commit()
    assert _low_stock_figure(client) == "2"
    time.sleep(1.1)  # and after DASHBOARD_OVERVIEW_SECONDS, whatever happened
    assert _low_stock_figure(client) == "1"


def test_kept_overview_cards_follow_the_language(app, client, vendor):
    """The rendered cards are kept with the figures, per language: a Chinese reader of a kept
    overview gets Chinese cards, an English one English cards, from the same figures."""
    from flask_babel import refresh

    app.config["DASHBOARD_OVERVIEW_SECONDS"] = 60
    user = sign_in(client, role="viewer", vendor=vendor)
    assert "Figures as of" in client.get("/dashboards").get_data(as_text=True)
    user.locale = "zh_Hans"
    db.session.commit()
    refresh()  # tests share one app context: drop the language it remembered
    html = client.get("/dashboards").get_data(as_text=True)
    assert "数据计算于" in html and "Figures as of" not in html
    assert _low_stock_figure(client) == "1"
    user.locale = "en"
    db.session.commit()
    refresh()
    assert "Figures as of" in client.get("/dashboards").get_data(as_text=True)
