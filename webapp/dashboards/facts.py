"""Keep the OTIF facts current: recompute the window ends the triggers marked dirty."""

from __future__ import annotations

from sqlalchemy import and_, delete, func, insert, or_, select, text, tuple_
from sqlalchemy.exc import OperationalError

from webapp.dashboards.models import OtifDirty, OtifFact, OtifFactState
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder as PO
from webapp.orders.models import PurchaseOrderLine as Line
from webapp.vendors.models import Vendor

CHUNK = 60  # window ends recomputed per statement
LOCK_SPACE = 80_080_000  # PostgreSQL advisory lock keys: LOCK_SPACE + vendor id


def refresh_otif_facts(vendor: Vendor) -> int:
    """Recompute the vendor's dirty window ends (all after a grace change); return how many."""
    try:
        return _refresh(vendor)
    except OperationalError:
        # SQLite: another request refreshed between our read and our write; its work stands.
        db.session.rollback()
        return _refresh(vendor)


def _refresh(vendor: Vendor) -> int:
    from webapp.dashboards.otif import base_aggregates

    grace = vendor.otif_grace_days or 0
    state = db.session.get(OtifFactState, vendor.id)
    stale = state is None or state.grace_days != grace
    if not stale and db.session.scalar(
            select(OtifDirty.vendor_id).where(OtifDirty.vendor_id == vendor.id).limit(1)) is None:
        return 0
    if db.engine.dialect.name == "postgresql":
        # One refresher per vendor at a time; the others wait, then find little left to do.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": LOCK_SPACE + vendor.id})
        db.session.expire_all()
        state = db.session.get(OtifFactState, vendor.id)
        stale = state is None or state.grace_days != grace
    if stale:
        # On time depends on the grace: every window end of the vendor is recomputed.
        db.session.execute(delete(OtifFact).where(OtifFact.vendor_id == vendor.id))
        db.session.execute(delete(OtifDirty).where(OtifDirty.vendor_id == vendor.id))
        db.session.execute(insert(OtifDirty).from_select(
            ["vendor_id", "delivery_window_end", "marks"],
            select(PO.vendor_id, PO.delivery_window_end, func.min(1))
            .where(PO.vendor_id == vendor.id, PO.delivery_window_end.is_not(None))
            .group_by(PO.vendor_id, PO.delivery_window_end)))
        if state is None:
            db.session.add(OtifFactState(vendor_id=vendor.id, grace_days=grace))
        else:
            state.grace_days = grace
        db.session.flush()
    dirty = db.session.execute(select(OtifDirty.delivery_window_end, OtifDirty.marks)
                               .where(OtifDirty.vendor_id == vendor.id)).all()
    aggregates = base_aggregates(grace)
    names = [a.name for a in aggregates]
    for start in range(0, len(dirty), CHUNK):
        chunk = dirty[start:start + CHUNK]
        ends = [end for end, _marks in chunk]
        db.session.execute(delete(OtifFact).where(
            OtifFact.vendor_id == vendor.id, OtifFact.delivery_window_end.in_(ends)))
        rows = []
        for kind, column in (("w", PO.ship_to_party_id), ("a", Line.asin)):
            key = func.coalesce(column, "").label("key")
            for row in db.session.execute(
                    select(PO.delivery_window_end, key, *aggregates).select_from(Line)
                    .join(PO, Line.purchase_order_id == PO.id)
                    .where(PO.vendor_id == vendor.id, PO.delivery_window_end.in_(ends),
                           Line.vendor_id == vendor.id, *counted_lines())
                    .group_by(PO.delivery_window_end, key)):
                rows.append({"vendor_id": vendor.id, "kind": kind, "key": row.key,
                             "delivery_window_end": row.delivery_window_end,
                             **{n: int(getattr(row, n) or 0) for n in names}})
        if rows:
            db.session.execute(insert(OtifFact), rows)
        # A mark that grew meanwhile (a sync committed) stays, so the next read redoes it.
        db.session.execute(delete(OtifDirty).where(
            OtifDirty.vendor_id == vendor.id,
            tuple_(OtifDirty.delivery_window_end, OtifDirty.marks).in_(chunk)
            if db.engine.dialect.name == "postgresql" else
            _pairs(chunk)))
    db.session.commit()
    return len(dirty)


def _pairs(chunk):
    """SQL: (window end, marks) is one of `chunk` (SQLite lacks row-value IN with binds)."""
    return or_(*[and_(OtifDirty.delivery_window_end == end, OtifDirty.marks == marks)
                 for end, marks in chunk])


def counted_lines() -> list:
    """WHERE clauses of the lines OTIF counts at all: not cancelled, something confirmed."""
    from webapp.dashboards.otif import CONFIRMED

    return [Line.cancelled.is_(False), CONFIRMED > 0]
