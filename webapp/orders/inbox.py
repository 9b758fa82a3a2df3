"""The PO inbox: open purchase orders of a vendor by acknowledgement deadline, keyset-paged."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, or_, select, tuple_, union, union_all
from sqlalchemy.orm import defer

from webapp.core.kept import Kept
from webapp.db_types import utcnow
from webapp.extensions import db, read_rows
from webapp.orders.models import AckState, PoState, PurchaseOrder, PurchaseOrderLine

OPEN_STATES = (PoState.NEW.value, PoState.ACKNOWLEDGED.value)
# The countdown colours: over 6 h, under 6 h, under 1 h, overdue (app.js repeats these).
SOON, URGENT = timedelta(hours=6), timedelta(hours=1)
PAGE_SIZE, MAX_PAGE_SIZE = 25, 100
# POs that still need the vendor: no answer yet, or the last one failed or disagrees.
# Above this many lines an item is searched PO by PO in deadline order, below through its index.
MANY_LINES = 500
NEEDS_ANSWER = (AckState.NONE.value, AckState.FAILED.value, AckState.MISMATCH.value)


class BadCursor(ValueError):
    """The pagination cursor is not one this inbox handed out."""


@dataclass
class InboxQuery:
    """Filters of the inbox; every one optional."""

    state: str | None = None  # a PoState value; None: New and Acknowledged
    ack_state: str | None = None  # an AckState value
    warehouse: str | None = None  # ship-to party id
    marketplace: str | None = None
    changed: bool | None = None  # changed by Amazon
    q: str | None = None  # PO number (prefix), ASIN or SKU (exact)
    after: str | None = None  # cursor
    limit: int = PAGE_SIZE


@dataclass
class InboxPage:
    """One page of the inbox and the cursor of the next one."""

    orders: list  # PurchaseOrder objects, or rows of the columns asked for (`only`)
    next_cursor: str | None
    filters: InboxQuery = field(default_factory=InboxQuery)


def encode_cursor(po: PurchaseOrder) -> str:
    """Cursor after `po`: its deadline and id (opaque to clients)."""
    raw = f"{po.ack_due_at.isoformat()}|{po.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Read a cursor made by `encode_cursor`; BadCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, po_id = raw.partition("|")
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, int(po_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor(str(exc)) from exc


def _many_lines(vendor_id: int, term: str) -> bool:
    """Whether a search term names an item on many lines (counted on the indexes only)."""
    asin, skus = term.upper(), sorted({term, term.upper()})
    found = 0
    for column, values in ((PurchaseOrderLine.asin, [asin]),
                           (PurchaseOrderLine.vendor_sku, skus)):
        found += db.session.scalar(select(func.count()).select_from(
            select(PurchaseOrderLine.id).where(PurchaseOrderLine.vendor_id == vendor_id,
                                               column.in_(values))
            .limit(MANY_LINES + 1).subquery())) or 0
    return found > MANY_LINES


def _filtered(vendor_id: int, state: str, query: InboxQuery, many_lines: bool = False):
    # One state per query: the (vendor, state, deadline, id) index then yields rows already in
    # order, so LIMIT stops early instead of sorting every open PO.
    stmt = select(PurchaseOrder).where(PurchaseOrder.vendor_id == vendor_id,
                                       PurchaseOrder.state == state)
    if query.ack_state:
        stmt = stmt.where(PurchaseOrder.ack_state == query.ack_state)
    if query.warehouse:
        stmt = stmt.where(PurchaseOrder.ship_to_party_id == query.warehouse)
    if query.marketplace:
        stmt = stmt.where(PurchaseOrder.marketplace_id == query.marketplace)
    if query.changed is not None:
        stmt = stmt.where(PurchaseOrder.changed_by_amazon.is_(query.changed))
    term = (query.q or "").strip()
    if term:
        asin, skus = term.upper(), sorted({term, term.upper()})
        by_id = or_(PurchaseOrderLine.asin == asin, PurchaseOrderLine.vendor_sku.in_(skus))
        if many_lines:
            # A common item: walk POs in deadline order and stop at the page's end.
            matches = select(PurchaseOrderLine.id).where(
                PurchaseOrderLine.purchase_order_id == PurchaseOrder.id, by_id).exists()
        else:
            # A rare item: collect its POs through the (vendor, ASIN/SKU) indexes.
            def lines(column, values):
                return select(PurchaseOrderLine.purchase_order_id).join(
                    PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id
                ).where(PurchaseOrderLine.vendor_id == vendor_id, column.in_(values),
                        PurchaseOrder.state == state)
            matches = PurchaseOrder.id.in_(union(lines(PurchaseOrderLine.asin, [asin]),
                                                 lines(PurchaseOrderLine.vendor_sku, skus)))
        stmt = stmt.where(or_(PurchaseOrder.po_number.startswith(asin, autoescape=True),
                              matches))
    return stmt


# What a row of the inbox page shows (the JSON API's list reads every column).
LIST_COLUMNS = (PurchaseOrder.id, PurchaseOrder.po_number, PurchaseOrder.state,
                PurchaseOrder.ack_state, PurchaseOrder.ack_due_at,
                PurchaseOrder.changed_by_amazon, PurchaseOrder.ship_to_party_id)


def inbox_page(vendor_id: int, query: InboxQuery, *, only=None) -> InboxPage:
    """One page of the vendor's POs matching `query`, soonest deadline first.

    The page holds PurchaseOrder objects, or with `only` (columns, e.g. LIST_COLUMNS) plain
    read-only rows of those columns, named as the attributes: a list page needs no ORM state.
    """
    limit = max(1, min(query.limit or PAGE_SIZE, MAX_PAGE_SIZE))
    if only and query == InboxQuery(limit=query.limit):
        # The Orders tab as it opens (no filter, first page): a statement built once.
        orders = list(read_rows(_first_page_statement(tuple(only)),
                                {"vendor_id": vendor_id, "limit": limit + 1}))
        return _page(orders, limit, query)
    after = decode_cursor(query.after) if query.after else None
    orders: list = []
    parts = []
    term = (query.q or "").strip()
    many = bool(term) and _many_lines(vendor_id, term)
    for state in [query.state] if query.state else OPEN_STATES:
        stmt = _filtered(vendor_id, state, query, many)
        if after:
            stmt = stmt.where(tuple_(PurchaseOrder.ack_due_at, PurchaseOrder.id) > tuple_(
                bindparam("due", after[0], type_=PurchaseOrder.ack_due_at.type),
                bindparam("po_id", after[1])))
        stmt = _in_deadline_order(stmt, limit + 1)
        if only:
            parts.append(stmt.with_only_columns(*only))
        else:
            # A list never shows the party addresses or import details: skip reading and
            # decoding their JSON for every row (still loaded on access).
            orders += db.session.scalars(stmt.options(defer(PurchaseOrder.parties),
                                                      defer(PurchaseOrder.import_details)))
    if len(parts) > 1:
        orders += read_rows(_both_states(parts))
    elif parts:
        orders += read_rows(parts[0])
    return _page(orders, limit, query)


def _both_states(parts: list):
    # One round trip for both states; each part keeps its own ORDER BY ... LIMIT on the
    # index (a subquery each: SQLite allows no LIMIT on a bare UNION member).
    return union_all(*(select(part.subquery()) for part in parts))


@cache
def _first_page_statement(only: tuple):
    """The unfiltered first page's statement, bind parameters `vendor_id` and `limit`.

    Building the statement and its cache key costs more than running it; this one is what
    every visit to the Orders tab runs, so it is built once, by the same code as any other.
    """
    return _both_states([
        _in_deadline_order(_filtered(bindparam("vendor_id"), state, InboxQuery()),
                           bindparam("limit")).with_only_columns(*only)
        for state in OPEN_STATES])


def _in_deadline_order(stmt, limit):
    return stmt.order_by(PurchaseOrder.ack_due_at, PurchaseOrder.id).limit(limit)


def _page(orders: list, limit: int, query: InboxQuery) -> InboxPage:
    orders.sort(key=lambda po: (po.ack_due_at, po.id))
    more = len(orders) > limit
    orders = orders[:limit]
    return InboxPage(orders, encode_cursor(orders[-1]) if more and orders else None, query)


def in_badge(po: PurchaseOrder) -> bool:
    """Whether the Orders tab's number counts this PO (badge_count's condition, for one PO)."""
    return po.state == PoState.NEW.value and po.ack_state in NEEDS_ANSWER


def badge_count(vendor_id: int) -> int:
    """How many new POs still need an answer (the number on the Orders tab)."""
    return db.session.scalar(
        select(func.count()).select_from(PurchaseOrder).where(
            PurchaseOrder.vendor_id == vendor_id, PurchaseOrder.state == PoState.NEW.value,
            PurchaseOrder.ack_state.in_(NEEDS_ANSWER))) or 0


@dataclass(slots=True)
class Row:
    """What one inbox row shows, computed once in Python instead of per row in Jinja."""

    po: PurchaseOrder  # or a row of inbox_page(only=...) columns, read the same way
    href: str
    band: str
    due_iso: str
    due_text: str
    hours: int
    minutes: int
    overdue: bool


def rows(orders: list, now: datetime, href, format_when) -> list[Row]:
    """The rows of a page (POs or column rows): link, colour band, deadline text, countdown."""
    out = []
    for po in orders:
        due = po.ack_due_at
        hours, minutes, overdue = time_left(due, now)
        out.append(Row(po, href(po.po_number), deadline_band(due, now), due.isoformat(),
                       format_when(due), hours, minutes, overdue))
    return out


# The Orders badge is on every page: counted at most every few seconds per vendor and worker
# process (a new PO from a sync shows within that), one less at once on an answer.
BADGE_TTL_SECONDS = 5
_BADGES = Kept("orders_badge")


def cached_badge_count(vendor_id: int) -> int:
    """`badge_count`, reused for BADGE_TTL_SECONDS in this process."""
    return _BADGES.get_or_put(vendor_id, lambda: badge_count(vendor_id), BADGE_TTL_SECONDS)


def badge_answered(vendor_id: int) -> None:
    """One PO the badge counted was answered here: one less, without counting again.

    Counting scans every new PO of the vendor (about 5 ms of PostgreSQL for 6,000); after
    each answer that cost would fall on the next page of whoever answered.
    """
    _BADGES.update(vendor_id, lambda count: max(count - 1, 0))


def deadline_band(due: datetime, now: datetime | None = None) -> str:
    """Colour band of a deadline: ok (over 6 h), soon, urgent (under 1 h) or overdue."""
    left = due - (now or utcnow())
    if left <= timedelta(0):
        return "overdue"
    if left < URGENT:
        return "urgent"
    if left < SOON:
        return "soon"
    return "ok"


def time_left(due: datetime, now: datetime | None = None) -> tuple[int, int, bool]:
    """(hours, minutes, overdue) until `due`, for the countdown text."""
    seconds = int((due - (now or utcnow())).total_seconds())
    overdue = seconds <= 0
    seconds = abs(seconds)
    return seconds // 3600, seconds % 3600 // 60, overdue


# Filter choices change rarely but cost a scan of every open PO: keep them a minute per vendor.
CHOICES_TTL_SECONDS = 60
_CHOICES = Kept("inbox_filter_choices")


def _cached(kind: str, vendor_id: int, load) -> list[str]:
    return _CHOICES.get_or_put((kind, vendor_id), load, CHOICES_TTL_SECONDS)


def warehouses(vendor_id: int) -> list[str]:
    """Ship-to warehouses of the vendor's open POs, for the filter."""
    return _cached("warehouses", vendor_id, lambda: _warehouses(vendor_id))


def marketplaces(vendor_id: int) -> list[str]:
    """Marketplaces of the vendor's open POs, for the filter."""
    return _cached("marketplaces", vendor_id, lambda: _marketplaces(vendor_id))


def _warehouses(vendor_id: int) -> list[str]:
    return list(db.session.scalars(
        select(PurchaseOrder.ship_to_party_id).where(
            PurchaseOrder.vendor_id == vendor_id, PurchaseOrder.state.in_(OPEN_STATES),
            PurchaseOrder.ship_to_party_id.is_not(None))
        .distinct().order_by(PurchaseOrder.ship_to_party_id)))


def _marketplaces(vendor_id: int) -> list[str]:
    return list(db.session.scalars(
        select(PurchaseOrder.marketplace_id).where(
            PurchaseOrder.vendor_id == vendor_id, PurchaseOrder.state.in_(OPEN_STATES),
            PurchaseOrder.marketplace_id.is_not(None))
        .distinct().order_by(PurchaseOrder.marketplace_id)))
