"""Values kept for a few seconds in this process (each web worker keeps its own).

For figures that every page, or an expensive page, would otherwise recompute: the Orders
badge, the dashboard overview, the inbox's filter choices. Kept per app, so two apps in one
process (tests) never share values. A value is reused until its time is up or its `version`
(whatever the caller knows makes it stale: a sync time, a setting) differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app

MAX_ENTRIES = 1000  # per kind: a bound on the memory one process spends


class Kept:
    """One kind of kept value, e.g. Kept("orders_badge"), keyed by (usually) vendor id."""

    def __init__(self, kind: str) -> None:
        self._name = f"acorn.kept.{kind}"

    def _entries(self) -> dict[Hashable, tuple[float, Hashable, Any]]:
        return current_app.extensions.setdefault(self._name, {})

    def get(self, key: Hashable, version: Hashable = None) -> Any | None:
        """The value kept for `key` at `version`, or None when there is none or it is stale."""
        hit = self._entries().get(key)
        if hit is not None and hit[0] > time.monotonic() and hit[1] == version:
            return hit[2]
        return None

    def put(self, key: Hashable, value: Any, seconds: float, version: Hashable = None) -> None:
        """Keep `value` for `seconds` (0 or less: do not keep it)."""
        if seconds <= 0:
            return
        entries = self._entries()
        if len(entries) >= MAX_ENTRIES and key not in entries:
            entries.clear()
        entries[key] = (time.monotonic() + seconds, version, value)

    def get_or_put(self, key: Hashable, compute: Callable[[], Any], seconds: float,
                   version: Hashable = None) -> Any:
        """The kept value for `key`; else `compute()`, kept for `seconds` and returned."""
        value = self.get(key, version)
        if value is None:
            value = compute()
            self.put(key, value, seconds, version)
        return value

    def update(self, key: Hashable, change: Callable[[Any], Any]) -> None:
        """Replace a kept value by `change(value)`, same expiry and version (none kept: no-op)."""
        entries = self._entries()
        hit = entries.get(key)
        if hit is not None:
            entries[key] = (hit[0], hit[1], change(hit[2]))
