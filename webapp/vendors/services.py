"""Create and look up vendors."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from webapp.extensions import db
from webapp.vendors.models import Vendor, VendorCode, VendorEmailDomain

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_VENDOR_CODE = re.compile(r"^[A-Z0-9]{2,16}$")


class VendorError(ValueError):
    """A vendor could not be created or changed as asked; the message says why."""


def normalise_domain(domain: str) -> str:
    """Lower-case and validate an e-mail domain."""
    value = domain.strip().lower().removeprefix("@")
    if not _DOMAIN.match(value):
        raise VendorError(f"not a valid e-mail domain: {domain!r}")
    return value


def create_vendor(
    name: str,
    *,
    domains: list[str],
    vendor_codes: list[str],
    timezone: str = "Asia/Shanghai",
    marketplace_id: str = "ATVPDKIKX0DER",
) -> Vendor:
    """Create a vendor with its allowed e-mail domains and Amazon vendor codes."""
    name = name.strip()
    if not name:
        raise VendorError("a vendor needs a name")
    if db.session.scalar(select(Vendor.id).where(Vendor.name == name)):
        raise VendorError(f"a vendor named {name!r} already exists")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise VendorError(f"unknown time zone: {timezone!r}") from exc
    clean_domains = sorted({normalise_domain(d) for d in domains})
    clean_codes = sorted({c.strip().upper() for c in vendor_codes})
    if not clean_domains:
        raise VendorError("a vendor needs at least one company e-mail domain")
    for code in clean_codes:
        if not _VENDOR_CODE.match(code):
            raise VendorError(f"not an Amazon vendor code: {code!r}")
    taken = db.session.scalars(
        select(VendorEmailDomain.domain).where(VendorEmailDomain.domain.in_(clean_domains))
    ).all()
    if taken:
        raise VendorError(f"domain already belongs to another vendor: {', '.join(taken)}")
    taken = db.session.scalars(
        select(VendorCode.code).where(VendorCode.code.in_(clean_codes))
    ).all()
    if taken:
        raise VendorError(f"vendor code already belongs to another vendor: {', '.join(taken)}")

    vendor = Vendor(name=name, timezone=timezone)
    vendor.domains = [VendorEmailDomain(domain=d) for d in clean_domains]
    vendor.codes = [VendorCode(code=c, marketplace_id=marketplace_id) for c in clean_codes]
    db.session.add(vendor)
    db.session.flush()
    return vendor


def get_vendor_by_name(name: str) -> Vendor | None:
    """Return the vendor with this exact name, if any."""
    return db.session.scalar(select(Vendor).where(Vendor.name == name))


def list_vendors() -> list[Vendor]:
    """Return all vendors by name."""
    return list(db.session.scalars(select(Vendor).order_by(Vendor.name)))
