"""Per-vendor feed locks in Redis: short expiry, renewed while held, released only by the owner."""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager

from flask import current_app

from webapp.redis_conn import get_redis

log = logging.getLogger(__name__)

# Compare-and-delete / compare-and-extend: never touch a lock another worker took over.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def lock_ttl_seconds() -> float:
    """How long a lock outlives a dead holder (short, since a live holder keeps renewing it)."""
    return float(current_app.config["SYNC_LOCK_TTL_SECONDS"])


def lock_key(vendor_id: int, feed: str) -> str:
    return f"acorn:lock:sync:{vendor_id}:{feed}"


class FeedLock:
    """A Redis lock on one vendor's feed; a daemon thread renews it while it is held."""

    def __init__(self, redis_client, key: str, ttl: float):
        self.redis, self.key, self.ttl = redis_client, key, ttl
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; start renewing it."""
        if not self.redis.set(self.key, self.token, nx=True, px=int(self.ttl * 1000)):
            return False
        self._thread = threading.Thread(target=self._renew_loop, daemon=True,
                                        name=f"renew {self.key}")
        self._thread.start()
        return True

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.redis.eval(_RENEW, 1, self.key, self.token, int(self.ttl * 1000)):
                    self.lost = True
                    return
            except Exception:  # noqa: BLE001 - Redis blip: try again next round
                log.debug("lock renewal failed; retrying", exc_info=True)

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        try:
            self.redis.eval(_RELEASE, 1, self.key, self.token)
        except Exception:  # noqa: BLE001 - it expires by itself
            log.debug("lock release failed; it will expire", exc_info=True)


@contextmanager
def feed_lock(vendor_id: int, feed: str):
    """Hold the lock on (vendor, feed) for the block; yield False when someone else holds it."""
    lock = FeedLock(get_redis(), lock_key(vendor_id, feed), lock_ttl_seconds())
    if not lock.acquire():
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
