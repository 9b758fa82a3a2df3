"""Fault switches: shares of 429 (with or without body), 500, 503, slow and malformed answers."""

from __future__ import annotations

import os
import random
import threading
from dataclasses import asdict, dataclass, fields


@dataclass
class Faults:
    """Shares (0..1) of Amazon calls that fail, and how; `slow_seconds` is the added delay."""

    rate_429: float = 0.0
    empty_body_429_share: float = 0.5
    rate_500: float = 0.0
    rate_503: float = 0.0
    slow_share: float = 0.0
    slow_seconds: float = 0.0
    malformed_share: float = 0.0

    def update(self, values: dict) -> None:
        """Set the named switches, rejecting unknown names and shares outside 0..1."""
        names = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in names:
                raise ValueError(f"unknown fault switch {name!r}")
            number = float(value)
            if number < 0 or (name != "slow_seconds" and number > 1):
                raise ValueError(f"{name} must be between 0 and 1")
            setattr(self, name, number)

    def as_dict(self) -> dict:
        """Return the switches as a plain dict."""
        return asdict(self)

    @classmethod
    def from_env(cls, environ=os.environ) -> Faults:
        """Read SANDBOX_FAULT_<NAME> variables (e.g. SANDBOX_FAULT_RATE_429=0.3)."""
        faults = cls()
        faults.update(
            {
                f.name: environ[f"SANDBOX_FAULT_{f.name.upper()}"]
                for f in fields(cls)
                if environ.get(f"SANDBOX_FAULT_{f.name.upper()}")
            }
        )
        return faults


@dataclass(frozen=True)
class Decision:
    """What to do to one call: an error status (or None), a delay and whether to garble it."""

    status: int | None = None
    empty_body: bool = False
    delay: float = 0.0
    malformed: bool = False


NO_FAULT = Decision()


class FaultInjector:
    """Draw fault decisions from a seeded RNG, thread-safely."""

    def __init__(self, faults: Faults | None = None, seed: int = 0):
        self.faults = faults or Faults()
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()

    def configure(self, values: dict) -> dict:
        """Update switches; return the full set now in force."""
        with self._lock:
            self.faults.update(values)
            return self.faults.as_dict()

    def decide(self) -> Decision:
        """Decide the fate of one Amazon call."""
        f = self.faults
        if not (f.rate_429 or f.rate_500 or f.rate_503 or f.slow_share or f.malformed_share):
            return NO_FAULT
        with self._lock:
            roll = self._rng.random()
            if roll < f.rate_429:
                return Decision(429, empty_body=self._rng.random() < f.empty_body_429_share)
            if roll < f.rate_429 + f.rate_500:
                return Decision(500)
            if roll < f.rate_429 + f.rate_500 + f.rate_503:
                return Decision(503)
            delay = f.slow_seconds if self._rng.random() < f.slow_share else 0.0
            malformed = self._rng.random() < f.malformed_share
        return Decision(delay=delay, malformed=malformed)
