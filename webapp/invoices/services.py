"""Domain verbs for invoices: draft from a PO, prefill from OCR, correct, check, submit.

No `request` here: views parse nothing themselves, they hand the form to `update_invoice`, call
`submit_invoice`, commit, then `after_commit` so a worker sends at once (the outbox sweep is the
backstop). Every verb takes the acting user and refuses roles without "invoice.submit".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from webapp.amazon import outbox
from webapp.amazon.models import OutboxMessage, OutboxState
from webapp.audit.services import record as audit
from webapp.auth.access import PERMISSIONS
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.invoices.checks import Problem, accepted_of, expected_total, preflight, vendor_today
from webapp.invoices.models import Invoice, InvoiceLine, InvoicePhoto, InvoiceStatus
from webapp.invoices.submission import build_invoice_body
from webapp.invoices.values import (
    HEADER_FIELDS,
    LINE_FIELD,
    OCR_FIELDS,
    Bad,
    parse_field,
    parse_line_value,
)
from webapp.orders.models import PurchaseOrder, eaches

log = logging.getLogger(__name__)

class InvoiceError(ValueError):
    """An invoice action is not allowed: no permission, not this vendor's, or not editable."""

    def __init__(self, code: str, message) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message


@dataclass
class SubmitOutcome:
    """What `submit_invoice` did: queued (with the outbox message) or refused (problems)."""

    status: str  # queued | refused
    problems: list[Problem] = field(default_factory=list)
    message: OutboxMessage | None = None
    to_send: list[int] = field(default_factory=list)  # outbox ids to hand to a worker


def may_submit(user) -> bool:
    """Tell whether `user`'s role may create, correct and submit invoices."""
    return user is not None and user.role in PERMISSIONS["invoice.submit"]


def _require(user, vendor_id: int) -> None:
    # Another vendor's object reads as missing, exactly as the views' 404.
    if user is None or user.vendor_id != vendor_id:
        raise InvoiceError("not_found", _l("No such invoice or purchase order."))
    if not may_submit(user):
        raise InvoiceError("forbidden", _l("Your role may read invoices but not change them."))


def _require_editable(invoice: Invoice) -> None:
    if not invoice.editable:
        raise InvoiceError("not_editable", _l(
            "This invoice was sent to Amazon and can no longer be changed."))


def _audit(action: str, invoice: Invoice, user, details: dict | None = None) -> None:
    audit(action, actor=user.email if user else "system", actor_user_id=user.id if user else None,
          vendor_id=invoice.vendor_id, target_type="invoice", target_id=invoice.id,
          details=details)


def create_invoice_from_po(po: PurchaseOrder, *, user, invoice_type: str = "Invoice",
                           now: datetime | None = None) -> Invoice:
    """Start a draft for `po`, lines prefilled from what Amazon accepted (caller commits).

    Each line gets the accepted quantity in Amazon's unit of measure and unit size (the
    ordered quantity when nothing is acknowledged yet: the check then says so), the
    acknowledged net cost, ASIN and vendor SKU. The total starts as the sum of the lines.
    """
    _require(user, po.vendor_id)
    if invoice_type not in ("Invoice", "CreditNote"):
        raise InvoiceError("type_invalid", _l("Choose Invoice or Credit note."))
    invoice = Invoice(vendor_id=po.vendor_id, purchase_order=po, invoice_type=invoice_type,
                      created_by_id=user.id, status=InvoiceStatus.DRAFT.value, version=1,
                      invoice_date=vendor_today(po.vendor_id, now), entered_fields=[])
    currency = None
    for po_line in po.lines:
        if po_line.cancelled:
            continue
        accepted = accepted_of(po_line)
        if accepted.eaches == 0:
            continue  # rejected: Amazon pays nothing for it
        size = po_line.ordered_unit_size or 1
        if accepted.eaches is None:
            quantity = po_line.ordered_quantity
        elif po_line.ordered_unit_of_measure in ("Cases", "Pallets"):
            quantity = accepted.eaches // size
        else:
            quantity = accepted.eaches
        currency = currency or accepted.currency
        invoice.lines.append(InvoiceLine(
            purchase_order_line=po_line, item_sequence_number=po_line.item_sequence_number,
            asin=po_line.asin, vendor_sku=po_line.vendor_sku, quantity=quantity,
            unit_of_measure=po_line.ordered_unit_of_measure, unit_size=po_line.ordered_unit_size,
            quantity_eaches=eaches(quantity, po_line.ordered_unit_of_measure, size),
            net_cost_amount=accepted.net_cost or Decimal(0),
            net_cost_currency=accepted.currency or currency or _vendor_currency(po.vendor_id)))
    invoice.currency = currency or _vendor_currency(po.vendor_id)
    invoice.total_amount = expected_total(invoice)
    db.session.add(invoice)
    db.session.flush()
    _audit("invoice.create", invoice, user, {"purchase_order_id": po.id, "type": invoice_type})
    return invoice


