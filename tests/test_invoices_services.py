"""Invoice services: OCR prefill never overrides what the user typed; bad input loses nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.invoices_helpers import accept, draft_setup
from webapp.extensions import db
from webapp.invoices import services
from webapp.invoices.models import InvoicePhoto


def photo(vendor_id: int, fields: dict, *, state: str = "done", n: int = 1) -> InvoicePhoto:
    """A stored page whose OCR produced `fields`."""
    page = InvoicePhoto(vendor_id=vendor_id, page_number=n, storage_key=f"k{n}-{id(fields)}",
                        content_type="image/jpeg", size_bytes=10, sha256="0" * 64,
                        ocr_state=state, ocr_result={"fields": fields})
    db.session.add(page)
    db.session.flush()
    return page


def test_ocr_fills_header_fields_and_keeps_confidences(app):
    s = draft_setup()
    s.invoice.invoice_number = None
    page = photo(s.vendor.id, {
        "invoice_number": {"value": "INV-77", "confidence": 0.97},
        "invoice_date": {"value": "2026-11-20", "confidence": 0.91},
        "currency": {"value": "usd", "confidence": 0.8},
        "total_amount": {"value": "1,279.95", "confidence": 0.88},
        "tax_amount": {"value": "$0.00", "confidence": 0.5},
        "purchase_order_number": {"value": "2JK3S9VC", "confidence": 0.99},
    })
    services.attach_photos(s.invoice, [page], user=s.user)
    version = s.invoice.version
    read = services.apply_ocr(s.invoice)
    assert s.invoice.invoice_number == "INV-77"
    assert s.invoice.invoice_date == date(2026, 11, 20)
    assert s.invoice.currency == "USD"
    assert s.invoice.total_amount == Decimal("1279.95")
    assert s.invoice.tax_amount == Decimal("0.00")
    assert s.invoice.ocr_fields["invoice_number"] == {"value": "INV-77", "confidence": 0.97}
    assert read["purchase_order_number"]["value"] == "2JK3S9VC"  # shown, not applied
    assert s.invoice.version == version + 1
    assert page.invoice_id == s.invoice.id


def test_ocr_never_overwrites_a_typed_value_and_the_surest_page_wins(app):
    s = draft_setup()
    assert services.update_invoice(s.invoice, {"invoice_number": "MY-1"}, user=s.user) == []
    pages = [photo(s.vendor.id, {"invoice_number": {"value": "OCR-1", "confidence": 0.9},
                                 "total_amount": {"value": "10.00", "confidence": 0.4}}, n=1),
             photo(s.vendor.id, {"total_amount": {"value": "1279.95", "confidence": 0.95}}, n=2),
             photo(s.vendor.id, {"total_amount": {"value": "5.00", "confidence": 1.0}},
                   state="running", n=3)]
    services.apply_ocr(s.invoice, pages)
    assert s.invoice.invoice_number == "MY-1"
    assert s.invoice.total_amount == Decimal("1279.95")  # page 3 is not read yet


def test_ocr_lines_fill_matching_lines_unless_typed(app):
    s = draft_setup()
    services.update_invoice(s.invoice, {"lines[1].quantity": "4"}, user=s.user)
    page = photo(s.vendor.id, {"lines": [
        {"asin": "B07DFVDRAB", "quantity": {"value": "8", "confidence": 0.9},
         "unit_cost": {"value": "10.50", "confidence": 0.9}},
        {"asin": "B07DFYF5CM", "quantity": "3", "unit_cost": "3.99"},
        {"asin": "B0NOTONPO1", "quantity": "99"},
    ]})
    services.apply_ocr(s.invoice, [page])
    first, second = s.invoice.lines
    assert (first.quantity, first.quantity_eaches) == (8, 96)
    assert second.quantity == 4  # typed by the user


def test_bad_input_is_reported_per_field_and_the_rest_is_kept(app):
    s = draft_setup()
    errors = services.update_invoice(s.invoice, {
        "invoice_number": "INV-5", "total_amount": "12,O0", "invoice_date": "yesterday",
        "currency": "dollars", "tax_amount": "NaN", "lines[0].quantity": "2.5",
        "lines[1].unit_cost": "3.980", "lines[9].quantity": "1", "tax_type": "Bribe",
    }, user=s.user)
    assert {e.field: e.code for e in errors} == {
        "total_amount": "not_a_number", "invoice_date": "not_a_date",
        "currency": "not_a_currency", "tax_amount": "not_a_number",
        "lines[0].quantity": "not_a_quantity", "lines[9].quantity": "no_such_line",
        "tax_type": "choice_invalid"}
    assert s.invoice.invoice_number == "INV-5"
    assert s.invoice.total_amount == Decimal("1279.95")  # unchanged, not lost
    assert s.invoice.lines[0].quantity == 10
    assert s.invoice.lines[1].net_cost_amount == Decimal("3.98")
    assert set(s.invoice.entered_fields) == {"invoice_number", "lines[1].unit_cost"}
    assert all(str(e.message) for e in errors)


def test_empty_amounts_clear_and_money_stays_decimal(app):
    s = draft_setup()
    services.update_invoice(s.invoice, {"tax_amount": "7.125", "charges_amount": ""},
                            user=s.user)
    assert s.invoice.tax_amount == Decimal("7.125") and s.invoice.charges_amount is None
    errors = services.update_invoice(s.invoice, {"tax_amount": "1e300"}, user=s.user)
    assert [e.code for e in errors] == ["not_a_number"]


def test_draft_skips_rejected_lines_and_uses_amazons_units(app):
    s = draft_setup(acknowledge=False)
    accept(s.po, {"1": 4, "2": 0})
    invoice = services.create_invoice_from_po(s.po, user=s.user)
    [line] = invoice.lines
    assert (line.quantity, line.unit_of_measure, line.unit_size, line.quantity_eaches) == \
        (4, "Cases", 12, 48)
    assert invoice.total_amount == Decimal("504.00")
    assert invoice.invoice_number is None and invoice.status == "draft"


def test_photos_of_another_vendor_cannot_be_attached(app):
    from tests.auth_helpers import make_vendor

    s = draft_setup()
    foreign = photo(make_vendor("Other Co").id, {})
    with pytest.raises(services.InvoiceError) as error:
        services.attach_photos(s.invoice, [foreign], user=s.user)
    assert error.value.code == "not_found"
