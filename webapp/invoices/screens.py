"""What the invoice screens need from the domain: list rows, PO search, line rows, one save verb.

The views stay thin: each calls one function here, which calls the domain verbs in
webapp.invoices.services (drafts, OCR, corrections, submission) and photos (uploads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.invoices import photos as photo_service
from webapp.invoices import services
from webapp.invoices.checks import cents, line_amount, preflight
from webapp.invoices.forms import shown
from webapp.invoices.models import Invoice, InvoicePhoto, InvoiceStatus, PaymentState
from webapp.media.errors import UploadRefused
from webapp.orders.models import PurchaseOrder

STATUSES = tuple(s.value for s in InvoiceStatus)
# List filters on accepted invoices' payments, recorded by finance (webapp.invoices.payments).
PAYMENT_FILTERS = (PaymentState.PARTLY_PAID.value, PaymentState.PAID.value)
FILTERS = STATUSES + PAYMENT_FILTERS
PO_MATCHES = 10


@dataclass
class ListRow:
    """One row of the invoice list."""

    invoice: Invoice
    po_number: str | None
    thumbnail: InvoicePhoto | None


def list_rows(invoices: list[Invoice]) -> list[ListRow]:
    """PO numbers and first pages of `invoices`, in two queries for the whole page."""
    po_ids = {i.purchase_order_id for i in invoices if i.purchase_order_id}
    numbers = dict(db.session.execute(select(PurchaseOrder.id, PurchaseOrder.po_number)
                                      .where(PurchaseOrder.id.in_(po_ids))).all()) if po_ids else {}
    first: dict[int, InvoicePhoto] = {}
    ids = [i.id for i in invoices]
    if ids:
        for photo in db.session.scalars(select(InvoicePhoto).where(InvoicePhoto.invoice_id.in_(ids))
                                        .order_by(InvoicePhoto.page_number, InvoicePhoto.id)):
            first.setdefault(photo.invoice_id, photo)
    return [ListRow(i, numbers.get(i.purchase_order_id), first.get(i.id)) for i in invoices]


class PageRefused(Exception):
    """An uploaded page was refused (not an image or PDF, too large): nothing is kept."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def store_pages(user, uploads, po: PurchaseOrder | None) -> list[InvoicePhoto]:
    """Store the uploads as pages in the order given (a PDF gives a page each); OCR is queued.

    All or nothing: one refused file stores none (the photos service checks all first).
    """
    try:
        return photo_service.save_invoice_photos(user.vendor, user, list(uploads),
                                                 purchase_order=po)
    except UploadRefused as exc:
        raise PageRefused(exc.message, exc.status) from exc


def search_pos(vendor_id: int, q: str) -> list[PurchaseOrder]:
    """The vendor's POs whose number starts with (or contains) `q`, newest first."""
    q = "".join(c for c in q.upper() if c.isalnum())[:32]
    if not q:
        return []
    base = select(PurchaseOrder).where(PurchaseOrder.vendor_id == vendor_id)
    found = db.session.scalars(base.where(PurchaseOrder.po_number.like(f"{q}%"))
                               .order_by(PurchaseOrder.ordered_at.desc()).limit(PO_MATCHES)).all()
    if not found:  # OCR may have dropped or misread a character: search inside numbers too
        found = db.session.scalars(base.where(PurchaseOrder.po_number.contains(q[-6:]))
                                   .order_by(PurchaseOrder.ordered_at.desc())
                                   .limit(PO_MATCHES)).all()
    return list(found)


def open_draft(po: PurchaseOrder, photos: list[InvoicePhoto], user) -> Invoice:
    """A draft for `po` with the photos as its pages, prefilled from what OCR read."""
    invoice = services.create_invoice_from_po(po, user=user)
    services.attach_photos(invoice, photos, user=user)
    db.session.flush()
    services.apply_ocr(invoice, photos)
    return invoice


def refresh_ocr(invoice: Invoice) -> None:
    """Prefill from pages read since the draft was opened (the user's own values stay)."""
    if invoice.editable and any(p.ocr_state == "done" for p in invoice.photos):
        read = {k: v.get("value") for k, v in (invoice.ocr_fields or {}).items()
                if isinstance(v, dict)}
        services.apply_ocr(invoice)
        if read != {k: v.get("value") for k, v in (invoice.ocr_fields or {}).items()
                    if isinstance(v, dict)}:
            db.session.commit()
        else:
            db.session.rollback()


@dataclass
class LineRow:
    """One invoice line in the form or the detail."""

    index: int
    line: object
    quantity: str
    unit_cost: str
    amount: Decimal | None
    problems: list = field(default_factory=list)


def line_rows(invoice: Invoice, problems: dict[str, list],
              posted: dict | None = None) -> list[LineRow]:
    """Each line with what the user typed (else saved), its amount and its problems."""
    rows = []
    for index, line in enumerate(invoice.lines):
        key = f"lines[{index}]"
        quantity = (posted or {}).get(f"{key}.quantity", str(line.quantity))
        cost = (posted or {}).get(f"{key}.unit_cost", shown(line.net_cost_amount))
        here = [p for name, found in problems.items() if name.startswith(key + ".")
                for p in found]
        amount = cents(line_amount(line)) if line.net_cost_amount is not None else None
        rows.append(LineRow(index, line, quantity, cost, amount, here))
    return rows


def general_problems(grouped: dict[str, list], on_form: set[str]) -> list:
    """Problems with no field of their own on the form, shown at the top."""
    return [p for name, found in grouped.items() if name not in on_form
            and not name.startswith("lines[") for p in found]


def amazon_errors(invoice: Invoice) -> list[str]:
    """Amazon's reasons for refusing the invoice, as text."""
    out = []
    for error in invoice.errors or []:
        if isinstance(error, dict):
            out.append(str(error.get("message") or error.get("code") or error))
        else:
            out.append(str(error))
    return out


def check(invoice: Invoice) -> list:
    """The pre-flight problems to show on a page view (no alert: a GET changes nothing)."""
    return preflight(invoice, raise_events=False)


def ocr_note(invoice: Invoice, po: PurchaseOrder | None) -> str | None:
    """The PO number OCR read, when it differs from the draft's PO (else None)."""
    read = ((invoice.ocr_fields or {}).get("purchase_order_number") or {}).get("value")
    if read and po is not None and str(read).strip().upper() != po.po_number.upper():
        return str(read)
    return None


@dataclass
class SaveOutcome:
    """What saving the form did: problems to show, and the submission when one was queued."""

    problems: list = field(default_factory=list)
    submit: services.SubmitOutcome | None = None

    @property
    def submitted(self) -> bool:
        return self.submit is not None and self.submit.status == "queued"


def save_form(invoice: Invoice, posted: dict, user, *, submit: bool, key: str) -> SaveOutcome:
    """Apply the form (what can be read is kept); check it; with `submit`, queue it for Amazon.

    Values that cannot be read come back as problems next to their fields; the invoice is then
    not submitted. The caller commits either way, so corrections are never lost.
    """
    errors = services.update_invoice(invoice, posted, user=user)
    if errors:
        return SaveOutcome(problems=list(errors))
    if not submit:
        return SaveOutcome(problems=services.check_invoice(invoice))
    outcome = services.submit_invoice(invoice, user, key)
    return SaveOutcome(problems=outcome.problems, submit=outcome)


def after_commit(outcome: SaveOutcome) -> None:
    """Ask a worker to send a queued invoice now (the outbox sweep is the backstop)."""
    services.after_commit(outcome.submit)