def _vendor_currency(vendor_id: int) -> str:
    from webapp.vendors.models import Vendor

    vendor = db.session.get(Vendor, vendor_id)
    return vendor.currency if vendor else "USD"


def attach_photos(invoice: Invoice, photos: Iterable[InvoicePhoto], *, user) -> None:
    """Attach the vendor's uploaded photos to the invoice, as pages in the given order."""
    _require(user, invoice.vendor_id)
    _require_editable(invoice)
    start = max((p.page_number for p in invoice.photos), default=0)
    for offset, photo in enumerate(photos, start=1):
        if photo.vendor_id != invoice.vendor_id or photo.invoice_id not in (None, invoice.id):
            raise InvoiceError("not_found", _l("No such photo."))
        if photo.invoice_id != invoice.id:
            photo.invoice = invoice
            photo.page_number = start + offset
    _audit("invoice.photos", invoice, user, {"photos": [p.id for p in invoice.photos]})


def apply_ocr(invoice: Invoice, photos: Iterable[InvoicePhoto] | None = None) -> dict:
    """Fill header fields from the photos' OCR where the user typed nothing; return what was read.

    Every field read (the most confident page wins) is kept in `invoice.ocr_fields` with its
    confidence for display, applied or not. Line quantities and unit costs are filled on lines
    matched by ASIN or vendor SKU, in the line's own unit of measure.
    """
    _require_editable(invoice)
    read: dict[str, dict] = {}
    ocr_lines: list[dict] = []
    for photo in (invoice.photos if photos is None else photos):
        if photo.vendor_id != invoice.vendor_id or photo.ocr_state != "done":
            continue
        fields = (photo.ocr_result or {}).get("fields") or {}
        for name, entry in fields.items():
            if name == "lines":
                ocr_lines += [x for x in entry or [] if isinstance(x, dict)]
                continue
            value, confidence = _ocr_entry(entry)
            if value is not None and confidence >= read.get(name, {}).get("confidence", -1.0):
                read[name] = {"value": value, "confidence": confidence}
    entered = set(invoice.entered_fields or [])
    changed = []
    for name in OCR_FIELDS:
        if name in read and name not in entered:
            parsed = parse_field(name, str(read[name]["value"]))
            if not isinstance(parsed, Bad) and getattr(invoice, name) != parsed:
                setattr(invoice, name, parsed)
                changed.append(name)
    changed += _apply_ocr_lines(invoice, ocr_lines, entered)
    invoice.ocr_fields = read
    if changed:
        invoice.version += 1
        invoice.updated_at = utcnow()
    return read


def _ocr_entry(entry) -> tuple[object, float]:
    if isinstance(entry, dict):
        try:
            return entry.get("value"), float(entry.get("confidence") or 0)
        except (TypeError, ValueError):
            return entry.get("value"), 0.0
    return entry, 0.0


def _apply_ocr_lines(invoice: Invoice, ocr_lines: list[dict], entered: set) -> list[str]:
    changed = []
    for index, line in enumerate(invoice.lines):
        match = next((o for o in ocr_lines if _ocr_entry(o.get("asin"))[0] in (line.asin,)
                      or _ocr_entry(o.get("vendor_sku"))[0] in (line.vendor_sku,)), None)
        if match is None or not (line.asin or line.vendor_sku):
            continue
        for key, name in (("quantity", "quantity"), ("unit_cost", "unit_cost")):
            target = f"lines[{index}].{name}"
            value = _ocr_entry(match.get(key))[0]
            if value is None or target in entered:
                continue
            parsed = parse_line_value(name, str(value))
            if not isinstance(parsed, Bad):
                _set_line_value(line, name, parsed)
                changed.append(target)
    return changed


@dataclass(frozen=True)
class FieldError:
    """A form value that could not be read; the field keeps its previous value."""

    field: str
    code: str
    message: object


def _set_line_value(line: InvoiceLine, name: str, value) -> None:
    if name == "quantity":
        line.quantity = value
        line.quantity_eaches = eaches(value, line.unit_of_measure, line.unit_size)
    else:
        line.net_cost_amount = value


