"""Amazon weeks (Sunday to Saturday) in the vendor's time zone, and data freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import g, has_request_context
from sqlalchemy import bindparam, func, select

from webapp.amazon.models import SyncState
from webapp.extensions import read_rows
from webapp.vendor_reports.models import InventoryWeek, SalesWeek

WEEK = timedelta(days=7)
ALLOWED_WEEKS = (4, 13, 26, 52)


@dataclass(frozen=True)
class Week:
    """One Amazon week: its local Sunday-Saturday dates and its bounds in UTC."""

    start: date  # local Sunday
    start_utc: datetime
    end_utc: datetime  # exclusive: next Sunday 00:00 local

    @property
    def end(self) -> date:
        """The local Saturday that closes the week."""
        return self.start + timedelta(days=6)


def week_start(day: date) -> date:
    """Return the Sunday that opens the Amazon week holding `day`."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """Return the UTC moment of local midnight at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def make_week(start: date, tz: ZoneInfo) -> Week:
    """Build the Week opening on local Sunday `start`."""
    return Week(start, local_midnight_utc(start, tz), local_midnight_utc(start + WEEK, tz))


def recent_weeks(now: datetime, timezone: str, count: int) -> list[Week]:
    """Return the last `count` Amazon weeks, oldest first, ending with the week holding `now`."""
    tz = ZoneInfo(timezone)
    current = week_start(now.astimezone(tz).date())
    return [make_week(current - WEEK * back, tz) for back in range(count - 1, -1, -1)]


def parse_weeks(value: str | None, default: int = 13) -> int:
    """Return a supported number of weeks from a query argument, or raise ValueError."""
    if value in (None, ""):
        return default
    weeks = int(value)
    if weeks not in ALLOWED_WEEKS:
        raise ValueError(f"weeks must be one of {', '.join(map(str, ALLOWED_WEEKS))}")
    return weeks


def last_synced(vendor_id: int, feeds: tuple[str, ...]) -> datetime | None:
    """Return when the oldest of `feeds` last synced successfully (None: never)."""
    synced = synced_feeds(vendor_id)
    seen = [synced[feed] for feed in feeds if synced.get(feed) is not None]
    if len(seen) < len(feeds):
        return None
    return min(seen)


def synced_feeds(vendor_id: int) -> dict[str, datetime | None]:
    """Each feed's last successful sync for `vendor_id`, read once per request."""
    # Every feed at once, kept for the rest of the request: the overview asks four times.
    memo = g.setdefault("dashboard_synced", {}) if has_request_context() else {}
    if vendor_id not in memo:
        memo[vendor_id] = dict(read_rows(_SYNCED, {"vendor_id": vendor_id}).all())
    return memo[vendor_id]


_SYNCED = (select(SyncState.feed, func.max(SyncState.last_success_at))
           .where(SyncState.vendor_id == bindparam("vendor_id")).group_by(SyncState.feed))


def latest_report_weeks(vendor_id: int) -> tuple[date | None, date | None]:
    """Return the newest inventory and sales report weeks of a vendor (None: no report yet)."""
    # One statement for both, kept for the request: the overview needs the sales week twice.
    memo = g.setdefault("dashboard_latest_weeks", {}) if has_request_context() else {}
    if vendor_id not in memo:
        memo[vendor_id] = tuple(read_rows(_LATEST_WEEKS, {"vendor_id": vendor_id}).one())
    return memo[vendor_id]


_LATEST_WEEKS = select(
    select(func.max(InventoryWeek.week_start))
    .where(InventoryWeek.vendor_id == bindparam("vendor_id")).scalar_subquery(),
    select(func.max(SalesWeek.week_start))
    .where(SalesWeek.vendor_id == bindparam("vendor_id")).scalar_subquery())
