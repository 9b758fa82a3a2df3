"""Web push: devices (subscriptions), per-user alert settings, alerts and their deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db_types import UTCDateTime, utcnow
from webapp.extensions import db


class PushSubscription(db.Model):
    """One browser (device) of one user that accepts push messages."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))  # the browser's ECDH public key, base64url
    auth: Mapped[str] = mapped_column(String(64))  # the browser's auth secret, base64url
    label: Mapped[str] = mapped_column(String(80))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def info(self) -> dict:
        """Return pywebpush's `subscription_info` for this device."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class AlertPreference(db.Model):
    """A user's alert settings; absent rows mean the defaults of `webapp.push.kinds`."""

    __tablename__ = "alert_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    disabled: Mapped[list] = mapped_column(JSON, default=list)  # categories switched off
    deadline_hours: Mapped[list] = mapped_column(JSON, default=lambda: [6, 1])
    # Quiet hours as minutes after midnight in the user's time zone; equal or unset: none.
    quiet_start: Mapped[int | None]
    quiet_end: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Alert(db.Model):
    """One notification for one user: the inbox row, and what every device is sent."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_user_created", "user_id", "created_at"),
        Index("ix_alerts_undispatched", "dispatched_at", "deliver_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Which happening this is, per user (e.g. "event:12:u:3", "deadline:7:1h:u:3").
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str | None] = mapped_column(String(32))  # newer replaces older at the service
    urgency: Mapped[str] = mapped_column(String(8), default="normal")
    ttl: Mapped[int]
    data: Mapped[dict | None] = mapped_column(JSON)  # PO number, deadline, warehouse, actions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deliver_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # held by quiet hours
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deliveries: Mapped[list[PushDelivery]] = relationship(back_populates="alert")


class DeliveryState(StrEnum):
    """Life of one push to one device."""

    PENDING = "pending"  # waiting for a worker (or for its retry time)
    SENDING = "sending"  # claimed by a worker; the POST may be in flight
    SENT = "sent"  # the push service answered 201
    GONE = "gone"  # 404/410: the subscription was deleted
    FAILED = "failed"  # 413, other 4xx, or out of attempts
    IN_DOUBT = "in_doubt"  # the sender died or timed out mid-request: never repeated blindly


class PushDelivery(db.Model):
    """One alert to one device; the unique pair is what makes delivery at-most-once."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "subscription_id"),
        Index("ix_push_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    # SET NULL keeps the record of a device that said 404/410 after it is deleted.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))

    alert: Mapped[Alert] = relationship(back_populates="deliveries")
