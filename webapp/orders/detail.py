"""What the PO detail shows: lines in cases and eaches with costs, stock and cover, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, func, literal, null, select, union_all

from webapp.amazon.models import OutboxMessage
from webapp.audit.models import AuditEntry
from webapp.db_types import Money
from webapp.events.models import Event
from webapp.extensions import db
from webapp.orders.models import Acknowledgement, PurchaseOrder, PurchaseOrderLine
from webapp.vendor_reports.models import InventoryWeek, SalesWeek

SALES_WEEKS_FOR_COVER = 4


def extended_cost(line: PurchaseOrderLine, quantity: int | None = None) -> Decimal | None:
    """Net cost x quantity (in the ordered unit; default the ordered quantity)."""
    if line.net_cost_amount is None:
        return None
    quantity = line.ordered_quantity if quantity is None else quantity
    # Amazon's netCost is per each unless its unit of measure says it is per case.
    if line.net_cost_unit_of_measure in ("Cases", "Pallets") \
            or line.ordered_unit_of_measure == "Eaches":
        return line.net_cost_amount * quantity
    return line.net_cost_amount * quantity * (line.ordered_unit_size or 1)


@dataclass
class LineView:
    """One PO line as the detail page shows it."""

    line: PurchaseOrderLine
    extended: Money | None
    on_hand: int | None
    weeks_of_cover: Decimal | None


@dataclass
class HistoryEntry:
    """One thing that happened to the PO."""

    at: datetime
    kind: str
    who: str | None
    details: dict | None


def line_views(po: PurchaseOrder) -> list[LineView]:
    """The PO's lines with extended cost, latest stock and weeks of cover per ASIN."""
    asins = sorted({line.asin for line in po.lines if line.asin})
    stock, cover = stock_and_cover(po.vendor_id, asins)
    views = []
    for line in po.lines:
        amount = extended_cost(line)
        extended = Money(amount, line.net_cost_currency) if amount is not None \
            and line.net_cost_currency else None
        views.append(LineView(line, extended, stock.get(line.asin), cover.get(line.asin)))
    return views


def po_total(views: list[LineView]) -> Money | None:
    """Sum of the extended costs (None when a line has no cost or currencies differ)."""
    total = None
    for view in views:
        if view.line.cancelled:
            continue
        if view.extended is None:
            return None
        try:
            total = view.extended if total is None else total + view.extended
        except ValueError:
            return None
    return total


def stock_and_cover(vendor_id: int, asins: list[str]) -> tuple[dict, dict]:
    """Latest sellable units and weeks of cover (units / average weekly sales) per ASIN."""
    if not asins:
        return {}, {}
    latest = select(InventoryWeek.asin, func.max(InventoryWeek.week_start).label("week")).where(
        InventoryWeek.vendor_id == vendor_id, InventoryWeek.asin.in_(asins)
    ).group_by(InventoryWeek.asin).subquery()
    stock = {}
    newest_week = {}
    for asin, units, week in db.session.execute(
        select(InventoryWeek.asin, func.sum(InventoryWeek.sellable_on_hand_units),
               InventoryWeek.week_start)
        .join(latest, (latest.c.asin == InventoryWeek.asin)
              & (latest.c.week == InventoryWeek.week_start))
        .where(InventoryWeek.vendor_id == vendor_id)
        .group_by(InventoryWeek.asin, InventoryWeek.week_start)):
        stock[asin] = int(units or 0)
        newest_week[asin] = week
    cover = {}
    if newest_week:
        since = min(newest_week.values()) - timedelta(weeks=SALES_WEEKS_FOR_COVER)
        weekly: dict[str, list[int]] = {}
        for asin, week, units in db.session.execute(
            select(SalesWeek.asin, SalesWeek.week_start, func.sum(SalesWeek.shipped_units))
            .where(SalesWeek.vendor_id == vendor_id, SalesWeek.asin.in_(list(newest_week)),
                   SalesWeek.week_start > since)
            .group_by(SalesWeek.asin, SalesWeek.week_start)):
            if week <= newest_week[asin]:
                weekly.setdefault(asin, []).append(int(units or 0))
        for asin, units in weekly.items():
            recent = sorted(units)[-SALES_WEEKS_FOR_COVER:] if units else []
            average = Decimal(sum(recent)) / len(recent) if recent else Decimal(0)
            if average > 0:
                cover[asin] = (Decimal(stock[asin]) / average).quantize(
                    Decimal("0.1"), rounding=ROUND_HALF_UP)
    return stock, cover


def _history_statement():
    # One statement for the three sources, built once (a page view: Core rows, no identity map).
    po_id = bindparam("po_id")
    audit = select(AuditEntry.created_at.label("at"), AuditEntry.action.label("kind"),
                   AuditEntry.actor.label("who"), AuditEntry.details.label("details"),
                   literal(0).label("source")).where(
        AuditEntry.vendor_id == bindparam("vendor_id"),
        AuditEntry.target_type == "purchase_order", AuditEntry.target_id == bindparam("target_id"))
    events = select(Event.created_at, Event.kind, null(), Event.payload, literal(1)).where(
        Event.purchase_order_id == po_id)
    sent = select(OutboxMessage.completed_at, OutboxMessage.state, null(), OutboxMessage.errors,
                  literal(2)).join(Acknowledgement, OutboxMessage.id == Acknowledgement.outbox_id
                                   ).where(Acknowledgement.purchase_order_id == po_id,
                                           OutboxMessage.completed_at.is_not(None))
    return union_all(audit, events, sent).order_by("source")


_HISTORY = _history_statement()


def history(po: PurchaseOrder) -> list[HistoryEntry]:
    """Every action on the PO: audit entries, events, acknowledgements and their outbox state."""
    entries = [HistoryEntry(po.ordered_at, "po.ordered", "Amazon", None)]
    if po.amazon_changed_at:
        entries.append(HistoryEntry(po.amazon_changed_at, "po.changed", "Amazon", None))
    rows = db.session.execute(_HISTORY, {"vendor_id": po.vendor_id, "po_id": po.id,
                                         "target_id": str(po.id)}).all()
    for at, kind, who, details, source in rows:
        if source == 2:
            entries.append(HistoryEntry(at, f"outbox.{kind}", "Amazon",
                                        {"errors": details} if details else None))
        else:
            entries.append(HistoryEntry(at, kind, who, details))
    return sorted(entries, key=lambda e: e.at, reverse=True)


def latest_acknowledgement(po: PurchaseOrder) -> tuple[Acknowledgement | None,
                                                        OutboxMessage | None]:
    """The newest answer for the PO and its outbox message (for status and errors)."""
    ack = db.session.scalar(select(Acknowledgement).where(
        Acknowledgement.purchase_order_id == po.id).order_by(Acknowledgement.id.desc()).limit(1))
    message = db.session.get(OutboxMessage, ack.outbox_id) if ack and ack.outbox_id else None
    return ack, message
