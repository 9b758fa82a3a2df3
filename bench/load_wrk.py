"""Drive the load test with wrk (C, a few % of a core) instead of locust (Python, ~2 ms a request).

The mix lives in bench/load.lua; this module installs wrk when missing (Debian's package, as
root), writes the users' cookies, CSRF tokens and PO numbers where the script reads them, runs
it and returns its throughput, latency percentiles and errors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "load.lua"


def ensure_wrk() -> str:
    """Path of the wrk binary; installs Debian's `wrk` package when missing and allowed."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk) ...", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet).returncode:
            subprocess.run(["apt-get", "update"], check=False, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("the load test needs wrk: install it (Debian/Ubuntu: apt-get install wrk, "
                     "macOS: brew install wrk) or run with BENCH_LOAD_CLIENT=locust")


def _lua_string(value: str) -> str:
    return json.dumps(value)  # the cookies, tokens and PO numbers are plain ASCII


def write_data(path: Path, data: dict, threads: int, think_ms: int) -> None:
    """Write the users, PO numbers and pacing as a Lua table for load.lua."""
    users = ",\n".join(f"{{cookie={_lua_string(data['cookie_name'] + '=' + cookie)}, "
                       f"token={_lua_string(token)}}}"
                       for cookie, token in zip(data["cookies"], data["tokens"], strict=True))
    pos = ", ".join(_lua_string(n) for n in data["pos"])
    fresh = ", ".join(_lua_string(n) for n in data["fresh"])
    path.write_text(f"return {{threads={threads}, think_ms={think_ms},\n"
                    f"users={{{users}}},\npos={{{pos}}},\nfresh={{{fresh}}}}}\n")


def run(base: str, data: dict, work: Path, *, users: int, seconds: int, user_rps: float,
        threads: int = 2) -> dict:
    """Run wrk for `seconds` with `users` connections; return its summary."""
    binary = ensure_wrk()
    data_file = work / "load-data.lua"
    think_ms = int(1000 / user_rps) if user_rps > 0 else 0
    write_data(data_file, data, threads, think_ms)
    result = subprocess.run(
        [binary, "-t", str(threads), "-c", str(users), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(SCRIPT), base],
        env={**os.environ, "ACORN_LOAD_LUA_DATA": str(data_file)}, capture_output=True,
        text=True, check=False, timeout=seconds + 60)
    line = next((x for x in result.stdout.splitlines() if x.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    summary = json.loads(line)
    seconds_run = summary["duration_us"] / 1e6
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {"requests": summary["requests"], "rps": round(summary["requests"] / seconds_run, 1),
            "p50_ms": round(summary["p50_us"] / 1000, 1),
            "p95_ms": round(summary["p95_us"] / 1000, 1),
            "p99_ms": round(summary["p99_us"] / 1000, 1),
            "max_ms": round(summary["max_us"] / 1000, 1), "errors": errors,
            "client_errors": {k: summary[k] for k in
                              ("connect", "read", "write", "status", "timeout")},
            "think_ms": think_ms}
