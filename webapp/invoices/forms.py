"""What the invoice form shows: each field with the value OCR read, its confidence, its problems."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from webapp.invoices.checks import cents
from webapp.invoices.models import Invoice, InvoicePhoto

# Below this an OCR value is highlighted for the user to check (rapidocr scores 0..1).
LOW_CONFIDENCE = 0.8

# (form name, label, input type); the names match Invoice columns and OCR field names.
HEADER_FIELDS = (
    ("invoice_number", _l("Invoice number"), "text"),
    ("invoice_date", _l("Invoice date"), "date"),
    ("currency", _l("Currency"), "text"),
    ("total_amount", _l("Total"), "decimal"),
    ("tax_amount", _l("Tax"), "decimal"),
    ("charges_amount", _l("Charges"), "decimal"),
    ("allowances_amount", _l("Allowances"), "decimal"),
    ("reference_invoice_number", _l("Corrected invoice number (credit notes only)"), "text"),
)
OCR_STATES_READING = frozenset({"queued", "running"})


@dataclass
class FieldView:
    """One header field of the form: value, OCR confidence and the problems next to it."""

    name: str
    label: str
    kind: str
    value: str
    confidence: float | None = None
    problems: list = field(default_factory=list)

    @property
    def low(self) -> bool:
        """Tell whether OCR read this field, but not surely enough to trust it unchecked."""
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE

    @property
    def percent(self) -> int | None:
        """The confidence as a whole percentage, for people."""
        return None if self.confidence is None else round(self.confidence * 100)


def ocr_fields(photos: Iterable[InvoicePhoto]) -> dict[str, dict]:
    """Merge the fields OCR read on every page: per field, the most confident reading."""
    best: dict[str, dict] = {}
    for photo in photos:
        fields = ((photo.ocr_result or {}).get("fields") or {}) if photo.ocr_state == "done" else {}
        for name, reading in fields.items():
            if not isinstance(reading, dict) or reading.get("value") in (None, ""):
                continue
            confidence = _confidence(reading.get("confidence"))
            if name not in best or (confidence or 0) > (best[name]["confidence"] or 0):
                best[name] = {"value": reading["value"], "confidence": confidence}
    return best


def _confidence(raw) -> float | None:
    try:
        return max(0.0, min(1.0, float(raw)))
    except (TypeError, ValueError):
        return None


def shown(value) -> str:
    """A saved value as the form shows it (dates ISO, money to the cent)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):  # 1234.5000 -> 1234.50; four decimals only when used
        return str(cents(value)) if value == cents(value) else format(value.normalize(), "f")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def problems_by_field(problems: Iterable) -> dict[str, list]:
    """Group pre-flight problems by the field they belong to ('' for the whole invoice)."""
    grouped: dict[str, list] = {}
    for problem in problems:
        grouped.setdefault(getattr(problem, "field", None) or "", []).append(problem)
    return grouped


def header_views(invoice: Invoice, ocr: dict[str, dict], problems: dict[str, list],
                 posted: dict | None = None) -> list[FieldView]:
    """The header fields: what the user typed, else what is saved; with OCR confidence."""
    entered = set(invoice.entered_fields or [])
    views = []
    for name, label, kind in HEADER_FIELDS:
        value = posted[name] if posted and name in posted else shown(getattr(invoice, name))
        reading = ocr.get(name) or {}
        # A field shows "read with x %" while it holds what OCR read; once the user typed
        # it, the value is theirs.
        confidence = _confidence(reading.get("confidence")) \
            if reading and name not in entered and (posted is None or name not in posted
                                                    or _same(value, shown(getattr(invoice, name))))\
            else None
        views.append(FieldView(name, str(label), kind, value, confidence,
                               problems.get(name, [])))
    return views


def _same(a, b) -> bool:
    return str(a or "").strip() == str(b or "").strip()


LINE_KEY = re.compile(r"^lines\[\d{1,4}\]\.(quantity|unit_cost)$")


def posted_fields(form) -> dict[str, str]:
    """The header and line fields of a posted invoice form, as the user typed them."""
    names = [name for name, _label, _kind in HEADER_FIELDS] + ["invoice_type"]
    data = {name: (form.get(name) or "").strip() for name in names if name in form}
    for key in form:
        if LINE_KEY.match(key):
            data[key] = (form.get(key) or "").strip()
    return data
