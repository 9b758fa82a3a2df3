"""Read form and OCR values safely: money as Decimal, dates, codes; a bad value is `Bad`."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

HEADER_FIELDS = ("invoice_number", "invoice_date", "currency", "total_amount", "tax_amount",
                 "charges_amount", "allowances_amount", "tax_type", "charge_type",
                 "allowance_type", "reference_invoice_number", "invoice_type")
MONEY_FIELDS = ("total_amount", "tax_amount", "charges_amount", "allowances_amount")
# Header fields OCR may fill (the OCR result's names are the same).
OCR_FIELDS = ("invoice_number", "invoice_date", "currency", "total_amount", "tax_amount")
TAX_TYPES = ("CGST", "SGST", "CESS", "UTGST", "IGST", "MwSt.", "PST", "TVA", "VAT", "GST", "ST",
             "Consumption", "MutuallyDefined", "DomesticVAT")
CHARGE_TYPES = ("Freight", "Packing", "Duty", "Service", "SmallOrder", "InsurancePlacementCost",
                "InsuranceFee", "SpecialHandlingService", "CollectionAndRecyclingService",
                "EnvironmentalProtectionService", "TaxCollectedAtSource")
ALLOWANCE_TYPES = ("Discount", "DiscountIncentive", "Defective", "Promotional",
                   "UnsaleableMerchandise", "Special")
LINE_FIELD = re.compile(r"^lines\[(\d{1,4})\]\.(quantity|unit_cost)$")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%Y年%m月%d日")


class Bad:
    """A value that could not be read: why (code) and a message for people."""

    def __init__(self, code: str, message) -> None:
        self.code, self.message = code, message


def money(raw: str):
    """An amount as printed or typed ('1,279.95', '$12', 'USD 12') as Decimal; '' is None."""
    if not raw.strip():
        return None
    # A leading currency code or sign as printed (USD 12.00, US$12, ¥12), then the number.
    text = re.sub(r"^(?:[A-Za-z]{2,3})?\s*[$¥€£￥]?", "", raw.strip())
    text = text.replace(",", "").replace(" ", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return Bad("not_a_number", _l("%(value)s is not an amount.", value=raw[:40]))
    if not value.is_finite() or abs(value) >= Decimal("1e14") or value.as_tuple().exponent < -4:
        return Bad("not_a_number", _l("%(value)s is not an amount.", value=raw[:40]))
    return value


def parse_field(name: str, raw: str):
    """A header field's value, or Bad."""
    raw = raw.strip()
    if name in MONEY_FIELDS:
        return money(raw)
    if name == "invoice_date":
        if not raw:
            return None
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(raw[:10] if fmt == "%Y-%m-%d" else raw, fmt).date()
            except ValueError:
                continue
        return Bad("not_a_date", _l("%(value)s is not a date (YYYY-MM-DD).", value=raw[:40]))
    if name == "currency":
        if not re.fullmatch(r"[A-Za-z]{3}", raw):
            return Bad("not_a_currency", _l("Use a three-letter currency code such as USD."))
        return raw.upper()
    if name == "invoice_type":
        if raw not in ("Invoice", "CreditNote"):
            return Bad("type_invalid", _l("Choose Invoice or Credit note."))
        return raw
    choices = {"tax_type": TAX_TYPES, "charge_type": CHARGE_TYPES,
               "allowance_type": ALLOWANCE_TYPES}.get(name)
    if choices is not None:
        if raw and raw not in choices:
            return Bad("choice_invalid", _l("Choose one of the listed types."))
        return raw or None
    if len(raw) > 64 or any(ord(c) < 32 for c in raw):
        return Bad("too_long", _l("At most 64 characters, without line breaks."))
    return raw or None


def parse_line_value(name: str, raw: str):
    """A line's quantity (whole units) or unit cost (Decimal), or Bad."""
    if name == "unit_cost":
        value = money(raw)
        return Bad("required", _l("Enter the unit cost.")) if value is None else value
    text = raw.strip().replace(",", "")
    if not re.fullmatch(r"\d{1,9}", text):
        return Bad("not_a_quantity", _l("%(value)s is not a whole number of units.",
                                         value=raw[:40]))
    return int(text)
