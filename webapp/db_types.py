"""Column types shared by the models: UTC datetimes and money amounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator

# Amazon sends amounts as decimal strings; 4 places cover unit costs below a cent.
MONEY = Numeric(18, 4, asdecimal=True)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC; always hand back aware UTC datetimes.

    SQLite has no time zone type, so values are stored naive-in-UTC there and
    as `timestamptz` on PostgreSQL; either way Python sees aware UTC values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its ISO 4217 currency; never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self):
        if isinstance(self.amount, float):
            raise TypeError("money amounts must be Decimal, not float")
        object.__setattr__(self, "amount", Decimal(self.amount))

    def __mul__(self, quantity: int | Decimal) -> Money:
        return Money(self.amount * Decimal(quantity), self.currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def to_amazon(self) -> dict:
        """Render as Amazon's Money object (`amount` as a decimal string)."""
        return {"currencyCode": self.currency, "amount": format(self.amount.normalize(), "f")}
