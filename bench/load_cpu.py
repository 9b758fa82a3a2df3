"""CPU seconds used by the load test's parts (gunicorn, PostgreSQL backends, load generator).

Read from /proc (Linux), so a run on a busy machine still says how much CPU each request cost,
whatever share of the cores the other processes took.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields after "pid (comm) "


def process_cpu(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime of `pid` (plus its reaped children's), in seconds; 0 when gone."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat(5))
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def children(pid: int) -> list[int]:
    """Live child processes of `pid`."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def gunicorn_cpu(master: int) -> float:
    """CPU of a gunicorn master, its live workers and the workers it already reaped."""
    return process_cpu(master, reaped_children=True) + sum(
        process_cpu(child) for child in children(master))


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds per PostgreSQL backend connected to `database` (by its process title)."""
    backends = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            backends[int(entry.name)] = process_cpu(int(entry.name))
    return backends


def postgres_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends used between two `postgres_backends` snapshots (new ones from 0)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used since boot (all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


class PostgresWatch:
    """Samples the backends of `database` while the load runs (a `with` block).

    A backend that exits mid-run takes its CPU figures with it: gunicorn recycles a worker
    after `max_requests`, which closes its connections. `seen` holds every backend's last
    sample (the newest for the live ones, read again at the end), so `postgres_delta(before,
    seen)` still counts them, less at most one interval of each.
    """

    def __init__(self, before: dict[int, float], database: str, interval: float = 0.5) -> None:
        self.seen = dict(before)
        self.database, self.interval = database, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PostgresWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._merge()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._merge()

    def _merge(self) -> None:
        for pid, cpu in postgres_backends(self.database).items():
            self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))
