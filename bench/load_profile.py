"""CPU cost per request of the load test's mix, measured in-process (robust to machine load).

`python -m bench.load_profile [--profile PAGE] [--rounds N]`: the app as gunicorn runs it in
`python -m bench load` (JSON logs, metrics, WhiteNoise) against the seeded scratch database,
a Flask test client carrying a real session cookie; prints CPU ms (time.process_time), wall ms
and SQL statements per request for each page of the mix. `--profile inbox` adds cProfile's
top functions for that page. `ack` is the accept-all POST alone, each on a PO of the scratch
database nobody answered yet (its PO page is fetched first, unmeasured, for the CSRF token).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import instructions


def _setup_env(work: Path, database_url: str, redis_url: str) -> None:
    # Same settings as the gunicorn the load test starts; read when config is imported.
    os.environ.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                       "ACORN_INSTANCE_DIR": str(work / "instance"), "ACORN_ENV": "development",
                       "LOG_FORMAT": "json", "STATIC_WHITENOISE": "1", "METRICS_ENABLED": "1",
                       "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus")})
    (work / "prometheus").mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Measure each page of the load mix; optionally print a cProfile of one."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--profile", choices=["redirect", "inbox", "po", "dashboard", "ack"])
    parser.add_argument("--acks", type=int, default=10)
    parser.add_argument("--only", choices=["redirect", "inbox", "po", "dashboard", "ack"],
                        help="measure this page alone")
    parser.add_argument("--sql", action="store_true", help="print each page's SQL once")
    parser.add_argument("--dump", help="write the cProfile data of --profile to this file")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per request (runs itself under valgrind)")
    args = parser.parse_args(argv)
    if args.instructions:
        return _count_instructions(args)

    from bench import bench_load
    from webapp.embedded_redis import EmbeddedRedis

    work = Path(tempfile.mkdtemp(prefix="acorn-loadprof-"))
    redis_server = EmbeddedRedis(work / "redis")
    redis_url = redis_server.start()
    database_url = bench_load.scratch_database_url()
    _setup_env(work, database_url, redis_url)  # before config is imported
    bench_load.refresh_scratch_database(redis_url, str(work / "instance"), 100_000)
    data = bench_load.prepare(database_url, redis_url, str(work / "instance"), 100_000, 1)
    try:
        return _measure(data, args, database_url, redis_url, work)
    finally:
        redis_server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _backend_pids(database_url: str) -> list[int]:
    """PostgreSQL server processes serving the scratch database (the app's pool)."""
    import sqlalchemy as sa

    name = sa.engine.make_url(database_url).database
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        pids = list(conn.scalars(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
            {"n": name}))
    engine.dispose()
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of local processes (from /proc; gone ones count 0)."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _count_exceptions(name, call) -> None:
    """Print where one request raises (and catches) exceptions: each costs a traceback."""
    import collections

    seen = collections.Counter()

    def tracer(frame, event, arg):
        if event == "exception":
            seen[(arg[0].__name__, frame.f_code.co_filename.split("site-packages/")[-1],
                  frame.f_lineno, frame.f_code.co_name)] += 1
        return tracer

    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(None)
    print(f"{name}: {sum(seen.values())} exceptions")
    for (kind, file, line, func), n in seen.most_common(15):
        print(f"  {n:4d} {kind} {file}:{line} {func}")


def _count_instructions(args) -> int:
    """Print instructions per request of each page (callgrind; independent of machine load)."""
    child = ["-m", "bench.load_profile", "--rounds", str(args.rounds), "--acks", str(args.acks)]
    if args.only:
        child += ["--only", args.only]
    totals = instructions.rerun_under_callgrind(child)
    for name in ("redirect", "inbox", "po", "dashboard", "ack"):
        rounds = args.acks if name == "ack" else args.rounds
        if name in totals:
            print(f"{name:10s} instructions per request {totals[name] / rounds / 1e6:8.2f} M")
    return 0 if totals else 1


def _measure(data: dict, args, database_url: str, redis_url: str, work: Path) -> int:
    import gzip
    import logging
    import random

    import sqlalchemy as sa

    from bench.bench_load import CSRF
    from config import Config
    from webapp import create_app
    from webapp.extensions import db

    class ProfileConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        INSTANCE_DIR = str(work / "instance")
        LOG_FORMAT = "json"
        STATIC_WHITENOISE = True
        METRICS_ENABLED = True

    app = create_app(ProfileConfig)
    rendering = [0.0]
    import flask.templating

    original_render = flask.templating._render

    def timed_render(*a, **k):  # CPU spent rendering templates, reported apart
        c0 = time.process_time()
        try:
            return original_render(*a, **k)
        finally:
            rendering[0] += time.process_time() - c0

    flask.templating._render = timed_render
    logging.getLogger().setLevel(logging.WARNING)  # JSON app logs stay on; no noise here
    client = app.test_client()
    client.set_cookie(data["cookie_name"], data["cookies"][0])
    # What a browser (and the load generator) sends: the answer is compressed.
    client.environ_base["HTTP_ACCEPT_ENCODING"] = os.environ.get("PROFILE_ENCODING",
                                                                 "br, gzip, deflate")
    statements = [0]
    with app.app_context():
        def count(conn, cursor, statement, parameters, context, executemany):
            statements[0] += 1
            if args.sql and show[0] and context is not None and context.compiled is not None:
                # SQLAlchemy's compiled-statement cache: "cached" is what a warm worker sees.
                print("   cache", context.cache_hit)
            if args.sql and show[0]:
                print("   SQL", " ".join(statement.split())[:220])

        sa.event.listen(db.engine, "before_cursor_execute", count)
    show = [False]
    rng = random.Random(1)
    fresh = iter(data["fresh"])

    def ack_page():
        # The PO page a manager answers from (measured as "po"): gives the form's CSRF token.
        number = next(fresh)
        page = client.get(f"/orders/{number}")
        body = page.get_data()
        if page.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif page.headers.get("Content-Encoding") == "br":
            import brotli

            body = brotli.decompress(body)
        token = CSRF.search(body.decode()).group(1)
        return lambda: client.post(f"/orders/{number}/accept-all",
                                   data={"csrf_token": token, "confirmed": "1"})

    pages = {
        # Not in the mix: a signed-in request doing nothing but redirect (the fixed cost).
        "redirect": lambda: client.get("/"),
        "inbox": lambda: client.get("/orders"),
        "po": lambda: client.get(f"/orders/{rng.choice(data['pos'])}"),
        "dashboard": lambda: client.get("/dashboards"),
        # The POST of accept-all alone, on a fresh PO each time (ack_page runs unmeasured).
        "ack": lambda: ack_page()(),
    }
    prepare = {"ack": ack_page}
    for name, call in pages.items():
        if args.only and name != args.only:
            continue
        rounds = args.acks if name == "ack" else args.rounds
        for _ in range(3):
            call()  # warm caches, pools, templates and compiled statements
        cpu, wall, sql, tmpl = [], [], [], []
        backends = _backend_pids(database_url)
        db_cpu0 = _cpu_seconds(backends)
        profiler = cProfile.Profile(time.process_time) if args.profile == name else None
        for n in range(rounds):
            show[0] = n == 0
            if show[0] and args.sql:
                print(f"-- {name}")
            measured = prepare[name]() if name in prepare else call
            statements[0] = 0
            rendering[0] = 0.0
            c0, w0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            with instructions.counting(name):
                response = measured()
            if profiler:
                profiler.disable()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            sql.append(statements[0])
            tmpl.append(rendering[0] * 1000)
            if response.status_code not in (200, 302, 303):
                print(f"{name}: status {response.status_code}", file=sys.stderr)
                return 1
        db_ms = (_cpu_seconds(backends) - db_cpu0) * 1000 / rounds
        if os.environ.get("PROFILE_EXCEPTIONS"):
            _count_exceptions(name, prepare[name]() if name in prepare else call)
        counter = cProfile.Profile()  # Python function calls: a load-independent measure
        for _ in range(3):
            counter.runcall(prepare[name]() if name in prepare else call)
        calls = pstats.Stats(counter).total_calls // 3
        print(f"{name:10s} py calls {calls:6d}  cpu ms median {statistics.median(cpu):6.2f}  mean "
              f"{statistics.fmean(cpu):6.2f}  templates {statistics.median(tmpl):5.2f}  "
              f"wall ms median {statistics.median(wall):6.2f}  "
              f"sql {statistics.median(sql):.0f}  postgres cpu ms {db_ms:5.2f}  "
              f"status {response.status_code}  "
              f"bytes {len(response.get_data())}", flush=True)
        if profiler:
            if args.dump:
                profiler.dump_stats(args.dump)
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
