"""Vendors (supplier companies), their Amazon vendor codes and allowed e-mail domains."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, LargeBinary, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db


class Vendor(db.Model):
    """A supplier company selling wholesale to Amazon; the unit of tenancy."""

    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Amazon asks for an acknowledgement within 24 hours of the PO date; vendors may tighten it.
    ack_deadline_hours: Mapped[int] = mapped_column(default=24)
    otif_target_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("90"))
    otif_grace_days: Mapped[int] = mapped_column(default=0)
    weeks_of_cover_threshold: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("4"))
    return_rate_threshold_percent: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), default=Decimal("10")
    )
    # Dual control: rejecting lines worth more than this (vendor currency) needs a second
    # manager's approval. None: off.
    dual_control_reject_above: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    # SP-API credentials (Login with Amazon); secrets are encrypted at rest (webapp.crypto).
    spapi_region: Mapped[str] = mapped_column(String(2), default="na")
    spapi_client_id: Mapped[str | None] = mapped_column(String(200))
    spapi_client_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    spapi_refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # GS1 company prefix (7-10 digits) that SSCC carton labels are numbered under (issue 11).
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    codes: Mapped[list[VendorCode]] = relationship(
        back_populates="vendor", cascade="all, delete-orphan", order_by="VendorCode.code"
    )
    domains: Mapped[list[VendorEmailDomain]] = relationship(
        back_populates="vendor", cascade="all, delete-orphan", order_by="VendorEmailDomain.domain"
    )

    def __repr__(self) -> str:
        return f"<Vendor {self.id} {self.name!r}>"


class VendorCode(db.Model):
    """An Amazon vendor code (selling party id) of a vendor, in one marketplace."""

    __tablename__ = "vendor_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    marketplace_id: Mapped[str] = mapped_column(String(16), default="ATVPDKIKX0DER")

    vendor: Mapped[Vendor] = relationship(back_populates="codes")


class VendorEmailDomain(db.Model):
    """A company e-mail domain whose addresses may be invited into a vendor."""

    __tablename__ = "vendor_email_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    vendor: Mapped[Vendor] = relationship(back_populates="domains")
