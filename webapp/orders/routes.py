"""The orders inbox: the signed-in vendor's open purchase orders by acknowledgement deadline."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.auth.access import require_permission
from webapp.extensions import db
from webapp.orders.models import PoState, PurchaseOrder
from webapp.tenancy import vendor_select

bp = Blueprint("orders", __name__)
INBOX_LIMIT = 200


def open_purchase_orders(limit: int = INBOX_LIMIT) -> list[PurchaseOrder]:
    """The current vendor's New and Acknowledged POs, soonest deadline first."""
    query = (
        vendor_select(PurchaseOrder)
        .where(PurchaseOrder.state.in_([PoState.NEW.value, PoState.ACKNOWLEDGED.value]))
        .order_by(PurchaseOrder.ack_due_at, PurchaseOrder.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


@bp.get("/orders")
@require_permission("po.view")
def inbox():
    """List open purchase orders with their deadlines in the vendor's time zone."""
    return render_template("orders/inbox.html", orders=open_purchase_orders())


