"""SSCC-18 serial shipping container codes: check digit, parsing, formatting, allocation.

An SSCC is an extension digit, the vendor's GS1 company prefix (7-10 digits), a serial
reference filling the number to 17 digits, and a mod-10 check digit (GS1 General
Specifications, 7.9.1). GS1 forbids reusing an SSCC for at least a year, so serials come from
a counter per (company prefix, extension digit) that only moves forward: one conditional
UPDATE ... RETURNING reserves a whole block, which is atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import BigInteger, SmallInteger, String, UniqueConstraint, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db

if TYPE_CHECKING:
    from webapp.vendors.models import Vendor

SSCC_LENGTH = 18
PREFIX_MIN, PREFIX_MAX = 7, 10
MAX_BLOCK = 10_000  # one call; a shipment with more cartons than this is a data error
FIRST_SERIAL = 1

_PREFIX = re.compile(r"[0-9]{7,10}")
# "(00) 1 0614141 123456789 7", "00106141411234567897", "106141411234567897", once spaces
# are gone; "]C1" is the GS1-128 symbology identifier some scanners put in front.
_ELEMENT = re.compile(r"(?:\]C1)?(?:\(00\)|00)?([0-9]{18})")
_SPACE = re.compile(r"\s")


class SsccError(ValueError):
    """An SSCC cannot be made or read (bad prefix, bad digits)."""


class SsccRangeExhausted(SsccError):
    """Every serial reference of a company prefix and extension digit has been used."""


class SsccCounter(db.Model):
    """The next unused serial reference of one GS1 company prefix and extension digit."""

    __tablename__ = "sscc_counters"
    # Keyed by the number space, not the vendor: even two vendors misconfigured with the same
    # prefix can never be handed the same SSCC.
    __table_args__ = (UniqueConstraint("company_prefix", "extension_digit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_prefix: Mapped[str] = mapped_column(String(10))
    extension_digit: Mapped[int] = mapped_column(SmallInteger)
    next_serial: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _mod10(digits: str) -> int:
    """GS1 mod-10: weights 3, 1, 3, ... from the rightmost data digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _is_digits(s: str, length: int) -> bool:
    return isinstance(s, str) and len(s) == length and s.isascii() and s.isdigit()


def check_digit(digits17: str) -> int:
    """Return the GS1 check digit of the first 17 digits of an SSCC."""
    if not _is_digits(digits17, SSCC_LENGTH - 1):
        raise SsccError("an SSCC check digit is computed over exactly 17 digits")
    return _mod10(digits17)


def is_valid_sscc(s: str) -> bool:
    """Tell whether `s` is exactly 18 digits with a correct check digit."""
    return _is_digits(s, SSCC_LENGTH) and _mod10(s[:-1]) == int(s[-1])


def parse_sscc(text: str) -> str | None:
    """Return the SSCC in a scanned or typed element string ("(00)...", "00...", 18 digits)."""
    match = _ELEMENT.fullmatch(_SPACE.sub("", text or ""))
    return match.group(1) if match and is_valid_sscc(match.group(1)) else None


def format_sscc(s: str, prefix_length: int | None = None) -> str:
    """Render an SSCC for people: "(00) 1 0614141 123456789 7" when the prefix length is known."""
    if not is_valid_sscc(s):
        raise SsccError(f"not a valid SSCC: {s!r}")
    if prefix_length is None:
        return f"(00) {s[0]} {s[1:17]} {s[17]}"
    if not PREFIX_MIN <= prefix_length <= PREFIX_MAX:
        raise SsccError("a GS1 company prefix is 7 to 10 digits long")
    end = 1 + prefix_length
    return f"(00) {s[0]} {s[1:end]} {s[end:17]} {s[17]}"


def validate_company_prefix(prefix: str) -> str:
    """Return the prefix without spaces, or raise SsccError unless it is 7-10 digits."""
    cleaned = _SPACE.sub("", prefix or "")
    if not _PREFIX.fullmatch(cleaned):
        raise SsccError("a GS1 company prefix is 7 to 10 digits")
    return cleaned


