"""What the sandbox counts while it serves: requests, 429s and faults, the busiest second."""

from __future__ import annotations

import threading
import time
from collections import defaultdict


class Stats:
    """Requests, 429s and the busiest second per operation."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests: dict[str, int] = defaultdict(int)
            self.throttled: dict[str, int] = defaultdict(int)
            self.faults: dict[str, int] = defaultdict(int)
            self._second: dict[str, tuple[int, int]] = {}
            self.max_per_second: dict[str, int] = defaultdict(int)
            self.schema_violations: list[str] = []

    def count(self, operation: str) -> None:
        """Count one request of `operation` in its wall-clock second."""
        second = int(time.time())
        with self._lock:
            self.requests[operation] += 1
            current, seen = self._second.get(operation, (second, 0))
            seen = seen + 1 if current == second else 1
            self._second[operation] = (second, seen)
            if seen > self.max_per_second[operation]:
                self.max_per_second[operation] = seen

    def fault(self, operation: str, status: int) -> None:
        """Count one injected or rate-limit error answer."""
        with self._lock:
            self.faults[f"{operation}:{status}"] += 1
            if status == 429:
                self.throttled[operation] += 1

    def violation(self, message: str) -> None:
        """Remember a response that broke its schema (self-check mode)."""
        with self._lock:
            if len(self.schema_violations) < 100:
                self.schema_violations.append(message)

    def as_dict(self) -> dict:
        """Return the counters as plain data."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "throttled_429": dict(self.throttled),
                "total_429": sum(self.throttled.values()),
                "faults": dict(self.faults),
                "max_requests_per_second": dict(self.max_per_second),
                "schema_violations": list(self.schema_violations),
            }
