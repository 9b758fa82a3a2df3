"""Run the benchmarks named on the command line (`demo_seed` for `bench_demo_seed`), or all."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def discover() -> dict[str, str]:
    """Map each benchmark's short name to its module name."""
    here = str(Path(__file__).resolve().parent)
    return {
        info.name.removeprefix("bench_"): f"bench.{info.name}"
        for info in sorted(pkgutil.iter_modules([here]), key=lambda info: info.name)
        if info.name.startswith("bench_")
    }


def run(names: list[str]) -> int:
    """Run the named benchmarks (all when none are named); return a process exit code."""
    found = discover()
    unknown = [name for name in names if name.removeprefix("bench_") not in found]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(found)}")
        return 2
    failed = 0
    for name in [n.removeprefix("bench_") for n in names] or list(found):
        module = importlib.import_module(found[name])
        if not callable(getattr(module, "main", None)):
            continue
        print(f"== {name} ==", flush=True)
        failed += bool(module.main())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
