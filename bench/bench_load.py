"""Load test: gunicorn + PostgreSQL + Redis on loopback, 100,000-PO demo vendor, 50 users.

`python -m bench load`. Seeds the demo vendor once and runs on a fresh copy of it
(`refresh_scratch_database`: BENCH_LOAD_DATABASE, default acorn_bench_load, on
BENCH_DATABASE_URL's server), starts a private redis-server and gunicorn (BENCH_LOAD_WORKERS x
BENCH_LOAD_THREADS, default 3 sync workers), warms it up, then drives it with wrk
(bench/load.lua; installed from Debian when missing) or, with BENCH_LOAD_CLIENT=locust, with
locust: 50 signed-in users (BENCH_LOAD_USERS), each aiming at BENCH_LOAD_USER_RPS requests per
second (0: no pause), for BENCH_LOAD_SECONDS, mixing the inbox, PO detail, the dashboard and
acknowledgements (GET the PO, POST accept-all with the session's CSRF token and its risks
confirmed, as the confirmation page posts it: the answer is written to the outbox and its send
job enqueued; without the confirmation a PO past its ship window would only get that page back
and stay unanswered). Goal: >= 300 req/s, p99 < 250 ms, 0 errors. Errors are any page not
answered 200 (accept-all: 200/302/303) in gunicorn's access log plus requests the client never
got an answer to. The report adds CPU ms per request of gunicorn, the PostgreSQL backends, the
load generator and everything else on the machine (bench/load_cpu.py), and gunicorn's own
p50/p99 per page.

Sessions are made directly, as the tests and benches do: a real server-side session row per
user (`webapp.auth.sessions.start_session`) and Flask's signed cookie holding its id and CSRF
secret, so no password hashing or TOTP step runs inside the measurement.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import load_cpu

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_RPS, TARGET_P99_MS = 300.0, 250.0
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_url():
    import sqlalchemy as sa

    return sa.engine.make_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))


def _scratch_name() -> str:
    return os.environ.get("BENCH_LOAD_DATABASE", "acorn_bench_load")


def scratch_database_url() -> str:
    """The URL of the scratch database the load test runs on."""
    return _server_url().set(database=_scratch_name()).render_as_string(hide_password=False)


def refresh_scratch_database(redis_url: str, instance: str, pos: int) -> str:
    """Make the scratch database a fresh copy of the seeded demo (every PO unanswered again).

    The demo is seeded once (minutes for 100,000 POs) into BENCH_LOAD_DATABASE + "_seeded";
    each run then gets a new copy of it (CREATE DATABASE ... TEMPLATE, seconds), so every run
    sees the same data and what one run answered is not missing from the next. Returns the
    scratch database's URL.
    """
    import sqlalchemy as sa

    base, name = _server_url(), _scratch_name()
    seeded, seeding = f"{name}_seeded", f"{name}_seeding"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                           {"n": seeded}):  # seeded under another name, renamed once complete
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{seeding}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{seeding}"'))
            prepare(base.set(database=seeding).render_as_string(hide_password=False),
                    redis_url, instance, pos, users=0)
            conn.execute(sa.text(f'ALTER DATABASE "{seeding}" RENAME TO "{seeded}"'))
        else:  # new migrations are applied to the seeded template, not to every copy
            prepare(base.set(database=seeded).render_as_string(hide_password=False),
                    redis_url, instance, pos, users=0)
        _reopen_enough(base.set(database=seeded))
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{seeded}"'))
    admin.dispose()
    return scratch_database_url()


def _reopen_enough(template_url) -> None:
    """Give the seeded demo BENCH_LOAD_OPEN_POS unanswered POs (default 6,000).

    The demo has about 440, as a vendor would; one acknowledgement in 12 requests at 300 req/s
    uses them up in 18 s, after which a run would only read. The rest are copies of those
    (same lines, deadlines and windows; numbers suffixed "-1", "-2", ...), added once.
    """
    import sqlalchemy as sa

    wanted = int(os.environ.get("BENCH_LOAD_OPEN_POS", "6000"))
    engine = sa.create_engine(template_url)
    with engine.begin() as conn:
        open_pos = "FROM purchase_orders WHERE state = 'New' AND ack_state = 'none'"
        have = conn.scalar(sa.text(f"SELECT count(*) {open_pos}"))
        originals = conn.scalar(sa.text(
            f"SELECT count(*) {open_pos} AND po_number NOT LIKE '%-%'"))
        copies = -(-(wanted - have) // originals) if have < wanted and originals else 0

        def columns(table: str, skip: tuple) -> list[str]:
            return [c for c in conn.scalars(sa.text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                "ORDER BY ordinal_position"), {"t": table}) if c not in skip]

        po_cols = columns("purchase_orders", ("id", "po_number"))
        line_cols = columns("purchase_order_lines", ("id", "purchase_order_id"))
        # Column names come from information_schema, `n` is a number: nothing from outside.
        for n in range(1, copies + 1):
            copy_pos = (
                f"CREATE TEMP TABLE copied AS WITH source AS (SELECT id, "  # noqa: S608
                f"po_number {open_pos} AND po_number NOT LIKE '%-%'), made AS ("
                f"INSERT INTO purchase_orders (po_number, {', '.join(po_cols)}) "
                f"SELECT p.po_number || '-{n}', {', '.join('p.' + c for c in po_cols)} "
                f"FROM purchase_orders p JOIN source USING (id) RETURNING id, po_number) "
                f"SELECT made.id AS new_id, source.id AS old_id FROM made "
                f"JOIN source ON made.po_number = source.po_number || '-{n}'")
            copy_lines = (
                f"INSERT INTO purchase_order_lines (purchase_order_id, "  # noqa: S608
                f"{', '.join(line_cols)}) "
                f"SELECT copied.new_id, {', '.join('l.' + c for c in line_cols)} "
                f"FROM purchase_order_lines l JOIN copied "
                f"ON l.purchase_order_id = copied.old_id")
            conn.execute(sa.text(copy_pos))
            conn.execute(sa.text(copy_lines))
            conn.execute(sa.text("DROP TABLE copied"))
        if copies:
            conn.execute(sa.text("ANALYZE purchase_orders"))
            conn.execute(sa.text("ANALYZE purchase_order_lines"))
    engine.dispose()


def prepare(database_url: str, redis_url: str, instance: str, pos: int, users: int) -> dict:
    """Migrate, seed once, make users with live sessions; return what the load users need."""
    import flask
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf

    from config import Config
    from webapp import create_app
    from webapp.auth import sessions
    from webapp.auth.models import User
    from webapp.demo.seed import DEMO_VENDOR_NAME, seed_demo
    from webapp.extensions import db
    from webapp.vendors.services import get_vendor_by_name

    class LoadConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        INSTANCE_DIR = instance

    app = create_app(LoadConfig)
    with app.app_context():
        upgrade()
        vendor = get_vendor_by_name(DEMO_VENDOR_NAME)
        if vendor is None:
            started = time.perf_counter()
            result = seed_demo(pos=pos)
            print(f"seeded {pos} POs in {time.perf_counter() - started:.0f} s", flush=True)
            with db.engine.connect() as conn:
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
            vendor = db.session.get(type(get_vendor_by_name(DEMO_VENDOR_NAME)), result.vendor_id)
        count = db.session.scalar(sa.text(
            "SELECT count(*) FROM purchase_orders WHERE vendor_id = :v"), {"v": vendor.id})
        numbers = list(db.session.scalars(sa.text(
            "SELECT po_number FROM purchase_orders WHERE vendor_id = :v ORDER BY id LIMIT 2000"),
            {"v": vendor.id}))
        # Only POs nobody answered yet can be acknowledged (about 440 in a fresh copy).
        fresh = list(db.session.scalars(sa.text(
            "SELECT po_number FROM purchase_orders WHERE vendor_id = :v AND state = 'New' "
            "AND ack_state = 'none' ORDER BY id"), {"v": vendor.id}))
        serializer = app.session_interface.get_signing_serializer(app)
        cookies, tokens = [], []
        for n in range(users):
            email = f"load{n}@{vendor.domains[0].domain}"
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                user = User(vendor_id=vendor.id, email=email, role="manager")
                db.session.add(user)
                db.session.flush()
            raw = sessions.start_session(user, ip="127.0.0.1", user_agent="bench-load")
            # The cookie a browser holds after its first page: session id and CSRF secret, so
            # the token for its forms is known in advance (Flask-WTF's own generate_csrf).
            with app.test_request_context():
                flask.session["sid"] = raw
                flask.g.pop("csrf_token", None)  # Flask-WTF caches one token per app context
                tokens.append(generate_csrf())
                cookies.append(serializer.dumps(dict(flask.session)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"cookie_name": app.config.get("SESSION_COOKIE_NAME", "session"), "cookies": cookies,
            "tokens": tokens,
            "pos": numbers, "fresh": fresh, "count": count}


def _wait_http(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def main() -> int:
    """Run the load test and print throughput, latency percentiles and errors."""
    from webapp.embedded_redis import EmbeddedRedis

    pos = int(os.environ.get("BENCH_LOAD_POS", "100000"))
    users = int(os.environ.get("BENCH_LOAD_USERS", "50"))
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
    workers = os.environ.get("BENCH_LOAD_WORKERS", "3")
    threads = os.environ.get("BENCH_LOAD_THREADS", "1")
    client = os.environ.get("BENCH_LOAD_CLIENT", "wrk")
    if client == "wrk":
        from bench.load_wrk import ensure_wrk

        ensure_wrk()  # before the minutes of preparation, not after
    user_rps = os.environ.get("BENCH_LOAD_USER_RPS", "7")
    work = Path(tempfile.mkdtemp(prefix="acorn-load-"))
    redis_server = EmbeddedRedis(work / "redis")
    redis_url = redis_server.start()
    database_url = refresh_scratch_database(redis_url, str(work / "instance"), pos)
    data = prepare(database_url, redis_url, str(work / "instance"), pos, users)
    data_file = work / "load.json"
    data_file.write_text(json.dumps(data))
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "ACORN_INSTANCE_DIR": str(work / "instance"), "ACORN_ENV": "development",
           "WEB_CONCURRENCY": workers, "GUNICORN_THREADS": threads,
           "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_ACCESS_LOG": str(work / "access.log"), "LOG_FORMAT": "json",
           "STATIC_WHITENOISE": "1", "METRICS_ENABLED": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus")}
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                            "webapp:create_app()"], cwd=ROOT, env=env,
                           stdout=open(work / "gunicorn.log", "wb"), stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/login")  # /healthz is 503: no RQ worker runs
        _warm_up(f"http://127.0.0.1:{port}", data, int(workers))
        load_before = os.getloadavg()
        log_offset = (work / "access.log").stat().st_size
        cpu_before = _cpu_snapshot(web.pid, database_url)
        with load_cpu.PostgresWatch(cpu_before["postgres"], _database_name(database_url)) \
                as backends:
            if client == "wrk":
                from bench import load_wrk

                result = load_wrk.run(f"http://127.0.0.1:{port}", data, work, users=users,
                                      seconds=seconds, user_rps=float(user_rps))
            else:
                result = _run_locust(port, data_file, users, seconds, user_rps, work)
        cpu_after = _cpu_snapshot(web.pid, database_url)
        cpu_after["postgres"] = backends.seen  # with the backends that exited mid-run
        load_after = os.getloadavg()
        server, unexpected = _server_latency(work / "access.log", log_offset)
        report = {"client": client, "pos": data["count"], "users": users, "seconds": seconds,
                  "gunicorn_workers": workers, "gunicorn_threads": threads, **result,
                  # Answers are checked in gunicorn's log (wrong status); the client adds
                  # what never got an answer (socket errors, timeouts).
                  "errors": unexpected + _unanswered(result, unexpected),
                  "loadavg_before": [round(x, 2) for x in load_before],
                  "loadavg_after": [round(x, 2) for x in load_after],
                  "cpu_ms_per_request": _cpu_per_request(cpu_before, cpu_after,
                                                         result["requests"]),
                  "server_ms": server}
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(30)
        redis_server.stop()
        if os.environ.get("BENCH_LOAD_KEEP"):  # gunicorn's logs, the wrk data, ...
            print(f"run files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    ok = (report["rps"] >= TARGET_RPS and report["p99_ms"] < TARGET_P99_MS
          and report["errors"] == 0)
    print(f"goal >= {TARGET_RPS:.0f} req/s, p99 < {TARGET_P99_MS:.0f} ms, 0 errors: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


def _unanswered(result: dict, wrong_status: int) -> int:
    if "client_errors" in result:  # wrk: socket errors and timeouts
        return sum(v for k, v in result["client_errors"].items() if k != "status")
    return max(0, result["errors"] - wrong_status)  # locust counts both kinds together


def _warm_up(base: str, data: dict, workers: int) -> None:
    # A server in service has compiled its templates and filled its pools: so must this one.
    import httpx

    headers = {"Cookie": f'{data["cookie_name"]}={data["cookies"][0]}'}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for n in range(6 * workers):
            for path in ("/orders", f"/orders/{data['pos'][n % len(data['pos'])]}",
                         "/dashboards"):
                client.get(path)


def _database_name(database_url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(database_url).database


def _cpu_snapshot(gunicorn_pid: int, database_url: str) -> dict:
    import resource

    return {"gunicorn": load_cpu.gunicorn_cpu(gunicorn_pid),
            "postgres": load_cpu.postgres_backends(_database_name(database_url)),
            "load_generator": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
            "machine": load_cpu.machine_busy()}


def _cpu_per_request(before: dict, after: dict, requests: int) -> dict:
    """CPU ms per request of each part; `other` is everything else running on the machine."""
    used = {"gunicorn": after["gunicorn"] - before["gunicorn"],
            "postgres": load_cpu.postgres_delta(before["postgres"], after["postgres"]),
            "load_generator": after["load_generator"] - before["load_generator"]}
    used["other_processes"] = max(0.0, after["machine"] - before["machine"] - sum(used.values()))
    return {name: round(seconds * 1000 / max(requests, 1), 2) for name, seconds in used.items()}


def _server_latency(access_log: Path, offset: int) -> tuple[dict, int]:
    """Per page p50 / p99 of gunicorn's own durations (no client queueing); wrong statuses."""
    import statistics

    by_page: dict[str, list[float]] = {}
    unexpected = 0
    with open(access_log, "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode(errors="replace").splitlines()
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("type") != "access":
            continue
        page = re.sub(r"^/orders/[^/]+", "/orders/[number]", entry.get("path") or "")
        key = f'{entry.get("method")} {page}'
        by_page.setdefault(key, []).append(entry["duration_ms"])
        # A page must answer 200 (a 302 would be the sign-in page); accept-all 200 or 302/303.
        allowed = (200, 302, 303) if entry.get("method") == "POST" else (200,)
        unexpected += entry.get("status") not in allowed
    result = {}
    for page, values in sorted(by_page.items()):
        if len(values) >= 20:
            cuts = statistics.quantiles(values, n=100)
            result[page] = {"count": len(values), "p50": round(cuts[49], 1),
                            "p99": round(cuts[98], 1)}
    return result, unexpected


def _run_locust(port: int, data_file: Path, users: int, seconds: int, user_rps: str,
                work: Path) -> dict:
    csv = work / "locust"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve()), "--headless",
         "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host",
         f"http://127.0.0.1:{port}", "--csv", str(csv), "--only-summary",
         "--loglevel", "WARNING", "--stop-timeout", "5"],
        cwd=ROOT, env={**os.environ, "ACORN_LOAD_DATA": str(data_file),
                       "ACORN_LOAD_USER_RPS": user_rps},
        check=False, timeout=seconds + 120)
    return _locust_report(csv)


