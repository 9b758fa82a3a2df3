"""JSON API for purchase orders: list, read, acknowledge (Amazon-shaped body), answer status."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from webapp.api import api_bp, api_error
from webapp.api.idempotency import idempotent
from webapp.auth.access import require_permission
from webapp.extensions import db
from webapp.orders import detail, inbox, services
from webapp.orders.models import AckState, PoState, PurchaseOrder
from webapp.tenancy import get_for_vendor_or_404


def _quantity(amount, unit, size) -> dict | None:
    if amount is None:
        return None
    return {"amount": amount, "unitOfMeasure": unit or "Eaches", "unitSize": size or 1}


def _money(amount, currency) -> dict | None:
    if amount is None or not currency:
        return None
    return {"amount": format(amount.normalize(), "f"), "currencyCode": currency}


def po_summary(po: PurchaseOrder) -> dict:
    """A PO as the list shows it."""
    return {
        "purchaseOrderNumber": po.po_number, "purchaseOrderState": po.state,
        "purchaseOrderType": po.po_type, "acknowledgementState": po.ack_state,
        "orderedAt": po.ordered_at.isoformat(), "acknowledgeBy": po.ack_due_at.isoformat(),
        "deadlineBand": inbox.deadline_band(po.ack_due_at), "shipToPartyId": po.ship_to_party_id,
        "marketplaceId": po.marketplace_id, "changedByAmazon": bool(po.changed_by_amazon),
        "version": services.po_version(po),
    }


def po_detail(po: PurchaseOrder) -> dict:
    """A PO with its header, lines, costs, stock and answer status."""
    views = detail.line_views(po)
    total = detail.po_total(views)
    return {
        **po_summary(po),
        "shipWindow": _window(po.ship_window_start, po.ship_window_end),
        "deliveryWindow": _window(po.delivery_window_start, po.delivery_window_end),
        "paymentMethod": po.payment_method, "dealCode": po.deal_code,
        "totalCost": _money(total.amount, total.currency) if total else None,
        "items": [{
            "itemSequenceNumber": v.line.item_sequence_number, "amazonProductIdentifier":
            v.line.asin, "vendorProductIdentifier": v.line.vendor_sku,
            "orderedQuantity": _quantity(v.line.ordered_quantity, v.line.ordered_unit_of_measure,
                                         v.line.ordered_unit_size),
            "orderedEaches": v.line.ordered_eaches, "isBackOrderAllowed": v.line.back_order_allowed,
            "netCost": _money(v.line.net_cost_amount, v.line.net_cost_currency),
            "extendedCost": _money(v.extended.amount, v.extended.currency) if v.extended else None,
            "cancelled": v.line.cancelled, "confirmationStatus": v.line.confirmation_status,
            "acceptedEaches": v.line.accepted_eaches, "receivedEaches": v.line.received_eaches,
            "sellableOnHandUnits": v.on_hand,
            "weeksOfCover": str(v.weeks_of_cover) if v.weeks_of_cover is not None else None,
        } for v in views],
    }


def _window(start, end) -> dict | None:
    if start is None and end is None:
        return None
    return {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None}


def answer_status(po: PurchaseOrder) -> dict:
    """Where the latest answer of the PO stands, with Amazon's errors when it failed."""
    ack, message = detail.latest_acknowledgement(po)
    return {
        "purchaseOrderNumber": po.po_number, "acknowledgementState": po.ack_state,
        "latest": None if ack is None else {
            "acknowledgementId": ack.id, "state": ack.state,
            "createdAt": ack.created_at.isoformat(),
            "outboxState": message.state if message else None,
            "errors": (message.errors or []) if message else [],
        },
    }


def _po_or_404(number: str) -> PurchaseOrder:
    return get_for_vendor_or_404(PurchaseOrder, PurchaseOrder.po_number == number)


