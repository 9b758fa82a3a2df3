"""Query parameters as Amazon checks them: date-times, 7-day windows, enums and flags."""

from __future__ import annotations

from datetime import datetime, timedelta

from webapp.amazon.sandbox.errors import invalid_input
from webapp.amazon.sandbox.generator import iso, parse_iso

MAX_WINDOW = timedelta(days=7)


def time_param(params, name: str) -> str | None:
    """Return a date-time parameter in canonical form, or None when absent."""
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return iso(parse_iso(value))
    except ValueError:
        raise invalid_input(f"Invalid {name}: {value!r} is not an ISO 8601 date-time.") from None


def window(params, after_name: str, before_name: str, now: datetime):
    """Parse an after/before pair and enforce Amazon's 7-day maximum span."""
    after, before = time_param(params, after_name), time_param(params, before_name)
    if after is None and before is None:
        return None, None
    low = parse_iso(after) if after else parse_iso(before) - MAX_WINDOW
    high = parse_iso(before) if before else max(now, low)
    if high < low:
        raise invalid_input(f"{after_name} must be before {before_name}.")
    if high - low > MAX_WINDOW:
        raise invalid_input(
            f"The date range between {after_name} and {before_name} must not exceed 7 days.",
            f"{after_name}={iso(low)}, {before_name}={iso(high)}",
        )
    return iso(low), iso(high)


def enum_param(params, name: str, allowed) -> str | None:
    """Return a parameter that must be one of `allowed`, or None when absent."""
    value = params.get(name)
    if value in (None, ""):
        return None
    if value not in allowed:
        raise invalid_input(f"Invalid {name}: {value!r}.", f"Allowed: {', '.join(allowed)}")
    return value


def flag_param(params, name: str) -> bool | None:
    """Return a true/false parameter as a bool, or None when absent."""
    value = params.get(name)
    if value in (None, ""):
        return None
    if value.lower() not in ("true", "false"):
        raise invalid_input(f"Invalid {name}: {value!r}; use true or false.")
    return value.lower() == "true"