def _locust_report(csv: Path) -> dict:
    import csv as csvlib

    with open(f"{csv}_stats.csv") as fh:
        rows = list(csvlib.DictReader(fh))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return {"requests": int(total["Request Count"]), "rps": round(float(total["Requests/s"]), 1),
            "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]),
            "p99_ms": float(total["99%"]), "errors": int(total["Failure Count"])}


if os.environ.get("ACORN_LOAD_DATA"):  # imported by locust (the subprocess above)
    from locust import FastHttpUser, constant, constant_throughput, task

    _DATA = json.loads(Path(os.environ["ACORN_LOAD_DATA"]).read_text())
    _USER_IDS = iter(range(10**6))
    _FRESH = iter(_DATA["fresh"])

    class VendorManager(FastHttpUser):
        """A signed-in manager reading the inbox, POs and dashboard and answering POs."""

        # 0: no pause at all (closed loop, finds the saturation throughput).
        _rps = float(os.environ.get("ACORN_LOAD_USER_RPS", "7"))
        wait_time = constant_throughput(_rps) if _rps > 0 else constant(0)

        def on_start(self) -> None:
            n = next(_USER_IDS) % len(_DATA["cookies"])
            self.cookie = f'{_DATA["cookie_name"]}={_DATA["cookies"][n]}'

        def _get(self, path: str, name: str):
            with self.client.get(path, name=name, headers={"Cookie": self.cookie},
                                 catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"status {r.status_code}")
                self._keep_cookie(r)
                return r

        def _keep_cookie(self, response) -> None:
            # The CSRF secret rides in Flask's signed cookie: keep the newest one, like a browser.
            header = response.headers.get("Set-Cookie") or ""
            prefix = f'{_DATA["cookie_name"]}='
            if header.startswith(prefix):
                self.cookie = header.split(";", 1)[0]

        @task(4)
        def inbox(self) -> None:
            self._get("/orders", "/orders")

        @task(4)
        def po_detail(self) -> None:
            self._get(f"/orders/{random.choice(_DATA['pos'])}", "/orders/[number]")

        @task(2)
        def dashboard(self) -> None:
            self._get("/dashboards", "/dashboards")

        @task(1)
        def acknowledge(self) -> None:
            number = next(_FRESH, None)
            if number is None:
                return
            page = self._get(f"/orders/{number}", "/orders/[number]")
            match = CSRF.search(page.text or "")
            if not match:
                return
            with self.client.post(f"/orders/{number}/accept-all",
                                  name="/orders/[number]/accept-all",
                                  data={"csrf_token": match.group(1), "confirmed": "1"},
                                  headers={"Cookie": self.cookie}, allow_redirects=False,
                                  catch_response=True) as r:
                if r.status_code not in (200, 302, 303):
                    r.failure(f"status {r.status_code}")
