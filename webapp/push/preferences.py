"""A user's alert settings: which kinds, reminder hours, quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.models import User
from webapp.extensions import db

# Imported here (not lazily) so the worker process loads pywebpush and the crypto stack once
# and every forked work horse inherits them instead of importing them per job.
from webapp.push.kinds import (
    CATEGORIES,
    DEFAULT_DEADLINE_HOURS,
)
from webapp.push.models import (
    AlertPreference,
)


class PushError(ValueError):
    """A subscription or setting was refused; the message says why."""


# --- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    """A user's effective alert settings (stored values over the defaults)."""

    disabled: frozenset[str]
    deadline_hours: tuple[int, ...]
    quiet_start: int | None
    quiet_end: int | None

    def wants(self, category: str) -> bool:
        """Tell whether alerts of `category` are switched on."""
        return category == "test" or category not in self.disabled

    @property
    def has_quiet_hours(self) -> bool:
        return (self.quiet_start is not None and self.quiet_end is not None
                and self.quiet_start != self.quiet_end)


DEFAULT_PREFERENCES = Preferences(
    disabled=frozenset(c.name for c in CATEGORIES.values() if not c.default_on),
    deadline_hours=DEFAULT_DEADLINE_HOURS, quiet_start=None, quiet_end=None,
)


def _preferences_from_row(row: AlertPreference | None) -> Preferences:
    if row is None:
        return DEFAULT_PREFERENCES
    hours = tuple(sorted({int(h) for h in (row.deadline_hours or [])}, reverse=True))
    return Preferences(frozenset(row.disabled or ()), hours, row.quiet_start, row.quiet_end)


def preferences_for(user_id: int) -> Preferences:
    """Return the effective alert settings of one user."""
    row = db.session.scalar(select(AlertPreference).where(AlertPreference.user_id == user_id))
    return _preferences_from_row(row)


def _preferences_for_users(user_ids: list[int]) -> dict[int, Preferences]:
    rows = db.session.scalars(
        select(AlertPreference).where(AlertPreference.user_id.in_(user_ids))
    ).all() if user_ids else []
    found = {r.user_id: _preferences_from_row(r) for r in rows}
    return {uid: found.get(uid, DEFAULT_PREFERENCES) for uid in user_ids}


def parse_clock(value: str | None) -> int | None:
    """Turn "HH:MM" into minutes after midnight (blank: None)."""
    if not value:
        return None
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError as exc:
        raise PushError(_("Times look like 22:00.")) from exc
    return parsed.hour * 60 + parsed.minute


def save_preferences(user: User, *, enabled: set[str], deadline_hours: list[int],
                     quiet_start: int | None, quiet_end: int | None) -> Preferences:
    """Store a user's alert settings."""
    unknown = set(enabled) - set(CATEGORIES)
    if unknown:
        raise PushError(_("Unknown alert kind: %(kind)s", kind=", ".join(sorted(unknown))))
    hours = sorted({int(h) for h in deadline_hours}, reverse=True)
    if any(h < 1 or h > 23 for h in hours) or len(hours) > 4:
        raise PushError(_("Deadline reminders are 1 to 4 whole hours between 1 and 23."))
    row = db.session.scalar(select(AlertPreference).where(AlertPreference.user_id == user.id))
    if row is None:
        row = AlertPreference(user_id=user.id)
        db.session.add(row)
    row.disabled = sorted(set(CATEGORIES) - set(enabled) - {"test"})
    row.deadline_hours = hours
    row.quiet_start, row.quiet_end = quiet_start, quiet_end
    db.session.flush()
    return _preferences_from_row(row)


def quiet_until(prefs: Preferences, tz: ZoneInfo, now: datetime) -> datetime | None:
    """Return when the user's quiet hours end if `now` falls inside them, else None."""
    if not prefs.has_quiet_hours:
        return None
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    start, end = prefs.quiet_start, prefs.quiet_end
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, time(end // 60, end % 60), tzinfo=tz)
    return ends.astimezone(UTC)
