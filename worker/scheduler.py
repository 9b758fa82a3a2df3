"""The periodic scheduler: enqueues `worker.schedule.PERIODIC` on time, one leader at a time.

rq's own `rq cron` enqueues with the pickle serializer and has no leader election, so ACORN
runs this small loop instead: a Redis lock elects one leader (others stay idle and take over
when its lock expires), and each run gets a deterministic job id per time slot, so even two
leaders in a split-brain moment enqueue a slot once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from flask import Flask

from webapp.redis_conn import get_redis
from worker.queues import enqueue
from worker.schedule import PERIODIC, Periodic

log = logging.getLogger(__name__)

LEADER_KEY = "acorn:scheduler:leader"
LEADER_TTL = 30
TICK_SECONDS = 1.0

# Renew the lock only if we still hold it.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""


class Scheduler:
    """Enqueue periodic jobs while holding the leader lock."""

    def __init__(self, app: Flask, periodic: list[Periodic] | None = None) -> None:
        self.app = app
        self.periodic = PERIODIC if periodic is None else periodic
        self.identity = uuid.uuid4().hex
        self.stopping = threading.Event()

    def is_leader(self) -> bool:
        """Take or renew the leader lock; tell whether we hold it."""
        r = get_redis(self.app)
        if r.set(LEADER_KEY, self.identity, nx=True, ex=LEADER_TTL):
            log.info("scheduler %s is now the leader", self.identity[:8])
            return True
        return bool(r.eval(_RENEW, 1, LEADER_KEY, self.identity, LEADER_TTL))

    def run_due(self, now: float | None = None) -> list[str]:
        """Enqueue every periodic job whose current slot has not run yet; return their ids."""
        now = time.time() if now is None else now
        r = get_redis(self.app)
        enqueued = []
        for p in self.periodic:
            slot = int(now // p.interval)
            marker = f"acorn:periodic:{p.name}:{slot}"
            if r.set(marker, 1, nx=True, ex=max(2 * p.interval, 60)):
                job = enqueue(p.queue, p.func, job_id=f"periodic-{p.name}-{slot}",
                              job_timeout=p.timeout, **p.kwargs)
                enqueued.append(job.id)
        return enqueued

    def run(self) -> None:
        """Loop until stopped, surviving Redis outages."""
        with self.app.app_context():
            while not self.stopping.is_set():
                try:
                    if self.is_leader():
                        self.run_due()
                except Exception:  # noqa: BLE001 - Redis down: wait and try again
                    log.warning("scheduler tick failed; retrying", exc_info=True)
                self.stopping.wait(TICK_SECONDS)
            self.release()

    def release(self) -> None:
        """Give up leadership so another scheduler takes over at once."""
        try:
            r = get_redis(self.app)
            if r.get(LEADER_KEY) == self.identity.encode():
                r.delete(LEADER_KEY)
        except Exception:  # noqa: BLE001 - the lock expires by itself anyway
            log.debug("could not release the scheduler lock", exc_info=True)
