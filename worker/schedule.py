"""All periodic work, listed as data in one place (see worker/scheduler.py for how it runs)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Periodic:
    """A job to enqueue every `interval` seconds on `queue`."""

    name: str
    func: str  # dotted path, resolved by the worker
    interval: int
    queue: str
    kwargs: dict = field(default_factory=dict)
    timeout: int | None = None


PERIODIC: list[Periodic] = [
    # Feature issues add their periodic work here (sync, outbox, deadline alerts, ...).
]
