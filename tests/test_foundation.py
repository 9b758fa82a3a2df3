"""The app factory, configuration, health, static PWA files and the vendors CLI."""

import pytest

from config import Config, ProductionConfig
from webapp.models import Vendor


def test_start_page_renders_with_navigation(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'rel="manifest"' in html
    for label in ("Orders", "Invoices", "Dashboards", "Settings"):
        assert label in html


def test_start_page_in_chinese(client):
    response = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "订单" in response.get_data(as_text=True)


def test_manifest_and_service_worker_are_served(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    sizes = {icon["sizes"] for icon in manifest.get_json()["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(i.get("purpose") == "maskable" for i in manifest.get_json()["icons"])
    sw = client.get("/sw.js")
    assert sw.status_code == 200
    assert sw.headers["Service-Worker-Allowed"] == "/"
    assert "javascript" in sw.mimetype


def test_production_refuses_default_secrets(monkeypatch):
    class Unsafe(ProductionConfig):
        SECRET_KEY = Config.SECRET_KEY
        REDIS_URL = None

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        Unsafe.check_production()


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    # No worker runs in this test, so the app is not fully healthy.
    assert body["worker"]["ok"] is False
    assert response.status_code == 503


def test_vendors_cli_create_and_list(runner, app):
    result = runner.invoke(
        args=["vendors", "create", "Acme Trading", "--domain", "acme.cn", "--domain", "Acme.com",
              "--vendor-code", "acme1", "--timezone", "Asia/Shanghai"]
    )
    assert result.exit_code == 0, result.output
    vendor = Vendor.query.filter_by(name="Acme Trading").one()
    assert sorted(d.domain for d in vendor.domains) == ["acme.cn", "acme.com"]
    assert [c.code for c in vendor.codes] == ["ACME1"]
    listed = runner.invoke(args=["vendors", "list"])
    assert "Acme Trading" in listed.output and "ACME1" in listed.output


def test_vendors_cli_rejects_bad_input(runner, app):
    bad_tz = runner.invoke(args=["vendors", "create", "X", "--domain", "x.cn",
                                 "--vendor-code", "XX1", "--timezone", "Mars/Base"])
    assert bad_tz.exit_code != 0 and "time zone" in bad_tz.output
    runner.invoke(args=["vendors", "create", "A", "--domain", "a.cn", "--vendor-code", "AA1"])
    dup = runner.invoke(args=["vendors", "create", "B", "--domain", "a.cn", "--vendor-code", "BB1"])
    assert dup.exit_code != 0 and "another vendor" in dup.output
    assert Vendor.query.count() == 1
