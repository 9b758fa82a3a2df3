"""Weekly inventory and sales per ASIN, from Amazon's vendor inventory and sales reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db_types import MONEY, UTCDateTime, utcnow
from webapp.extensions import db


class InventoryWeek(db.Model):
    """One week of GET_VENDOR_INVENTORY_REPORT for one ASIN (Amazon weeks: Sunday-Saturday)."""

    __tablename__ = "inventory_weeks"
    __table_args__ = (
        UniqueConstraint("vendor_id", "marketplace_id", "asin", "week_start"),
        Index("ix_inventory_weeks_vendor_week", "vendor_id", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    marketplace_id: Mapped[str] = mapped_column(String(16))
    asin: Mapped[str] = mapped_column(String(16))
    week_start: Mapped[date]
    week_end: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    sellable_on_hand_units: Mapped[int] = mapped_column(default=0)
    sellable_on_hand_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    unsellable_on_hand_units: Mapped[int] = mapped_column(default=0)
    aged_90_plus_days_sellable_units: Mapped[int] = mapped_column(default=0)
    unhealthy_units: Mapped[int] = mapped_column(default=0)
    open_purchase_order_units: Mapped[int] = mapped_column(default=0)
    net_received_units: Mapped[int] = mapped_column(default=0)
    net_received_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    unfilled_customer_ordered_units: Mapped[int] = mapped_column(default=0)
    vendor_confirmation_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    sell_through_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    average_vendor_lead_time_days: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SalesWeek(db.Model):
    """One week of GET_VENDOR_SALES_REPORT for one ASIN."""

    __tablename__ = "sales_weeks"
    __table_args__ = (
        UniqueConstraint("vendor_id", "marketplace_id", "asin", "week_start"),
        Index("ix_sales_weeks_vendor_week", "vendor_id", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    marketplace_id: Mapped[str] = mapped_column(String(16))
    asin: Mapped[str] = mapped_column(String(16))
    week_start: Mapped[date]
    week_end: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    ordered_units: Mapped[int] = mapped_column(default=0)
    ordered_revenue: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    shipped_units: Mapped[int] = mapped_column(default=0)
    shipped_revenue: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    shipped_cogs: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    customer_returns: Mapped[int] = mapped_column(default=0)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
