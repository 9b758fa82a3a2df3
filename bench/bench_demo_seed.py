"""Time `flask --app webapp demo --pos N` on a fresh SQLite file and a fresh PostgreSQL database.

BENCH_DEMO_POS sets N (default 100000). BENCH_DATABASE_URL names a PostgreSQL server (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); a scratch database is created beside the
one named there and dropped afterwards, so that database's own tables are never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIMIT_SECONDS = 60


def _flask(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )


def measure(database_url: str, pos: int) -> dict:
    """Migrate an empty database, time the demo command on it and count what it wrote."""
    with tempfile.TemporaryDirectory(prefix="acorn-bench-") as instance:
        env = {**os.environ, "DATABASE_URL": database_url, "ACORN_INSTANCE_DIR": instance}
        env.pop("ACORN_ENV", None)
        _flask(["db", "upgrade"], env)
        started = time.perf_counter()
        done = _flask(["demo", "--pos", str(pos)], env)
        seconds = time.perf_counter() - started
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            pos_count = conn.execute(sa.text("SELECT count(*) FROM purchase_orders")).scalar_one()
            lines = conn.execute(sa.text("SELECT count(*) FROM purchase_order_lines")).scalar_one()
            receipts = conn.execute(sa.text("SELECT count(*) FROM receipts")).scalar_one()
    finally:
        engine.dispose()
    return {
        "pos": pos_count, "lines": lines, "receipts": receipts, "seconds": seconds,
        "output": done.stdout.strip(),
    }


def _report(backend: str, result: dict) -> bool:
    ok = result["seconds"] < LIMIT_SECONDS
    print(
        f"{backend:<11} POs {result['pos']:>9,}  lines {result['lines']:>10,}  "
        f"receipts {result['receipts']:>9,}  {result['seconds']:6.1f} s  "
        f"{result['lines'] / result['seconds']:>9,.0f} lines/s  "
        f"{'ok' if ok else f'SLOWER THAN {LIMIT_SECONDS} s'}",
        flush=True,
    )
    print(f"            {result['output'].splitlines()[0]}", flush=True)
    return ok


def _run(backend: str, database_url: str, pos: int) -> bool:
    try:
        return _report(backend, measure(database_url, pos))
    except subprocess.CalledProcessError as exc:
        tail = "\n".join(exc.stderr.strip().splitlines()[-5:])
        print(f"{backend:<11} FAILED: {' '.join(exc.cmd[2:])}\n{tail}", flush=True)
        return False


def bench_sqlite(pos: int) -> bool:
    """Seed a new SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="acorn-bench-db-") as folder:
        return _run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", pos)


def bench_postgresql(pos: int) -> bool | None:
    """Seed a scratch PostgreSQL database; None when the server is not reachable."""
    url = sa.engine.make_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"acorn_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL  not reachable at {url.render_as_string()}; skipped "
              f"({str(exc).splitlines()[0]})")
        admin.dispose()
        return None
    try:
        scratch = url.set(database=name).render_as_string(hide_password=False)
        return _run("PostgreSQL", scratch, pos)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    """Run the demo seed benchmark on each backend; non-zero when one misses the limit."""
    pos = int(os.environ.get("BENCH_DEMO_POS", "100000"))
    print(f"flask --app webapp demo --pos {pos} on {os.cpu_count()} cores", flush=True)
    results = [bench_sqlite(pos), bench_postgresql(pos)]
    return 0 if all(r is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
