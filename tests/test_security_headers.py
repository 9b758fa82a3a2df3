"""Headers on every page (signed out and in), no caching of signed-in pages, bandit clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.auth_helpers import sign_in
from webapp.security import CSP

ROOT = Path(__file__).resolve().parent.parent


def _get_pages(app):
    """Every GET route without arguments (and a few with), for a full tour."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            yield rule.rule
    yield "/static/app.css"
    yield "/invite/not-a-token"
    yield "/api/v1/me"


def _check(response, path):
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "script-src 'self'"):
        assert directive in csp, (path, directive)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h.get("X-Content-Type-Options") == "nosniff", path
    assert h.get("Referrer-Policy"), path


def test_every_page_carries_the_headers(app):
    anonymous, signed_in = app.test_client(), app.test_client()
    sign_in(signed_in, role="admin")
    pages = sorted(set(_get_pages(app)))
    for client, label in ((anonymous, "signed-out"), (signed_in, "signed-in")):
        for path in pages:
            r = client.get(path)
            _check(r, path)
            if label == "signed-in" and not path.startswith(("/static/", "/sw.js", "/manifest")):
                assert "no-store" in r.headers.get("Cache-Control", ""), path
    print(f"\n[headers] pages_checked={len(pages) * 2} csp={CSP!r}")


def test_sign_in_pages_are_not_cached(app, client):
    for path in ("/login", "/invite/x"):
        assert "no-store" in client.get(path).headers["Cache-Control"]


def test_no_inline_script_in_templates():
    inline = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if "<script>" in text or " on" in text and any(
                f" on{e}=" in text for e in ("click", "load", "submit", "change", "error")):
            inline.append(template.name)
    assert inline == []


def test_hsts_in_production(app):
    app.config["ENV_NAME"] = "production"
    try:
        r = app.test_client().get("/login")
        assert "max-age=" in r.headers["Strict-Transport-Security"]
    finally:
        app.config["ENV_NAME"] = "test"


def test_bandit_finds_no_high_severity_issue():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", str(ROOT / "webapp"), "-lll", "-f", "json", "-q"],
        capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    high = [r for r in report["results"] if r["issue_severity"] == "HIGH"]
    print(f"\n[bandit] files={len(report['metrics']) - 1} high_severity={len(high)}")
    assert high == [], high
