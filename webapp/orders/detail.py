"""What the PO detail shows: lines in cases and eaches with costs, stock and cover, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, literal, null, select, union_all

from webapp.amazon.models import OutboxMessage
from webapp.audit.models import AuditEntry
from webapp.core.kept import Kept
from webapp.dashboards.periods import latest_report_weeks
from webapp.dashboards.rates import ratio
from webapp.dashboards.stock import velocity_weeks, weekly_velocity
from webapp.db_types import Money
from webapp.events.models import Event
from webapp.extensions import db, read_rows
from webapp.orders.models import (
    AckApproval,
    Acknowledgement,
    ApprovalState,
    PurchaseOrder,
    PurchaseOrderLine,
)
from webapp.vendor_reports.models import InventoryWeek, SalesWeek


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


def _stock_statement():
    # Built once: sellable units in the vendor's newest inventory week and units shipped in
    # its last VELOCITY_WEEKS sales weeks, for the PO's ASINs (the stock dashboard's figures).
    vendor_id, asins = bindparam("vendor_id"), bindparam("asins", expanding=True)
    on_hand = select(InventoryWeek.asin, func.sum(InventoryWeek.sellable_on_hand_units),
                     literal(0).label("source")).where(
        InventoryWeek.vendor_id == vendor_id, InventoryWeek.asin.in_(asins),
        InventoryWeek.week_start == bindparam("stock_week")).group_by(InventoryWeek.asin)
    sold = select(SalesWeek.asin, func.sum(SalesWeek.shipped_units), literal(1)).where(
        SalesWeek.vendor_id == vendor_id, SalesWeek.asin.in_(asins),
        SalesWeek.week_start >= bindparam("sales_from"),
        SalesWeek.week_start <= bindparam("sales_to")).group_by(SalesWeek.asin)
    return union_all(on_hand, sold)


_STOCK = _stock_statement()


# The newest report weeks change when a report is imported (daily at most); every PO page
# needs them. Kept for half a minute per web process: for that long after an import, a PO
# page may still show the previous week's stock and cover.
_REPORT_WEEKS = Kept("po_page_report_weeks")
REPORT_WEEKS_SECONDS = 30


def _report_weeks(vendor_id: int) -> tuple:
    return _REPORT_WEEKS.get_or_put(vendor_id, lambda: latest_report_weeks(vendor_id),
                                    REPORT_WEEKS_SECONDS)


def stock_and_cover(vendor_id: int, asins: list[str]) -> tuple[dict, dict]:
    """Sellable units and weeks of cover per ASIN, as the stock dashboard computes them.

    Stock is the vendor's newest inventory report week; cover divides it by the average
    weekly shipped units of the last VELOCITY_WEEKS sales weeks (webapp.dashboards.stock).
    An ASIN missing from the newest inventory week has no stock figure; one that sold nothing
    has no cover (unbounded).
    """
    stock_week, sales_week = _report_weeks(vendor_id)
    if not asins or (stock_week is None and sales_week is None):
        return {}, {}
    sales_from, sales_to = velocity_weeks(sales_week)
    stock, shipped = {}, {}
    for asin, units, source in read_rows(_STOCK, {
            "vendor_id": vendor_id, "asins": asins, "stock_week": stock_week,
            "sales_from": sales_from, "sales_to": sales_to}):
        (shipped if source else stock)[asin] = int(units or 0)
    cover = {}
    for asin, units in shipped.items():
        weeks = ratio(stock.get(asin, 0), weekly_velocity(units), "0.1")
        if weeks is not None:
            cover[asin] = weeks
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
    rows = read_rows(_HISTORY, {"vendor_id": po.vendor_id, "po_id": po.id,
                                "target_id": str(po.id)}).all()
    for at, kind, who, details, source in rows:
        if source == 2:
            entries.append(HistoryEntry(at, f"outbox.{kind}", "Amazon",
                                        {"errors": details} if details else None))
        else:
            entries.append(HistoryEntry(at, kind, who, details))
    return sorted(entries, key=lambda e: e.at, reverse=True)


# What the page shows of answers waiting for a second manager (plain rows, no ORM state).
_WAITING_APPROVALS = select(
    AckApproval.id, AckApproval.rejected_value, AckApproval.currency,
    AckApproval.requested_by_id,
).where(AckApproval.purchase_order_id == bindparam("po_id"),
        AckApproval.state == ApprovalState.WAITING.value).order_by(AckApproval.id)


def waiting_approvals(po: PurchaseOrder) -> list:
    """Answers to the PO waiting for a second manager: id, value, currency, requester."""
    return read_rows(_WAITING_APPROVALS, {"po_id": po.id}).all()


_LATEST_ACK = select(Acknowledgement).where(
    Acknowledgement.purchase_order_id == bindparam("po_id")
).order_by(Acknowledgement.id.desc()).limit(1)


# The outbox message of the PO's newest answer; its columns are NULL when that answer was not
# queued (an outer join: an older answer's message never stands in for it).
_LATEST_OUTCOME = select(OutboxMessage.state, OutboxMessage.errors, OutboxMessage.last_error
                         ).select_from(Acknowledgement).outerjoin(
    OutboxMessage, OutboxMessage.id == Acknowledgement.outbox_id
).where(Acknowledgement.purchase_order_id == bindparam("po_id")
        ).order_by(Acknowledgement.id.desc()).limit(1)


def latest_answer_outcome(po: PurchaseOrder):
    """State, errors and last error of the newest answer's outbox message (None: none queued).

    One statement and a plain row: what the PO page shows; `latest_acknowledgement` gives the
    ORM objects.
    """
    row = read_rows(_LATEST_OUTCOME, {"po_id": po.id}).first()
    return row if row is not None and row.state is not None else None


def latest_acknowledgement(po: PurchaseOrder) -> tuple[Acknowledgement | None,
                                                        OutboxMessage | None]:
    """The newest answer for the PO and its outbox message (for status and errors)."""
    ack = db.session.scalar(_LATEST_ACK, {"po_id": po.id})
    message = db.session.get(OutboxMessage, ack.outbox_id) if ack and ack.outbox_id else None
    return ack, message
