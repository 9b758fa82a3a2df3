"""Lighthouse (mobile, default throttling) on the sign-in page, the inbox, a PO and a dashboard.

Seeds the demo vendor into a scratch SQLite file, serves the app the way production does
(WhiteNoise, hashed static names, compression) on a loopback port, opens a server-side session
for a demo manager and hands Lighthouse its cookie (--extra-headers). Checks: performance
>= 95, accessibility 100, best practices 100 on the four pages; the inbox and every dashboard
<= 50 KB transferred and <= 5 requests on first load. Also writes 360x780 screenshots of each
page to docs/screenshots/ (and the manifest's to static/screenshots/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-sync"
SCORES = {"performance": 95, "accessibility": 100, "best-practices": 100}
MAX_BYTES = 50 * 1024
MAX_REQUESTS = 5
DEMO_POS = int(os.environ.get("BENCH_LIGHTHOUSE_POS", "150"))


def ensure_node_modules() -> None:
    """Install the npm dev tools (package-lock.json) unless they are there already."""
    if LIGHTHOUSE.exists() and (ROOT / "node_modules" / "axe-core" / "axe.min.js").exists():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)  # noqa: S607


def build_app():
    """A production-like app on a seeded scratch database; return (app, cookie, urls)."""
    from flask_migrate import upgrade

    from config import TestConfig
    from webapp import create_app
    from webapp.auth.models import User
    from webapp.auth.sessions import start_session
    from webapp.demo.seed import seed_demo
    from webapp.extensions import db
    from webapp.orders.models import PurchaseOrder

    scratch = tempfile.mkdtemp(prefix="acorn-lighthouse-")

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{scratch}/acorn.db"
        INSTANCE_DIR = scratch
        STATIC_WHITENOISE = True
        STATIC_MAX_AGE = 3600

    app = create_app(BenchConfig)
    with app.app_context():
        upgrade()
        seeded = seed_demo(pos=DEMO_POS)
        user = User(vendor_id=seeded.vendor_id, email="lighthouse@bench.example", role="admin")
        db.session.add(user)
        db.session.flush()
        sid = start_session(user, ip="127.0.0.1", user_agent="lighthouse")
        db.session.commit()
        po = db.session.query(PurchaseOrder).filter_by(vendor_id=seeded.vendor_id) \
            .order_by(PurchaseOrder.id.desc()).first()
        cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": sid})
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    pages = [
        ("sign-in", "/login", False),
        ("inbox", "/orders", True),
        ("PO", f"/orders/{po.po_number}", True),
        ("dashboard: overview", "/dashboards", True),
        ("dashboard: OTIF", "/dashboards/otif", True),
        ("dashboard: stock", "/dashboards/stock", True),
        ("dashboard: shipments", "/dashboards/shipments", True),
        ("dashboard: sales", "/dashboards/sales", True),
        ("dashboard: metrics", "/dashboards/metrics", True),
    ]
    return app, f"{name}={cookie}", pages, scratch


def serve(app):
    """Serve `app` threaded on a free loopback port; return (server, base URL)."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def lighthouse(url: str, cookie: str | None, out: Path) -> dict:
    """Run Lighthouse on `url` and return the parts of its report this bench checks."""
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           f"--chrome-flags={CHROME_FLAGS}",
           "--only-categories=performance,accessibility,best-practices"]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, timeout=240)  # noqa: S603
    report = json.loads(out.read_text())
    summary = report["audits"]["resource-summary"]["details"]["items"]
    total = next(item for item in summary if item["resourceType"] == "total")
    failing = sorted(
        audit_id for cat in report["categories"].values() for ref in cat["auditRefs"]
        if ref["weight"] and (report["audits"][audit_id := ref["id"]].get("score") is not None)
        and report["audits"][audit_id]["score"] < 1)
    return {
        "scores": {k: round(100 * (v["score"] or 0)) for k, v in report["categories"].items()},
        "bytes": total["transferSize"], "requests": total["requestCount"],
        "lcp_ms": report["audits"]["largest-contentful-paint"]["numericValue"],
        "failing": failing,
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
    }


def screenshots(base: str, cookie: str, pages) -> None:
    """Save each page at 360x780 to docs/screenshots/, the manifest's to static/screenshots/."""
    from playwright.sync_api import sync_playwright

    docs = ROOT / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    name, _, value = cookie.partition("=")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for scheme in ("light", "dark"):
            ctx = browser.new_context(viewport={"width": 360, "height": 780},
                                      device_scale_factor=1, color_scheme=scheme)
            page = ctx.new_page()
            for label, path, signed_in in pages:
                if signed_in:  # replaces the anonymous session cookie the sign-in page set
                    ctx.add_cookies([{"name": name, "value": value, "url": base}])
                page.goto(base + path)
                if signed_in and "/login" in page.url:
                    raise RuntimeError(f"screenshot of {path}: the session cookie was refused")
                slug = label.replace("dashboard: ", "dashboard-").replace(" ", "-").lower()
                suffix = "" if scheme == "light" else "-dark"
                page.screenshot(path=str(docs / f"{slug}{suffix}.png"))
            ctx.close()
        browser.close()
    static = ROOT / "static" / "screenshots"
    static.mkdir(parents=True, exist_ok=True)
    for slug in ("inbox", "po", "dashboard-overview"):
        shutil.copyfile(docs / f"{slug}.png", static / f"{slug}.png")


def main() -> int:
    """Run Lighthouse on every page, print a table, return 1 when a budget or score fails."""
    ensure_node_modules()
    app, cookie, pages, scratch = build_app()
    server, base = serve(app)
    failed = False
    rows = []
    try:
        screenshots(base, cookie, pages)
        for label, path, signed_in in pages:
            result = lighthouse(base + path, cookie if signed_in else None,
                                Path(scratch) / f"lh-{len(rows)}.json")
            budget = label == "inbox" or label.startswith("dashboard")
            scored = label in ("sign-in", "inbox", "PO", "dashboard: overview")
            problems = []
            if result["final_url"] and not result["final_url"].endswith(path):
                problems.append(f"redirected to {result['final_url']}")
            if scored:
                problems += [f"{k} {result['scores'].get(k)} < {v}" for k, v in SCORES.items()
                             if result["scores"].get(k, 0) < v]
            if budget and result["bytes"] > MAX_BYTES:
                problems.append(f"{result['bytes']} B > {MAX_BYTES} B")
            if budget and result["requests"] > MAX_REQUESTS:
                problems.append(f"{result['requests']} requests > {MAX_REQUESTS}")
            failed |= bool(problems)
            rows.append((label, path, result, problems))
            s = result["scores"]
            print(f"{label:22} perf {s.get('performance'):>3}  a11y {s.get('accessibility'):>3}  "
                  f"best {s.get('best-practices'):>3}  {result['bytes'] / 1024:5.1f} KB  "
                  f"{result['requests']:>2} req  LCP {result['lcp_ms']:6.0f} ms  "
                  f"{'FAIL: ' + '; '.join(problems) if problems else 'ok'}", flush=True)
            if result["failing"]:
                print(f"{'':22} audits below 1: {', '.join(result['failing'])}", flush=True)
    finally:
        server.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"targets: perf >= 95, a11y 100, best practices 100 (first four pages); inbox and "
          f"dashboards <= {MAX_BYTES // 1024} KB, <= {MAX_REQUESTS} requests")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
