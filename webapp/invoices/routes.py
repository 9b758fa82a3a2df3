"""Invoice screens: the list, capture from a PO, the prefilled form, check and submit."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.auth.access import has_permission, require_permission
from webapp.auth.principal import signed_in_user
from webapp.extensions import db
from webapp.invoices import forms, payments, screens, services
from webapp.invoices.models import Invoice, InvoicePayment, InvoicePhoto
from webapp.orders.models import PurchaseOrder
from webapp.tenancy import get_for_vendor_or_404, vendor_select

bp = Blueprint("invoices", __name__, url_prefix="/invoices")

PAGE_SIZE = 50
MAX_PAGES = 20  # photos of one invoice


@bp.get("/")
@require_permission("invoice.view")
def index():
    """Invoices newest first, with status, PO, total, date and the first page's thumbnail."""
    status = request.args.get("status") if request.args.get("status") in screens.FILTERS \
        else None
    before = request.args.get("before", type=int)
    query = vendor_select(Invoice).order_by(Invoice.id.desc())
    if status in screens.PAYMENT_FILTERS:
        query = query.where(Invoice.status == "accepted", Invoice.payment_state == status)
    elif status:
        query = query.where(Invoice.status == status)
    if before:
        query = query.where(Invoice.id < before)
    invoices = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    more = invoices[PAGE_SIZE - 1].id if len(invoices) > PAGE_SIZE else None
    return render_template("invoices/index.html", status=status, more=more,
                           rows=screens.list_rows(invoices[:PAGE_SIZE]))


def _po_or_none(number: str | None) -> PurchaseOrder | None:
    number = (number or "").strip().upper()
    if not number:
        return None
    return get_for_vendor_or_404(PurchaseOrder, PurchaseOrder.po_number == number)


@bp.get("/capture")
@require_permission("invoice.submit")
def capture():
    """Take or choose the invoice's pages (camera, gallery or PDF), for a PO or not yet."""
    return render_template("invoices/capture.html", po=_po_or_none(request.args.get("po")),
                           max_pages=MAX_PAGES)


@bp.post("/capture")
@require_permission("invoice.submit")
def upload():
    """Store the posted pages (the path without JavaScript), then wait for OCR to read them."""
    po = _po_or_none(request.form.get("po"))
    uploads = [f for f in request.files.getlist("file") if f and f.filename][:MAX_PAGES]
    if not uploads:
        flash(_("Choose at least one photo or PDF of the invoice."), "error")
        return render_template("invoices/capture.html", po=po, max_pages=MAX_PAGES), 422
    try:
        photos = screens.store_pages(signed_in_user(), uploads, po)
    except screens.PageRefused as exc:
        flash(exc.message, "error")
        return render_template("invoices/capture.html", po=po, max_pages=MAX_PAGES), exc.status
    return redirect(url_for("invoices.scan", photo=[p.id for p in photos],
                            po=po.po_number if po else None))


def _photos_from(values) -> list[InvoicePhoto]:
    """The vendor's photos named in the request, in the order given; 404 for any other."""
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            abort(404)
    if not ids or len(ids) > MAX_PAGES * 4:
        abort(404)
    found = {p.id: p for p in db.session.scalars(
        vendor_select(InvoicePhoto).where(InvoicePhoto.id.in_(ids)))}
    if len(found) != len(set(ids)):
        abort(404)
    return [found[i] for i in dict.fromkeys(ids)]


@bp.get("/scan")
@require_permission("invoice.submit")
def scan():
    """Wait while OCR reads the pages, then choose the PO (searched by number) and go on."""
    photos = _photos_from(request.args.getlist("photo"))
    reading = any(p.ocr_state in forms.OCR_STATES_READING for p in photos)
    ocr = forms.ocr_fields(photos)
    po = _po_or_none(request.args.get("po")) if request.args.get("po") else None
    suggested = str((ocr.get("purchase_order_number") or {}).get("value") or "")
    q = (request.args.get("q") if "q" in request.args else suggested).strip()[:32]
    matches = screens.search_pos(current_user.vendor_id, q) if po is None and q else []
    return render_template("invoices/scan.html", photos=photos, reading=reading, po=po, q=q,
                           matches=matches, ocr=ocr)


