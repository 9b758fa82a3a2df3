"""Orders pages: the inbox (home screen), PO detail, and answering a PO with plain forms."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.auth.access import require_permission
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.i18n import datetime_formatter
from webapp.orders import detail, services
from webapp.orders import inbox as inbox_pages
from webapp.orders.acknowledgement_rules import accept_all_as_ordered
from webapp.orders.models import (
    AckApproval,
    AckState,
    PoState,
    PurchaseOrder,
    RejectionReason,
)
from webapp.tenancy import get_for_vendor_or_404

bp = Blueprint("orders", __name__)
# Characters werkzeug's default URL converter leaves unquoted in a path segment.
_PATH_SAFE = "!$&'()*+,/:;=@"


@bp.app_context_processor
def _orders_badge():
    """`orders_badge()` in templates: the number on the Orders tab (counted only when shown)."""
    def orders_badge() -> int:
        if not getattr(current_user, "is_authenticated", False):
            return 0
        if "orders_badge" not in g:  # the nav and the inbox heading share one count
            g.orders_badge = inbox_pages.cached_badge_count(current_user.vendor_id)
        return g.orders_badge
    return {"orders_badge": orders_badge}


def _query_from_args() -> inbox_pages.InboxQuery:
    args = request.args
    state = args.get("state") if args.get("state") in {s.value for s in PoState} else None
    ack = args.get("ack") if args.get("ack") in {s.value for s in AckState} else None
    changed = {"yes": True, "no": False}.get(args.get("changed", ""))
    return inbox_pages.InboxQuery(
        state=state, ack_state=ack, warehouse=args.get("warehouse") or None,
        marketplace=args.get("marketplace") or None, changed=changed,
        q=(args.get("q") or "").strip()[:64] or None, after=args.get("after") or None)


@bp.get("/orders")
@require_permission("po.view")
def inbox():
    """Open purchase orders by deadline, with countdowns, filters, search and paging."""
    query = _query_from_args()
    try:
        page = inbox_pages.inbox_page(current_user.vendor_id, query,
                                      only=inbox_pages.LIST_COLUMNS)
    except inbox_pages.BadCursor:
        return redirect(url_for("orders.inbox"))
    rows = inbox_pages.rows(page.orders, utcnow(), _detail_href(),
                            datetime_formatter("yyyy-MM-dd HH:mm"))
    return render_template("orders/inbox.html", page=page, rows=rows,
                           warehouses=inbox_pages.warehouses(current_user.vendor_id),
                           marketplaces=inbox_pages.marketplaces(current_user.vendor_id),
                           # A plain dict: a MultiDict raises (and catches) per missing key.
                           args=request.args.to_dict())


def _detail_href():
    """`number -> url_for("orders.detail_page", number=number)`, with url_for run once a page."""
    marker = "0"
    base = url_for("orders.detail_page", number=marker)[:-len(marker)]
    return lambda number: base + quote(str(number), safe=_PATH_SAFE)


def _po(number: str) -> PurchaseOrder:
    return get_for_vendor_or_404(PurchaseOrder, PurchaseOrder.po_number == number)


def _render_detail(po: PurchaseOrder, *, check=None, status: int = 200, form=None):
    lines = detail.line_views(po)  # once: it queries stock and sales
    return render_template(
        "orders/detail.html", po=po, lines=lines,
        total=detail.po_total(lines), history=detail.history(po),
        message=detail.latest_answer_outcome(po), check=check, form=form or {},
        reasons=list(RejectionReason),
        band=inbox_pages.deadline_band(po.ack_due_at), left=inbox_pages.time_left(po.ack_due_at),
        version=services.po_version(po), approvals=detail.waiting_approvals(po)), status


@bp.get("/orders/<number>")
@require_permission("po.view")
def detail_page(number: str):
    """One PO: header, lines, stock and cover, answer form, history."""
    return _render_detail(_po(number))


def _items_from_form(po: PurchaseOrder, form) -> list[dict]:
    """Read the per-line answer fields into Amazon-shaped items."""
    items = []
    for line in po.lines:
        if line.cancelled:
            continue
        seq = line.item_sequence_number
        code = form.get(f"code-{seq}", "Accepted")
        try:
            quantity = int(form.get(f"qty-{seq}", line.ordered_quantity))
        except ValueError:
            quantity = -1  # the rules answer with a plain message
        if code == "Rejected":
            quantity = line.ordered_quantity
        item = {"itemSequenceNumber": seq, "acknowledgementCode": code,
                "acknowledgedQuantity": {"amount": quantity,
                                         "unitOfMeasure": line.ordered_unit_of_measure}}
        if code == "Rejected":
            item["rejectionReason"] = form.get(f"reason-{seq}") or None
        if code == "Backordered" and form.get(f"date-{seq}"):
            item["scheduledShipDate"] = form.get(f"date-{seq}")
        items.append(item)
    return items


def _finish(po: PurchaseOrder, outcome, form):
    if outcome.status == "refused":
        db.session.rollback()
        return _render_detail(po, check=outcome.check, status=422, form=form)
    if outcome.status == "confirm":
        return render_template("orders/confirm.html", po=po, check=outcome.check,
                               fields=form), 200
    number = po.po_number  # read before the commit expires it (no reload for the redirect)
    db.session.commit()
    services.after_commit(outcome)
    if outcome.status == "approval":
        flash(_("Rejections above your limit need a second manager; they have been asked."),
              "info")
    else:
        flash(_("Your answer is on its way to Amazon."), "info")
    return redirect(url_for("orders.detail_page", number=number))


@bp.post("/orders/<number>/acknowledge")
@require_permission("po.acknowledge")
def acknowledge(number: str):
    """Answer each line (accept, back-order, reject); risks are confirmed on a second page."""
    po = _po(number)
    form = request.form.to_dict()
    try:
        answers = services.answers_from_items(po, _items_from_form(po, form))
        expected = services.parse_time(form.get("version"), "version")
    except services.InvalidAnswer as exc:
        flash(exc.message, "error")
        return _render_detail(po, status=422, form=form)
    outcome = services.acknowledge_po(po, answers, user=current_user, expected_version=expected,
                                      risks_confirmed=form.get("confirmed") == "1")
    return _finish(po, outcome, form)


@bp.post("/orders/<number>/accept-all")
@require_permission("po.acknowledge")
def accept_all(number: str):
    """Accept every line as ordered in one tap (a confirm page only when it carries risks)."""
    po = _po(number)
    form = {"accept_all": "1", **request.form.to_dict()}
    outcome = services.acknowledge_po(po, accept_all_as_ordered(po), user=current_user,
                                      risks_confirmed=form.get("confirmed") == "1")
    return _finish(po, outcome, form)


@bp.post("/orders/approvals/<int:approval_id>/approve", defaults={"decision": "approve"})
@bp.post("/orders/approvals/<int:approval_id>/decline", defaults={"decision": "decline"})
@require_permission("po.acknowledge")
def decide(approval_id: int, decision: str):
    """A second manager approves (the answer is sent) or declines a large rejection."""
    approval = get_for_vendor_or_404(AckApproval, AckApproval.id == approval_id)
    po = db.session.get(PurchaseOrder, approval.purchase_order_id)
    try:
        outcome = services.decide_approval(approval, user=current_user,
                                           approve=decision == "approve")
    except services.InvalidAnswer as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.detail_page", number=po.po_number))
    if outcome is not None and outcome.status != "queued":
        db.session.rollback()
        return _render_detail(po, check=outcome.check, status=422)
    db.session.commit()
    services.after_commit(outcome)
    flash(_("Approved and sent to Amazon.") if outcome else _("Declined."), "info")
    return redirect(url_for("orders.detail_page", number=po.po_number))
