"""The audit log: who did what, to what, from where, and when (UTC)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db


class AuditEntry(db.Model):
    """One audited action. Never holds a secret; free text is stored as data, not markup."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_vendor_created", "vendor_id", "created_at"),
        # A PO page's history reads the entries of one target: without this index it read
        # every entry of the vendor, a cost growing with each answer, sign-in and setting.
        Index("ix_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id", ondelete="SET NULL"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))  # e-mail, "token:<name>" or "system"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "auth.login.success", "po.acknowledge"
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    details: Mapped[dict | None] = mapped_column(JSON)