@bp.post("/scan")
@require_permission("invoice.submit")
def start():
    """Open a draft invoice for the chosen PO, prefilled from what OCR read on the pages."""
    photos = _photos_from(request.form.getlist("photo"))
    number = (request.form.get("po") or "").strip().upper()
    po = db.session.scalar(vendor_select(PurchaseOrder).where(PurchaseOrder.po_number == number)) \
        if number else None
    if po is None:
        if number:
            flash(_("There is no PO %(number)s. Search for the PO number.", number=number),
                  "error")
        return redirect(url_for("invoices.scan", photo=[p.id for p in photos], q=number))
    invoice = screens.open_draft(po, photos, signed_in_user())
    db.session.commit()
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))


def _invoice(invoice_id: int) -> Invoice:
    return get_for_vendor_or_404(Invoice, Invoice.id == invoice_id)


def _render(invoice: Invoice, *, posted: dict | None = None, problems=None,
            status: int = 200, payment_form: dict | None = None,
            payment_error: payments.PaymentRefused | None = None):
    editable = invoice.editable and has_permission("invoice.submit")
    if problems is None and editable:
        problems = screens.check(invoice)
    grouped = forms.problems_by_field(problems or [])
    ocr = invoice.ocr_fields or forms.ocr_fields(invoice.photos)
    fields = forms.header_views(invoice, ocr, grouped, posted)
    po = invoice.purchase_order
    return render_template(
        "invoices/detail.html", invoice=invoice, editable=editable, po=po, fields=fields,
        lines=screens.line_rows(invoice, grouped, posted), problems=problems or [],
        general=screens.general_problems(grouped, {f.name for f in fields}),
        errors=screens.amazon_errors(invoice), ocr_po=screens.ocr_note(invoice, po),
        reading=any(p.ocr_state in forms.OCR_STATES_READING for p in invoice.photos),
        posted=posted or {}, submit_key=uuid.uuid4().hex,
        payable=payments.can_take_payments(invoice), paid=payments.summary(invoice),
        payment_form=payment_form or payments.blank_form(invoice),
        payment_error=payment_error), status


@bp.get("/<int:invoice_id>")
@require_permission("invoice.view")
def detail(invoice_id: int):
    """One invoice: the prefilled form while it can be corrected, else its status."""
    invoice = _invoice(invoice_id)
    if invoice.editable and has_permission("invoice.submit"):
        screens.refresh_ocr(invoice)  # pages read after the draft was opened
    return _render(invoice)


@bp.post("/<int:invoice_id>")
@require_permission("invoice.submit")
def save(invoice_id: int):
    """Save the corrected fields and check them; with action=submit, send it to Amazon."""
    invoice = _invoice(invoice_id)
    posted = forms.posted_fields(request.form)
    try:
        outcome = screens.save_form(invoice, posted, signed_in_user(),
                                    submit=request.form.get("action") == "submit",
                                    key=(request.form.get("submit_key") or "")[:64])
    except services.InvoiceError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("invoices.detail", invoice_id=invoice_id))
    db.session.commit()  # corrections are kept even when the check refuses to submit
    if outcome.problems:
        return _render(invoice, posted=posted, problems=outcome.problems, status=422)
    screens.after_commit(outcome)
    flash(_("The invoice is on its way to Amazon.") if outcome.submitted
          else _("Saved. No problems found: it is ready to submit."), "info")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))


@bp.post("/<int:invoice_id>/payments")
@require_permission("payment.manage")
def record_payment(invoice_id: int):
    """Record money received for an accepted invoice (partial payments add up)."""
    invoice = _invoice(invoice_id)
    try:
        payments.record_payment(invoice, signed_in_user(), payments.read_payment_form(request.form))
    except payments.PaymentRefused as exc:
        db.session.rollback()
        if exc.field is None:  # about the invoice, not a field: shown at the top
            flash(str(exc.message), "error")
        return _render(invoice, payment_form=request.form.to_dict(), payment_error=exc,
                       status=422)
    db.session.commit()
    flash(_("Payment recorded."), "info")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id, _anchor="payments"))


@bp.post("/<int:invoice_id>/payments/<int:payment_id>/delete")
@require_permission("payment.manage")
def delete_payment(invoice_id: int, payment_id: int):
    """Undo a payment recorded by mistake (the audit log keeps it)."""
    invoice = _invoice(invoice_id)
    payment = get_for_vendor_or_404(InvoicePayment, InvoicePayment.id == payment_id,
                                    InvoicePayment.invoice_id == invoice.id)
    payments.delete_payment(invoice, payment, signed_in_user())
    db.session.commit()
    flash(_("Payment removed."), "info")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id, _anchor="payments"))