def update_invoice(invoice: Invoice, form: Mapping[str, str], *, user) -> list[FieldError]:
    """Apply the user's corrected form: header fields by name, lines as `lines[2].quantity`.

    Values that cannot be read are left unchanged and returned as errors (the view shows them
    with what was typed); the rest is applied and remembered as typed, so OCR will not
    overwrite it. Only fields present in `form` change.
    """
    _require(user, invoice.vendor_id)
    _require_editable(invoice)
    errors: list[FieldError] = []
    changed: list[str] = []
    for name in HEADER_FIELDS:
        if name not in form:
            continue
        value = parse_field(name, str(form[name]))
        if isinstance(value, Bad):
            errors.append(FieldError(name, value.code, value.message))
        elif getattr(invoice, name) != value:
            setattr(invoice, name, value)
            changed.append(name)
    for key in form:
        match = LINE_FIELD.match(key)
        if not match:
            continue
        index, name = int(match.group(1)), match.group(2)
        if index >= len(invoice.lines):
            errors.append(FieldError(key, "no_such_line", _l("There is no such line.")))
            continue
        value = parse_line_value(name, str(form[key]))
        if isinstance(value, Bad):
            errors.append(FieldError(key, value.code, value.message))
            continue
        line = invoice.lines[index]
        if (line.quantity if name == "quantity" else line.net_cost_amount) != value:
            _set_line_value(line, name, value)
            changed.append(key)
    if changed:
        invoice.entered_fields = sorted(set(invoice.entered_fields or []) | set(changed))
        invoice.version += 1
        invoice.updated_at = utcnow()
        _audit("invoice.update", invoice, user, {"fields": changed})
    return errors


def check_invoice(invoice: Invoice, *, now: datetime | None = None) -> list[Problem]:
    """Run the pre-flight check (raises the mismatch alert once per version; caller commits)."""
    return preflight(invoice, now=now)


def submit_invoice(invoice: Invoice, user, idempotency_key: str, *,
                   now: datetime | None = None) -> SubmitOutcome:
    """Check, then queue the invoice for Amazon in the caller's transaction; status "pending".

    Refused (nothing queued) while the pre-flight check finds problems. The same
    idempotency key (a replayed POST) returns the first submission instead of a second one.
    """
    _require(user, invoice.vendor_id)
    key = f"invoice:{invoice.id}:{idempotency_key}"[:128]
    if invoice.outbox_id is not None:
        sent = db.session.get(OutboxMessage, invoice.outbox_id)
        if sent is not None and sent.idempotency_key == key:
            return SubmitOutcome("queued", message=sent)
    _require_editable(invoice)
    problems = preflight(invoice, now=now)
    if problems:
        return SubmitOutcome("refused", problems=problems)
    body = build_invoice_body(invoice)
    # Conditional, so two taps with different keys cannot both send the invoice.
    claimed = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.version == invoice.version,
                              Invoice.status.in_((InvoiceStatus.DRAFT.value,
                                                  InvoiceStatus.FAILED.value)))
        .values(status=InvoiceStatus.PENDING.value)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise InvoiceError("not_editable", _l(
            "This invoice changed or was sent meanwhile; reload it and check again."))
    message = outbox.submit_to_amazon(invoice.vendor_id, "invoice", invoice.id, body,
                                      idempotency_key=key, created_by_id=user.id)
    if message.subject_id != invoice.id or message.state != OutboxState.PENDING.value:
        raise InvoiceError("key_reused", _l("This form was already used; reload it to send again."))
    invoice.status = InvoiceStatus.PENDING.value
    invoice.outbox_id = message.id
    invoice.submitted_by_id = user.id
    invoice.submitted_at = now or utcnow()
    invoice.completed_at = None
    invoice.errors = None
    _audit("invoice.submit", invoice, user, {"outbox_id": message.id,
                                             "invoice_number": invoice.invoice_number,
                                             "total": str(invoice.total_amount),
                                             "currency": invoice.currency})
    return SubmitOutcome("queued", message=message, to_send=[message.id])


def after_commit(outcome: SubmitOutcome | None) -> None:
    """Ask a worker to send what was queued; Redis being down only delays it to the sweep."""
    for message_id in (outcome.to_send if outcome else []):
        try:
            outbox.request_send(message_id)
        except Exception:  # noqa: BLE001 - the outbox sweep sends it within a minute
            log.warning("could not enqueue outbox message %s; the sweep will send it",
                        message_id, exc_info=True)


def status_of(invoice: Invoice) -> dict:
    """What the list and detail screens show: status, when, and Amazon's errors if failed."""
    return {"status": invoice.status, "submitted_at": invoice.submitted_at,
            "completed_at": invoice.completed_at, "errors": invoice.errors or [],
            "editable": invoice.editable}

