"""Web push fan-out: ACORN's pipeline vs a bare pywebpush loop, to the same local push service.

The push service (tests/push_service.py, counting mode) runs in its own process so it does not
share a GIL with the sender. Both sides encrypt every message (aes128gcm), sign a VAPID JWT per
request, reuse one HTTP session and send to the same devices:

- bare: `webpush()` in a loop with a fresh claims dict, nothing else (the goal's baseline);
- ACORN: events -> `push_jobs.scan` (alerts, deliveries, jobs) -> one long-running
  `flask worker` process on queue "notify" (claim, send, record per delivery, batches of 500),
  sending with pywebpush's `webpush_async()` on aiohttp, PUSH_CONCURRENCY requests in flight;
- for comparison only: `webpush_async()` with as many requests in flight and nothing else,
  which shows what ACORN's claims and records cost against the same transport.

Rounds alternate (bare, ACORN, bare, ...) and each ACORN round is compared with the mean of the
bare rounds around it; the median ratio is reported, because the machine is shared. Figures:
the worker's rate (from the scan's end to the last row sent), end to end (scan included), and
inside the jobs (first claim to last 201, from the rows). Goal: worker >= 0.8 of the bare loop.
BENCH_PUSH_USERS x BENCH_PUSH_DEVICES devices (default 50 x 4) get BENCH_PUSH_EVENTS events
(default 10) per round: 2000 deliveries; BENCH_PUSH_ROUNDS (default 3). BENCH_DATABASE_URL
(default the local PostgreSQL) adds a run beside SQLite in a scratch database.

The worker sends with PUSH_CONCURRENCY streams (default 4), the bare `webpush()` loop with one.
BENCH_PUSH_LATENCY_MS (default 0) makes the push service wait that long before each answer,
as a real one 50-200 ms away does; the goal is judged on the default, local, case.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.8
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def start_push_service() -> tuple[subprocess.Popen, str]:
    """Start the counting push service in its own process; return it and its origin."""
    env = {**os.environ, "PUSH_SERVICE_DELAY_MS": os.environ.get("BENCH_PUSH_LATENCY_MS", "0")}
    proc = subprocess.Popen([sys.executable, "-m", "tests.push_service"], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


_STATS = None


def received(origin: str) -> int:
    """How many pushes the service has taken (one kept-alive connection, rarely polled)."""
    global _STATS
    import requests

    _STATS = _STATS or requests.Session()
    return _STATS.get(f"{origin}/_stats", timeout=5).json()["requests"]


def subscriptions(origin: str, count: int) -> list[dict]:
    """Browser-side keys for `count` devices (the counting service accepts any)."""
    from tests.push_service import PushService

    keys = PushService(verify=False)
    keys.server = type("S", (), {"server_port": int(origin.rsplit(":", 1)[1])})()
    return [keys.new_subscription() for _ in range(count)]


def bare_loop(app, subs: list[dict], total: int, payload: bytes) -> float:
    """Send `total` messages with nothing but pywebpush; return messages per second."""
    import requests
    from pywebpush import webpush

    from webapp.push.vapid import vapid_keys

    with app.app_context():
        signer, contact = vapid_keys().signer, app.config["VAPID_CONTACT"]
    session = requests.Session()
    started = time.perf_counter()
    for i in range(total):
        webpush(subs[i % len(subs)], data=payload, vapid_private_key=signer,
                vapid_claims={"sub": contact}, ttl=86400, timeout=10,
                headers={"Urgency": "normal", "Topic": "po-1"}, requests_session=session)
    return total / (time.perf_counter() - started)


def bare_async_loop(app, subs: list[dict], total: int, payload: bytes, streams: int) -> float:
    """`webpush_async()` with `streams` requests in flight on one aiohttp session, nothing else.

    Not the goal's baseline (that is the plain `webpush()` loop above): it shows what ACORN's
    bookkeeping costs against the same transport ACORN uses.
    """
    import asyncio

    import aiohttp
    from pywebpush import webpush_async

    from webapp.push.vapid import vapid_keys

    with app.app_context():
        signer, contact = vapid_keys().signer, app.config["VAPID_CONTACT"]

    async def run() -> float:
        async with aiohttp.ClientSession() as session:
            numbers = iter(range(total))

            async def stream():
                for i in numbers:
                    await webpush_async(
                        subs[i % len(subs)], data=payload, vapid_private_key=signer,
                        vapid_claims={"sub": contact}, ttl=86400,
                        timeout=aiohttp.ClientTimeout(total=10),
                        headers={"Urgency": "normal", "Topic": "po-1"}, aiohttp_session=session)

            started = time.perf_counter()
            await asyncio.gather(*(stream() for _ in range(streams)))
            return total / (time.perf_counter() - started)

    return asyncio.run(run())


def setup_devices(app, subs: list[dict], users: int):
    """A vendor whose `users` users share the devices `subs` between them."""
    from tests.push_service import make_user, make_vendor
    from webapp.extensions import db
    from webapp.push.services import subscribe

    per_user = len(subs) // users
    with app.app_context():
        vendor = make_vendor("Bench Vendor", "bench.example", "BENCH1")
        for u in range(users):
            user = make_user(vendor, f"u{u}@bench.example")
            for d in range(per_user):
                subscribe(user, subs[u * per_user + d], label=f"device {d}")
        db.session.commit()
        return vendor.id


def acorn_round(app, vendor_id: int, events: int, origin: str, tag: str) -> dict:
    """Raise `events` PO changes, then time scan + the running worker until all arrived."""
    from sqlalchemy import func, select

    from tests.push_service import make_po
    from webapp.events.services import raise_event
    from webapp.extensions import db
    from webapp.push.models import Alert, PushDelivery
    from webapp.vendors.models import Vendor
    from worker.push_jobs import scan

    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        for e in range(events):
            po = make_po(vendor, f"{tag}{e:04d}")
            raise_event(vendor_id, "po.changed", po.po_number, purchase_order_id=po.id)
        db.session.commit()
        before = received(origin)
        started = time.perf_counter()
        result = scan()
        scanned = time.perf_counter()
        # End our read transaction, as a worker's job does: an open one stops SQLite from
        # checkpointing its write-ahead log while the worker writes.
        db.session.remove()
        # Watch the rows, not the push service: asking the service would slow what is measured.
        unsent = select(func.count()).select_from(PushDelivery).where(
            PushDelivery.state.in_(("pending", "sending")))
        while db.session.scalar(unsent):
            db.session.remove()
            if time.perf_counter() - scanned > 600:
                raise RuntimeError("fan-out did not finish in 10 minutes")
            time.sleep(0.05)
        done = time.perf_counter()
        if received(origin) - before != result["deliveries"]:
            raise RuntimeError("the push service did not get every message")
        # The span from the first claim to the last 201, from the rows themselves: the send
        # rate inside the jobs, without queueing and process hand-over between batches.
        first, last = db.session.execute(
            select(func.min(PushDelivery.claimed_at), func.max(PushDelivery.sent_at))
            .join(Alert, Alert.id == PushDelivery.alert_id)
            .where(Alert.title.contains(tag))).one()
    return {"deliveries": result["deliveries"], "scan_s": scanned - started,
            "worker_s": done - scanned, "total_s": done - started,
            "send_s": (last - first).total_seconds()}


def measure(database_url: str, label: str) -> dict:
    """Alternate bare-loop and ACORN rounds on `database_url`; compare each to its neighbours.

    The machine may be busy with other work; alternating rounds and taking the median ratio
    of each ACORN round to the bare rounds around it keeps that noise out of the ratio.
    """
    from flask_migrate import upgrade
    from rq import Worker

    from config import Config
    from tests.processes import process_env
    from webapp import create_app
    from webapp.extensions import db
    from webapp.redis_conn import get_redis

    users = int(os.environ.get("BENCH_PUSH_USERS", 50))
    devices = int(os.environ.get("BENCH_PUSH_DEVICES", 4))
    events = int(os.environ.get("BENCH_PUSH_EVENTS", 10))
    rounds = int(os.environ.get("BENCH_PUSH_ROUNDS", 3))
    service, origin = start_push_service()
    try:
        with tempfile.TemporaryDirectory(prefix="acorn-bench-push-") as instance:
            class BenchConfig(Config):
                SQLALCHEMY_DATABASE_URI = database_url
                INSTANCE_DIR = instance

            app = create_app(BenchConfig)
            with app.app_context():
                upgrade()
                BenchConfig.REDIS_URL = _redis_url(app)
            subs = subscriptions(origin, users * devices)
            vendor_id = setup_devices(app, subs, users)
            total = users * devices * events
            payload = (b'{"id":1,"kind":"po.changed","title":"PO BENCH0001 changed by Amazon",'
                       b'"body":"Ship to PHX7 \xc2\xb7 Review the new quantities and dates.",'
                       b'"url":"/orders/BENCH0001","tag":"po-1","urgency":"normal"}')
            # One long-running worker, idle before the clock starts: start-up is not fan-out.
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--queue",
                 "notify", "--without-scheduler"], cwd=ROOT, env=process_env(BenchConfig),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                with app.app_context():
                    while not Worker.all(connection=get_redis(app)):
                        time.sleep(0.05)
                streams = int(app.config["PUSH_CONCURRENCY"])
                bare, fans, bare_async = [bare_loop(app, subs, total, payload)], [], []
                for r in range(rounds):
                    fans.append(acorn_round(app, vendor_id, events, origin, f"R{r}X"))
                    bare_async.append(bare_async_loop(app, subs, total, payload, streams))
                    bare.append(bare_loop(app, subs, total, payload))
            finally:
                worker.terminate()
                worker.wait(30)
            arrived = received(origin) - total * (2 * rounds + 1)
            with app.app_context():
                db.engine.dispose()
    finally:
        service.stdin.close()
        service.wait(10)
    worker_rates = [f["deliveries"] / f["worker_s"] for f in fans]
    total_rates = [f["deliveries"] / f["total_s"] for f in fans]
    send_rates = [f["deliveries"] / f["send_s"] for f in fans]
    around = [(bare[i] + bare[i + 1]) / 2 for i in range(rounds)]
    return {"db": label, "messages": total, "rounds": rounds, "arrived": arrived,
            "expected": total * rounds, "bare_per_s": statistics.median(bare),
            "worker_per_s": statistics.median(worker_rates),
            "end_to_end_per_s": statistics.median(total_rates),
            "ratio_worker": statistics.median(w / b for w, b in zip(worker_rates, around,
                                                                    strict=True)),
            "ratio_end_to_end": statistics.median(t / b for t, b in zip(total_rates, around,
                                                                        strict=True)),
            "scan_s": statistics.median(f["scan_s"] for f in fans),
            "send_per_s": statistics.median(send_rates),
            "ratio_send": statistics.median(x / b for x, b in zip(send_rates, around,
                                                                  strict=True)),
            "bare_async_per_s": statistics.median(bare_async),
            "ratio_async": statistics.median(w / a for w, a in zip(worker_rates, bare_async,
                                                                   strict=True))}


def _redis_url(app) -> str:
    from webapp.redis_conn import redis_url

    return redis_url(app)


def _scratch_pg(base: str):
    url = sa.engine.make_url(base)
    name = f"acorn_bench_push_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return admin, name, url.set(database=name).render_as_string(hide_password=False)


def main() -> int:
    """Run the bench on SQLite (and PostgreSQL when reachable); print figures; 1 below goal."""
    sys.path.insert(0, str(ROOT))
    results = []
    with tempfile.TemporaryDirectory(prefix="acorn-bench-db-") as tmp:
        results.append(measure(f"sqlite:///{tmp}/bench.db", "SQLite"))
    pg = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    try:
        admin, name, url = _scratch_pg(pg)
    except sa.exc.OperationalError:
        print(f"PostgreSQL at {pg} not reachable: SQLite only")
    else:
        try:
            results.append(measure(url, "PostgreSQL"))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    from config import Config

    ok = True
    for r in results:
        print(f"{r['db']}: {r['rounds']} rounds of {r['messages']} messages "
              f"({r['arrived']}/{r['expected']} arrived); median of rounds: "
              f"bare pywebpush {r['bare_per_s']:.0f}/s; ACORN worker {r['worker_per_s']:.0f}/s "
              f"(ratio {r['ratio_worker']:.2f}); end to end incl. scan {r['scan_s']:.2f} s: "
              f"{r['end_to_end_per_s']:.0f}/s (ratio {r['ratio_end_to_end']:.2f}); inside "
              f"the jobs (first claim to last 201) {r['send_per_s']:.0f}/s "
              f"(ratio {r['ratio_send']:.2f}); for comparison, bare webpush_async with "
              f"{Config.PUSH_CONCURRENCY} in flight {r['bare_async_per_s']:.0f}/s (ACORN worker "
              f"{r['ratio_async']:.2f} of it)")
        ok = ok and r["arrived"] == r["expected"] and r["ratio_worker"] >= GOAL
    load = " ".join(open("/proc/loadavg").read().split()[:3]) if os.path.exists(
        "/proc/loadavg") else "?"

    print(f"PUSH_CONCURRENCY={Config.PUSH_CONCURRENCY}, push service "
          f"latency {os.environ.get('BENCH_PUSH_LATENCY_MS', '0')} ms, load average {load}")
    print(f"goal: worker >= {GOAL} x bare loop: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