def serial_capacity(prefix: str) -> int:
    """How many serial references one extension digit of `prefix` has (10^(16 - length))."""
    return 10 ** (SSCC_LENGTH - 2 - len(validate_company_prefix(prefix)))


def build_sscc(extension_digit: int, prefix: str, serial: int) -> str:
    """Assemble an SSCC from its parts, with its check digit."""
    prefix = validate_company_prefix(prefix)
    if extension_digit not in range(10):
        raise SsccError("the extension digit is 0 to 9")
    width = SSCC_LENGTH - 2 - len(prefix)
    if not 0 <= serial < 10**width:
        raise SsccError(f"serial {serial} does not fit {width} digits")
    body = f"{extension_digit}{prefix}{serial:0{width}d}"
    return body + str(_mod10(body))


def _ensure_counter(session, prefix: str, extension_digit: int) -> None:
    """Create the counter row once; a concurrent creator wins quietly."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(SsccCounter)
        .values(company_prefix=prefix, extension_digit=extension_digit,
                next_serial=FIRST_SERIAL, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["company_prefix", "extension_digit"])
    )


def _reserve(session, prefix: str, extension_digit: int, count: int, capacity: int):
    """Move the counter forward by `count` if the range allows; return the new next serial."""
    counter = SsccCounter.__table__.c
    return session.execute(
        update(SsccCounter)
        .where(counter.company_prefix == prefix, counter.extension_digit == extension_digit,
               counter.next_serial + count <= capacity)
        .values(next_serial=counter.next_serial + count, updated_at=utcnow())
        .returning(counter.next_serial)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def allocate_ssccs(vendor: Vendor, count: int, extension_digit: int = 0) -> list[str]:
    """Reserve `count` never-used SSCCs under the vendor's GS1 company prefix, in order.

    Runs in the caller's transaction (db.session) and does not commit: commit soon, since the
    counter row stays locked until then. A rolled-back caller releases the serials unused.
    """
    if not isinstance(count, int) or not 1 <= count <= MAX_BLOCK:
        raise SsccError(f"allocate 1 to {MAX_BLOCK} SSCCs at a time")
    if extension_digit not in range(10):
        raise SsccError("the extension digit is 0 to 9")
    if not vendor.gs1_company_prefix:
        raise SsccError(_("Set your GS1 company prefix (Settings, Shipping labels) before "
                          "printing carton labels."))
    prefix = validate_company_prefix(vendor.gs1_company_prefix)
    capacity = serial_capacity(prefix)
    session = db.session
    after = _reserve(session, prefix, extension_digit, count, capacity)
    if after is None:
        _ensure_counter(session, prefix, extension_digit)
        after = _reserve(session, prefix, extension_digit, count, capacity)
    if after is None:
        used = session.scalar(
            select(SsccCounter.next_serial).where(
                SsccCounter.company_prefix == prefix,
                SsccCounter.extension_digit == extension_digit))
        raise SsccRangeExhausted(_(
            "GS1 company prefix %(prefix)s with extension digit %(digit)s has %(left)s label "
            "numbers left, %(asked)s asked. Use another extension digit or company prefix.",
            prefix=prefix, digit=extension_digit, left=max(capacity - (used or 0), 0),
            asked=count))
    return [build_sscc(extension_digit, prefix, serial) for serial in range(after - count, after)]


def set_company_prefix(vendor: Vendor, prefix: str | None) -> str | None:
    """Set or clear the vendor's GS1 company prefix (validated); the caller commits.

    Safe at any time: counters are per prefix, so switching back to an old prefix continues
    its serials instead of repeating them.
    """
    vendor.gs1_company_prefix = validate_company_prefix(prefix) if prefix else None
    return vendor.gs1_company_prefix
