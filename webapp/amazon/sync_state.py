"""Sync bookkeeping shared by the feeds: cursors, health, results and payload parsing helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from webapp.amazon.models import SyncState
from webapp.db_types import utcnow
from webapp.extensions import db


class PayloadError(ValueError):
    """Amazon sent something ACORN cannot store faithfully; nothing of that page is written."""


@dataclass
class SyncResult:
    """What one feed run fetched and changed."""

    feed: str
    vendor_id: int
    skipped: bool = False
    pages: int = 0
    fetched: int = 0  # POs / statuses / report rows seen
    fetched_lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_lines: int = 0
    updated_lines: int = 0
    events: int = 0
    windows: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "windows"}
        data["windows"] = len(self.windows)
        return data

    def summary(self) -> str:
        """One line for the CLI and the logs."""
        if self.skipped:
            return f"{self.feed}: skipped (already running for this vendor)"
        return (f"{self.feed}: {self.pages} page(s), fetched {self.fetched} "
                f"({self.fetched_lines} lines) in {len(self.windows)} window(s); "
                f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}; "
                f"lines created {self.created_lines}, updated {self.updated_lines}; "
                f"events {self.events}")


def get_state(vendor_id: int, feed: str, scope: str = "") -> SyncState:
    """Load or create the SyncState row of a feed (flushed, not committed)."""
    state = db.session.scalar(select(SyncState).where(
        SyncState.vendor_id == vendor_id, SyncState.feed == feed, SyncState.scope == scope))
    if state is None:
        state = SyncState(vendor_id=vendor_id, feed=feed, scope=scope, consecutive_failures=0,
                          backfill_done=False)
        db.session.add(state)
        db.session.flush()
    return state


def record_success(vendor_id: int, feed: str, scope: str = "") -> None:
    """Mark a feed healthy now (committed)."""
    state = get_state(vendor_id, feed, scope)
    state.last_success_at = utcnow()
    state.last_error = None
    state.consecutive_failures = 0
    db.session.commit()


def record_failure(vendor_id: int, feed: str, error: BaseException, scope: str = "") -> None:
    """Roll back the failed work and note the error on the feed (committed)."""
    db.session.rollback()
    state = get_state(vendor_id, feed, scope)
    state.last_error = f"{type(error).__name__}: {error}"[:2000]
    state.last_error_at = utcnow()
    state.consecutive_failures = (state.consecutive_failures or 0) + 1
    db.session.commit()


def record_attempt(vendor_id: int, feed: str, scope: str = "") -> None:
    """Note that a feed run started (committed)."""
    state = get_state(vendor_id, feed, scope)
    state.last_attempt_at = utcnow()
    db.session.commit()


@contextmanager
def feed_run(result: SyncResult, client=None) -> Iterator[tuple | None]:
    """Run one feed of one vendor: hold its lock, lend a client, record attempt and outcome.

    Yields `(vendor, client)`, or None when another worker holds the feed's lock (the
    result says skipped) or the vendor is gone; the body then has nothing to do.
    """
    from webapp.amazon.client import SpApiClient
    from webapp.amazon.locks import feed_lock
    from webapp.vendors.models import Vendor

    vendor_id, feed = result.vendor_id, result.feed
    with feed_lock(vendor_id, feed) as held:
        vendor = db.session.get(Vendor, vendor_id) if held else None
        if not held or vendor is None:
            result.skipped = not held
            if held:
                result.notes.append("vendor gone")
            yield None
            return
        own_client = client is None
        client = client or SpApiClient.for_vendor(vendor)
        try:
            record_attempt(vendor_id, feed)
            yield vendor, client
            record_success(vendor_id, feed)
        except Exception as exc:
            record_failure(vendor_id, feed, exc)
            raise
        finally:
            if own_client:
                client.close()


def parse_time(value, where: str = "time") -> datetime | None:
    """Parse Amazon's ISO 8601 time into aware UTC (naive means UTC); None stays None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an ISO 8601 string, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}: not an ISO 8601 time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_interval(value, where: str = "window") -> tuple[datetime | None, datetime | None]:
    """Parse Amazon's `start--end` interval into both ends."""
    if value in (None, ""):
        return None, None
    if not isinstance(value, str) or "--" not in value:
        raise PayloadError(f"{where}: expected 'start--end', got {value!r}")
    start, end = value.split("--", 1)
    return parse_time(start, where), parse_time(end, where)


def parse_decimal(value, where: str = "amount") -> Decimal | None:
    """Parse a decimal string (or JSON number already read as Decimal/int); never a float."""
    if value in (None, ""):
        return None
    if isinstance(value, float) or isinstance(value, bool):
        raise PayloadError(f"{where}: refusing a float amount {value!r}")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f"{where}: not a decimal: {value!r}") from None
    if not result.is_finite():
        raise PayloadError(f"{where}: not a finite decimal: {value!r}")
    return result


def parse_date(value, where: str = "date") -> date:
    """Parse a YYYY-MM-DD date."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise PayloadError(f"{where}: not a date: {value!r}") from None


def text(value, limit: int, where: str) -> str | None:
    """Return a string that fits its column, or raise: truncating would corrupt identifiers."""
    if value is None:
        return None
    value = str(value)
    if len(value) > limit:
        raise PayloadError(f"{where}: {value[:40]!r}... is longer than {limit} characters")
    return value


def integer(value, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise PayloadError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise PayloadError(f"{where}: expected an integer, got {value!r}")
    return int(value)
