"""Sync cursors per vendor and feed, and the outbox of everything submitted to Amazon."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db


class SyncState(db.Model):
    """Where one feed (orders, status, reports) of one vendor stands: cursor and health."""

    __tablename__ = "sync_states"
    __table_args__ = (UniqueConstraint("vendor_id", "feed", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    feed: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(32), default="")  # e.g. a vendor code
    # Advanced only after the data it covers is committed.
    cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    backfill_done: Mapped[bool] = mapped_column(default=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(default=0)


class OutboxState(StrEnum):
    """Life of an outbox message."""

    PENDING = "pending"  # written with the user's action, not yet sent
    SENDING = "sending"  # a worker claimed it; the POST may or may not have reached Amazon
    SUBMITTED = "submitted"  # Amazon gave a transactionId; polling getTransaction
    # A sender died (or got an ambiguous answer) mid-POST: Amazon may or may not have it.
    # Never resent automatically; resolved by checking Amazon's state or by a user's retry.
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """One submission to Amazon, written in the same transaction as the action behind it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # acknowledgement, invoice, shipment_confirmation
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    payload: Mapped[dict] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    transaction_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[list | None] = mapped_column(JSON)  # Amazon's error list on failure
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
