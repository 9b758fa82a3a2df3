"""Instructions executed by a piece of code, counted by valgrind's callgrind.

CPU time per request on a shared 2-core machine moves by a factor of two from one minute to
the next (other tenants); an instruction count does not. `python -m bench.load_profile
--instructions` re-runs itself under `valgrind --tool=callgrind --instr-atstart=no` and
wraps each measured request in `counting()`, which switches callgrind's instrumentation on
and off through its client requests (a 20-line C shim built with the machine's gcc on first
use). Startup, seeding and warm-up run uninstrumented, so only the requests are slowed down.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

UNDER_CALLGRIND = "ACORN_CALLGRIND_OUT"  # set in the child: the callgrind output file

_SHIM = r"""
#include <valgrind/callgrind.h>
void acorn_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void acorn_stop(const char *name) {
    CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT(name);
}
"""
_shim: ctypes.CDLL | None = None


def active() -> bool:
    """Tell whether this process runs under callgrind for an instruction count."""
    return bool(os.environ.get(UNDER_CALLGRIND))


def _load_shim() -> ctypes.CDLL:
    global _shim
    if _shim is None:
        work = Path(tempfile.mkdtemp(prefix="acorn-cg-"))
        (work / "shim.c").write_text(_SHIM)
        subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(work / "shim.so"),
                        str(work / "shim.c")], check=True)
        _shim = ctypes.CDLL(str(work / "shim.so"))
    return _shim


@contextlib.contextmanager
def counting(name: str):
    """Count the instructions of the block as one dump named `name` (no-op outside callgrind)."""
    if not active():
        yield
        return
    shim = _load_shim()
    shim.acorn_start()
    try:
        yield
    finally:
        shim.acorn_stop(name.encode())


def rerun_under_callgrind(argv: list[str]) -> dict[str, int]:
    """Run `python argv...` under callgrind; return instructions per dump name (summed)."""
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: apt-get install -y valgrind")
    work = Path(tempfile.mkdtemp(prefix="acorn-cg-out-"))
    out = work / "callgrind.out"
    env = dict(os.environ, **{UNDER_CALLGRIND: str(out)})
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={out}", sys.executable, *argv],
                   env=env, check=True, stderr=subprocess.DEVNULL)
    totals: dict[str, int] = {}
    for dump in work.glob("callgrind.out*"):
        text = dump.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        summary = re.search(r"^totals: (\d+)", text, re.M)
        if trigger and summary:
            totals[trigger.group(1)] = totals.get(trigger.group(1), 0) + int(summary.group(1))
    if os.environ.get("ACORN_CALLGRIND_KEEP"):
        print(f"callgrind dumps kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return totals
