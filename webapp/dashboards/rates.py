"""Rates as exact Decimal percentages, shared by every dashboard."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HUNDREDTH = Decimal("0.01")


def percent(numerator: int | Decimal | None, denominator: int | Decimal | None) -> Decimal | None:
    """Return numerator/denominator as a percentage to 2 places (half up), None when undefined."""
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(HUNDREDTH, ROUND_HALF_UP)


def ratio(numerator: int | Decimal | None, denominator: int | Decimal | None,
          places: str = "0.01") -> Decimal | None:
    """Return numerator/denominator rounded half up to `places`, None when undefined."""
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), ROUND_HALF_UP)


def as_json(value: Decimal | None) -> str | None:
    """Serialise a Decimal as a string (exact for ERP and BI clients)."""
    return None if value is None else str(value)
