"""Per-account sign-in throttling: free failures, then doubling delays, never a permanent lock.

One counter per account (keyed by a hash of the e-mail address typed, so unknown addresses are
throttled exactly like real ones: no enumeration). Password and code failures share it, and only
a complete sign-in resets it. After AUTH_ACCOUNT_FREE_FAILURES, one attempt may run per delay
window; the delay doubles per failure up to AUTH_ACCOUNT_MAX_DELAY. At AUTH_ACCOUNT_HARD_LIMIT
consecutive failures (about 22 hours of sustained guessing at the defaults) the account waits
until AUTH_FAILURE_MEMORY_HOURS pass without a failure, or an admin unlocks it. Redis holds the
counters (shared by every web process); when Redis is down a process-local store takes over.
Per-client limits are Flask-Limiter's job (see webapp.auth.limits).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import redis
from flask import current_app

from webapp.redis_conn import get_redis


@dataclass(frozen=True)
class Attempt:
    """Whether an attempt may run now, else how long to wait."""

    allowed: bool
    wait_seconds: float = 0.0


class _MemoryStore:
    """A stand-in for Redis while it is down: the same operations, in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, tuple[int, float]] = {}

    def _get(self, key: str) -> tuple[int, float] | None:
        item = self.data.get(key)
        if item and item[1] <= time.monotonic():
            del self.data[key]
            return None
        return item

    def begin(self, fail_key, block_key, free, hard, memory_s, delay_fn) -> Attempt:
        with self.lock:
            blocked = self._get(block_key)
            count = (self._get(fail_key) or (0, 0))[0]
            if count >= hard:
                return Attempt(False, self._get(fail_key)[1] - time.monotonic())
            if blocked:
                return Attempt(False, blocked[1] - time.monotonic())
            count += 1
            self.data[fail_key] = (count, time.monotonic() + memory_s)
            if count > free:
                self.data[block_key] = (1, time.monotonic() + delay_fn(count))
            return Attempt(True)

    def clear(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.data.pop(key, None)


_memory = _MemoryStore()

# One round trip, atomic: refuse while hard-limited or blocked, else count the attempt and,
# past the free ones, block the next attempts for the delay.
_BEGIN = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[2]) then return {0, redis.call('PTTL', KEYS[1])} end
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if count > tonumber(ARGV[1]) then
  local delay = tonumber(ARGV[4]) * 2 ^ (count - ARGV[1] - 1)
  delay = math.floor(math.min(delay, tonumber(ARGV[5])))
  if delay > 0 then redis.call('SET', KEYS[2], '1', 'PX', delay) end
end
return {1, 0}
"""


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]
    return f"acorn:auth:fail:{digest}", f"acorn:auth:block:{digest}"


def _delay(count: int) -> float:
    cfg = current_app.config
    base, cap = cfg["AUTH_ACCOUNT_BASE_DELAY"], cfg["AUTH_ACCOUNT_MAX_DELAY"]
    return min(base * 2 ** (count - cfg["AUTH_ACCOUNT_FREE_FAILURES"] - 1), cap)


def begin_attempt(email: str) -> Attempt:
    """Count a sign-in attempt for the account named `email`, or say how long to wait."""
    cfg = current_app.config
    fail_key, block_key = _keys(email)
    free, hard = cfg["AUTH_ACCOUNT_FREE_FAILURES"], cfg["AUTH_ACCOUNT_HARD_LIMIT"]
    memory_s = cfg["AUTH_FAILURE_MEMORY_HOURS"] * 3600
    try:
        allowed, wait_ms = get_redis().eval(
            _BEGIN, 2, fail_key, block_key, free, hard, memory_s * 1000,
            cfg["AUTH_ACCOUNT_BASE_DELAY"] * 1000, cfg["AUTH_ACCOUNT_MAX_DELAY"] * 1000,
        )
        return Attempt(bool(allowed), max(int(wait_ms), 0) / 1000)
    except redis.RedisError:
        return _memory.begin(fail_key, block_key, free, hard, memory_s, _delay)


def end_delay(email: str) -> None:
    """Let the next step run now (after a right password: the code step may follow at once).

    The failure count stays, so an attacker who knows the password still waits out the
    delay before each password step, and so before each code guess.
    """
    _, block_key = _keys(email)
    _memory.clear(block_key)
    try:
        get_redis().delete(block_key)
    except redis.RedisError:
        pass


def reset(email: str) -> None:
    """Forget the account's failures (after a complete sign-in, or an admin's unlock)."""
    keys = _keys(email)
    _memory.clear(*keys)
    try:
        get_redis().delete(*keys)
    except redis.RedisError:
        pass