@api_bp.get("/purchase-orders")
@require_permission("po.view")
def list_purchase_orders():
    """Open POs by deadline, filtered, keyset-paged (`cursor`)."""
    args = request.args
    state, ack = args.get("state"), args.get("acknowledgementState")
    if state and state not in {s.value for s in PoState}:
        return api_error(400, "state must be New, Acknowledged or Closed.", "invalid_filter")
    if ack and ack not in {s.value for s in AckState}:
        return api_error(400, "Unknown acknowledgementState.", "invalid_filter")
    changed = args.get("changedByAmazon")
    if changed not in (None, "true", "false"):
        return api_error(400, "changedByAmazon must be true or false.", "invalid_filter")
    try:
        limit = int(args.get("limit", inbox.PAGE_SIZE))
    except ValueError:
        return api_error(400, "limit must be a number.", "invalid_filter")
    if not 1 <= limit <= inbox.MAX_PAGE_SIZE:
        return api_error(400, f"limit must be 1-{inbox.MAX_PAGE_SIZE}.", "invalid_filter")
    query = inbox.InboxQuery(state=state, ack_state=ack, warehouse=args.get("shipToPartyId"),
                             marketplace=args.get("marketplaceId"),
                             changed=None if changed is None else changed == "true",
                             q=args.get("q"), after=args.get("cursor"), limit=limit)
    try:
        page = inbox.inbox_page(current_user.vendor_id, query)
    except inbox.BadCursor:
        return api_error(400, "The cursor is not valid.", "invalid_cursor")
    return jsonify(purchaseOrders=[po_summary(po) for po in page.orders],
                   nextCursor=page.next_cursor,
                   needsAnswer=inbox.badge_count(current_user.vendor_id))


@api_bp.get("/purchase-orders/<number>")
@require_permission("po.view")
def get_purchase_order(number: str):
    """One PO with its lines."""
    return jsonify(po_detail(_po_or_404(number)))


@api_bp.get("/purchase-orders/<number>/acknowledgement")
@require_permission("po.view")
def get_acknowledgement_status(number: str):
    """Where the PO's latest answer stands: pending, accepted, failed or mismatch."""
    return jsonify(answer_status(_po_or_404(number)))


@api_bp.post("/purchase-orders/<number>/acknowledgement")
@require_permission("po.acknowledge")
@idempotent
def post_acknowledgement(number: str):
    """Answer a PO line by line (Amazon's item shape); idempotent by `Idempotency-Key`."""
    po = _po_or_404(number)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "invalid_body", "Send a JSON object with `items`.")
    version = body.get("poVersion")
    try:
        answers = services.answers_from_items(po, body.get("items"))
        expected = services.parse_time(version, "poVersion") if version else None
    except services.InvalidAnswer as exc:
        return _error(422, exc.code, exc.message)
    confirm = body.get("confirmRisks", True)
    if not isinstance(confirm, bool):
        return _error(400, "invalid_body", "confirmRisks must be true or false.")
    outcome = services.acknowledge_po(po, answers, user=current_user, expected_version=expected,
                                      risks_confirmed=confirm)
    risks = [_issue(r) for r in outcome.check.risks]
    if outcome.status == "refused":
        return ({"error": {"code": "rules_refused", "message": outcome.check.problems[0].message,
                           "problems": [_issue(p) for p in outcome.check.problems],
                           "risks": risks}}, 422, None)
    if outcome.status == "confirm":
        return ({"error": {"code": "risks_not_confirmed", "message": outcome.check.risks[0]
                           .message, "problems": [], "risks": risks}}, 409, None)
    body = {"status": "approval" if outcome.approval else "queued",
            "purchaseOrderNumber": po.po_number, "acknowledgementState": po.ack_state,
            "acknowledgementId": outcome.acknowledgement.id if outcome.acknowledgement else None,
            "approvalId": outcome.approval.id if outcome.approval else None, "risks": risks}
    return body, 202, lambda: services.after_commit(outcome)


def _error(status: int, code: str, message: str):
    db.session.rollback()
    return {"error": {"code": code, "message": message}}, status, None


def _issue(issue) -> dict:
    return {"code": issue.code, "message": issue.message,
            "itemSequenceNumber": issue.item_sequence_number}
