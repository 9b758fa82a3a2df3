"""Amazon's documented request rates per vendor operation, enforced with token buckets."""

from __future__ import annotations

import threading
import time

# operation -> (requests per second, burst), as Amazon documents them for vendors.
RATE_LIMITS = {
    "getPurchaseOrders": (10.0, 10),
    "getPurchaseOrder": (10.0, 10),
    "submitAcknowledgement": (10.0, 10),
    "getPurchaseOrdersStatus": (10.0, 10),
    "getTransaction": (10.0, 20),
    "submitInvoices": (10.0, 10),
    "submitShipmentConfirmations": (10.0, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
}


class RateLimiter:
    """Token buckets per (account, operation) at Amazon's documented rates."""

    def __init__(self):
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], list[float]] = {}

    def allow(self, account: str, operation: str) -> bool:
        """Take one token, or say no."""
        rate, burst = RATE_LIMITS[operation]
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get((account, operation), (float(burst), now))
            tokens = min(float(burst), tokens + (now - stamp) * rate)
            allowed = tokens >= 1
            self._buckets[(account, operation)] = [tokens - 1 if allowed else tokens, now]
            return allowed
