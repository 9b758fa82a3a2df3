"""Small crafted OTIF, stock and sales datasets whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from webapp.extensions import db
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine, Receipt, eaches
from webapp.vendor_reports.models import InventoryWeek, SalesWeek

# A Wednesday: 20:00 in Shanghai, whose Amazon week runs Sun 2026-11-15 to Sat 2026-11-21.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
THIS_WEEK = date(2026, 11, 15)
LAST_WEEK = date(2026, 11, 8)
DUE = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # the usual delivery-window end


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in November 2026, UTC."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def add_po(vendor, number: str, window_end: datetime, lines: list[dict], *,
           warehouse: str = "ABE2", state: str = "Acknowledged") -> PurchaseOrder:
    """Add a PO with `lines` (dicts: qty, uom, size, accepted, received, at, receipts, ...)."""
    po = PurchaseOrder(
        vendor_id=vendor.id, po_number=number, state=state, ordered_at=window_end - timedelta(20),
        ack_due_at=window_end - timedelta(19), delivery_window_start=window_end - timedelta(7),
        delivery_window_end=window_end, ship_to_party_id=warehouse,
    )
    db.session.add(po)
    db.session.flush()
    for seq, spec in enumerate(lines, 1):
        uom, size = spec.get("uom", "Eaches"), spec.get("size", 1)
        accepted, received = spec.get("accepted", spec["qty"]), spec.get("received")
        line = PurchaseOrderLine(
            purchase_order_id=po.id, vendor_id=vendor.id, item_sequence_number=str(seq),
            asin=spec.get("asin", "B0AAAAAAA1"), vendor_sku=spec.get("sku"),
            ordered_quantity=spec["qty"], ordered_unit_of_measure=uom, ordered_unit_size=size,
            ordered_eaches=eaches(spec["qty"], uom, size), cancelled=spec.get("cancelled", False),
            accepted_quantity=accepted, accepted_unit_of_measure=uom, accepted_unit_size=size,
            accepted_eaches=eaches(accepted, uom, size),
            received_quantity=received, received_unit_of_measure=uom, received_unit_size=size,
            received_eaches=eaches(received, uom, size), last_received_at=spec.get("at"),
        )
        db.session.add(line)
        db.session.flush()
        for at, cumulative in spec.get("receipts", [(spec["at"], received)] if received else []):
            db.session.add(Receipt(
                vendor_id=vendor.id, purchase_order_line_id=line.id, received_quantity=cumulative,
                unit_of_measure=uom, unit_size=size, received_eaches=eaches(cumulative, uom, size),
                received_at=at))
    db.session.commit()
    return po


def seed_otif(vendor) -> None:
    """The OTIF dataset; tests/test_dashboards_otif.py spells out each line's outcome."""
    a1, a2, a3, a4 = "B0AAAAAAA1", "B0AAAAAAA2", "B0AAAAAAA3", "B0AAAAAAA4"
    add_po(vendor, "PO-ABE2", DUE, [
        # L1: on time, in full.
        {"qty": 10, "received": 10, "at": utc(16, 6), "asin": a1},
        # L3: on time, short by 1 case of 12 (Cases: 5 x 12 ordered and confirmed, 4 received).
        {"qty": 5, "uom": "Cases", "size": 12, "received": 4, "at": utc(16, 5), "asin": a2},
        # L5: partial receipts over several days; the last one 23 h late.
        {"qty": 10, "received": 10, "at": utc(17, 6), "asin": a1,
         "receipts": [(utc(14, 8), 6), (utc(17, 6), 10)]},
        # L6: cancelled (left out).
        {"qty": 50, "cancelled": True, "asin": a1},
        # L10: rejected: nothing confirmed (left out).
        {"qty": 10, "accepted": 0, "asin": a1},
    ])
    add_po(vendor, "PO-LGB8", DUE, [
        # L2: in full but 49 h late.
        {"qty": 20, "received": 20, "at": utc(18, 8), "asin": a1},
        # L4: 27 h late and 5 short.
        {"qty": 30, "received": 25, "at": utc(17, 10), "asin": a2},
        # L9: 8 of 10 confirmed, 8 received exactly at the window's end.
        {"qty": 10, "accepted": 8, "received": 8, "at": DUE, "asin": a3},
    ], warehouse="LGB8")
    # L8: due yesterday, never answered (held to the 40 ordered), nothing received.
    add_po(vendor, "PO-UNRECEIVED", utc(17, 7), [{"qty": 40, "accepted": None, "asin": a3}])
    # L7: not due yet (window ends tomorrow).
    add_po(vendor, "PO-NOT-DUE", utc(19, 7), [{"qty": 99, "asin": a3}])
    # B1: Saturday 23:59:59 in Shanghai: last week. B2: Sunday 00:00 in Shanghai: this week.
    add_po(vendor, "PO-SAT", utc(14, 15, 59, 59),
           [{"qty": 7, "received": 7, "at": utc(14, 12), "asin": a4}])
    add_po(vendor, "PO-SUN", utc(14, 16),
           [{"qty": 5, "received": 5, "at": utc(14, 12), "asin": a4}])


def seed_reports(vendor, asins=("B0AAAAAAA1", "B0AAAAAAA2")) -> None:
    """Two weeks of inventory and four of sales for two ASINs."""
    common = {"vendor_id": vendor.id, "marketplace_id": "ATVPDKIKX0DER", "currency": "USD"}
    a1, a2 = asins
    for start, on_hand in ((date(2026, 11, 1), (999, 999)), (LAST_WEEK, (100, 900))):
        for asin, units in zip(asins, on_hand, strict=True):
            db.session.add(InventoryWeek(
                **common, asin=asin, week_start=start, week_end=start + timedelta(6),
                sellable_on_hand_units=units, unsellable_on_hand_units=3,
                aged_90_plus_days_sellable_units=40 if asin == a2 else 0,
                unhealthy_units=15 if asin == a2 else 0,
                open_purchase_order_units=(20 if asin == a1 else 18) if start == LAST_WEEK else 5,
                sell_through_rate=Decimal("0.2500") if asin == a1 else Decimal("0.1000"),
                unfilled_customer_ordered_units=6 if asin == a1 else 0))
    shipped = {a1: (40, 50, 60, 50), a2: (10, 10, 10, 10)}
    returns = {a1: (2, 3, 1, 0), a2: (2, 1, 1, 1)}
    for i, start in enumerate(LAST_WEEK - timedelta(7 * k) for k in (3, 2, 1, 0)):
        for asin in asins:
            db.session.add(SalesWeek(
                **common, asin=asin, week_start=start, week_end=start + timedelta(6),
                ordered_units=shipped[asin][i] + 5, shipped_units=shipped[asin][i],
                ordered_revenue=Decimal("10.25") * (shipped[asin][i] + 5),
                shipped_revenue=Decimal("10.25") * shipped[asin][i],
                customer_returns=returns[asin][i]))
    db.session.commit()
