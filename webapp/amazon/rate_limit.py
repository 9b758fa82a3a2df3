"""Amazon's usage plans kept by every worker together: token buckets in Redis."""

from __future__ import annotations

import time

from webapp.amazon.operations import Operation

# Stay a little under Amazon's plan (rate x 0.9, burst - 1): network jitter bunches requests up
# on the way, and Amazon's bucket, not ours, decides.
RATE_SAFETY = 0.9
# A token bucket per key, refilled by Redis's own clock so all workers agree. Callers reserve a
# token even when the bucket is empty and sleep the returned delay: one round trip per call,
# and waiting callers are served in order instead of stampeding.
_BUCKET_SCRIPT = """
local plan = tonumber(redis.call('HGET', KEYS[1], 'rate')) or tonumber(ARGV[1])
local rate = plan * tonumber(ARGV[3])
local burst = math.max(1, tonumber(ARGV[2]) - 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts'))
if tokens == nil or ts == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class RateLimiter:
    """Token buckets per (account, operation), shared by every worker through Redis."""

    def __init__(self, redis_client, enabled: bool = True):
        self.redis = redis_client
        self.enabled = enabled
        self._script = redis_client.register_script(_BUCKET_SCRIPT) if enabled else None
        self._known_rates: dict[str, float] = {}

    @staticmethod
    def key(account: str, operation: Operation) -> str:
        return f"acorn:spapi:bucket:{account}:{operation.name}"

    def acquire(self, account: str, operation: Operation) -> float:
        """Take one token, sleeping until it is ours; return the time slept."""
        if not self.enabled:
            return 0.0
        wait = float(self._script(keys=[self.key(account, operation)],
                                  args=[operation.rate, operation.burst, RATE_SAFETY]))
        if wait > 0:
            time.sleep(wait)
        return wait

    def observe_limit(self, account: str, operation: Operation, header: str | None) -> None:
        """Adopt the rate Amazon says applies (`x-amzn-RateLimit-Limit`)."""
        if not self.enabled or not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        key = self.key(account, operation)
        if rate > 0 and self._known_rates.get(key) != rate:
            self.redis.hset(key, "rate", repr(rate))
            self._known_rates[key] = rate
