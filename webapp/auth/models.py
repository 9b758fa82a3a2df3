"""Users: members of one vendor, with a role, a password and a TOTP factor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.vendors.models import Vendor


class Role(StrEnum):
    """What a user may do; each role includes the ones below it where they overlap."""

    ADMIN = "admin"  # users, settings, and everything a manager does
    MANAGER = "manager"  # acknowledge POs, invoices, shipments
    FINANCE = "finance"  # invoices and payments
    VIEWER = "viewer"  # read-only


class User(UserMixin, db.Model):
    """A person who signs in to ACORN on behalf of one vendor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP secret encrypted at rest; the last accepted time step stops replays.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped[Vendor] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
