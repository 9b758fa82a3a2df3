"""Pre-flight check: every rule passes on a clean invoice and fails, in plain words, when broken."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask_babel import force_locale
from sqlalchemy import select

from tests.auth_helpers import make_vendor
from tests.invoices_helpers import accept, draft_setup
from tests.orders_helpers import add_po
from webapp.db_types import utcnow
from webapp.events.models import Event
from webapp.extensions import db
from webapp.invoices.checks import preflight
from webapp.invoices.models import Invoice, InvoiceLine


def codes(invoice, **kw) -> dict[str, str]:
    """{field: code} of the problems found."""
    return {p.field: p.code for p in preflight(invoice, **kw)}


def messages(invoice) -> dict[str, str]:
    return {p.field: str(p.message) for p in preflight(invoice)}


def test_a_draft_from_an_accepted_po_passes_every_rule(app):
    s = draft_setup()
    invoice = s.invoice
    assert preflight(invoice) == []
    # Prefilled from the acknowledgement: Amazon's units, the acknowledged cost, the sum.
    first, second = invoice.lines
    assert (first.quantity, first.unit_of_measure, first.unit_size) == (10, "Cases", 12)
    assert (second.quantity, second.unit_of_measure) == (5, "Eaches")
    assert first.net_cost_amount == Decimal("10.50") and invoice.currency == "USD"
    assert invoice.total_amount == Decimal("1279.95")  # 120 x 10.50 + 5 x 3.99


def test_po_must_exist_for_this_vendor(app):
    s = draft_setup()
    s.invoice.purchase_order = None
    assert codes(s.invoice)["purchase_order_number"] == "po_not_found"
    other = make_vendor("Other Co", timezone="UTC")
    s.invoice.purchase_order = add_po(other.id, "OTHERPO1", hours_ago=30)
    assert codes(s.invoice)["purchase_order_number"] == "po_not_found"


def test_invoice_number_present_and_unique_for_the_vendor(app):
    s = draft_setup()
    s.invoice.invoice_number = "  "
    assert codes(s.invoice)["invoice_number"] == "number_missing"
    s.invoice.invoice_number = "INV-100"
    twin = Invoice(vendor_id=s.vendor.id, invoice_number="inv-100", currency="USD",
                   status="draft")
    db.session.add(twin)
    db.session.flush()
    assert codes(s.invoice)["invoice_number"] == "number_duplicate"
    twin.status = "accepted"  # already sent to Amazon: never reusable
    assert codes(s.invoice)["invoice_number"] == "number_already_submitted"
    assert "INV-100" in messages(s.invoice)["invoice_number"]
    twin.status = "failed"  # Amazon refused it: the number is free again
    assert "invoice_number" not in codes(s.invoice)
    # Another vendor's invoice with the same number is no concern of ours.
    twin.status, twin.vendor_id = "accepted", make_vendor("Other Co", timezone="UTC").id
    assert preflight(s.invoice) == []


def test_currency_code_and_line_currencies_agree(app):
    s = draft_setup()
    s.invoice.currency = "usd"
    assert codes(s.invoice)["currency"] == "currency_invalid"
    s.invoice.currency = "USD"
    s.invoice.lines[1].net_cost_currency = "EUR"
    found = codes(s.invoice)
    assert found["lines[1].unit_cost"] in ("currency_mismatch", "unit_cost_mismatch")
    assert {p.code for p in preflight(s.invoice)} >= {"currency_mismatch", "unit_cost_mismatch"}


def test_invoice_date_not_missing_not_future_not_before_the_po(app):
    s = draft_setup()
    s.invoice.invoice_date = None
    assert codes(s.invoice)["invoice_date"] == "date_missing"
    today = utcnow().date()
    s.invoice.invoice_date = today + timedelta(days=1)
    assert codes(s.invoice)["invoice_date"] == "date_in_future"
    s.invoice.invoice_date = s.po.ordered_at.date() - timedelta(days=1)
    assert codes(s.invoice)["invoice_date"] == "date_before_po"
    assert s.po.po_number in messages(s.invoice)["invoice_date"]
    s.invoice.invoice_date = s.po.ordered_at.date()
    assert "invoice_date" not in codes(s.invoice)


def test_future_is_judged_in_the_vendors_time_zone(app):
    s = draft_setup()
    s.vendor.timezone = "Asia/Shanghai"  # UTC+8
    late_evening_utc = utcnow().replace(hour=20, minute=0)
    s.invoice.invoice_date = late_evening_utc.date() + timedelta(days=1)
    # 20:00 UTC is already tomorrow in Shanghai.
    assert "invoice_date" not in codes(s.invoice, now=late_evening_utc)
    s.vendor.timezone = "UTC"
    assert codes(s.invoice, now=late_evening_utc)["invoice_date"] == "date_in_future"


def test_quantity_not_above_what_amazon_accepted(app):
    s = draft_setup()
    s.invoice.lines[0].quantity = 11  # cases of 12: 132 units, 120 accepted
    s.invoice.total_amount = Decimal("1405.95")
    assert codes(s.invoice) == {"lines[0].quantity": "quantity_above_accepted"}
    assert messages(s.invoice)["lines[0].quantity"] == \
        "Line 1 invoices 132 units; Amazon accepted 120."


def test_partial_acceptance_and_amazons_own_status_win(app):
    s = draft_setup(acknowledge=False)
    accept(s.po, {"1": 6, "2": 5})  # a newer answer: 6 of the 10 cases
    s.invoice.total_amount = Decimal("1279.95")
    assert codes(s.invoice)["lines[0].quantity"] == "quantity_above_accepted"
    s.invoice.lines[0].quantity = 6
    s.invoice.total_amount = Decimal("775.95")  # 72 x 10.50 + 19.95
    assert preflight(s.invoice) == []
    # The status sync reports what Amazon really accepted: 60 units.
    s.po.lines[0].accepted_eaches = 60
    assert messages(s.invoice)["lines[0].quantity"] == \
        "Line 1 invoices 72 units; Amazon accepted 60."


def test_units_invoiced_before_count_against_the_accepted_quantity(app):
    s = draft_setup()
    earlier = Invoice(vendor_id=s.vendor.id, purchase_order=s.po, invoice_number="INV-99",
                      currency="USD", status="accepted")
    earlier.lines.append(InvoiceLine(purchase_order_line=s.po.lines[1], item_sequence_number="2",
                                     quantity=2, unit_of_measure="Eaches", unit_size=1,
                                     net_cost_amount=Decimal("3.99"), net_cost_currency="USD"))
    db.session.add(earlier)
    db.session.flush()
    found = preflight(s.invoice)
    assert [(p.field, p.code) for p in found] == [("lines[1].quantity", "quantity_above_accepted")]
    assert str(found[0].message) == \
        "Line 2 invoices 5 units after 2 already invoiced; Amazon accepted 5."
    earlier.status = "failed"  # a refused invoice invoiced nothing
    assert preflight(s.invoice) == []


def test_no_accepted_acknowledgement_means_nothing_to_invoice(app):
    s = draft_setup(acknowledge=False)
    assert {p.code for p in preflight(s.invoice)} == {"not_acknowledged"}
    accept(s.po, state="pending")  # sent but not confirmed by Amazon yet
    assert {p.code for p in preflight(s.invoice)} == {"not_acknowledged"}
    accept(s.po)
    assert preflight(s.invoice) == []


def test_quantity_not_above_received_once_amazon_reports_receipts(app):
    s = draft_setup()
    s.po.lines[0].received_eaches = None  # nothing reported: only the accepted limit applies
    assert preflight(s.invoice) == []
    s.po.lines[0].received_eaches = 0  # shipped, not received yet: invoicing is allowed
    assert preflight(s.invoice) == []
    s.po.lines[0].received_eaches = 100
    assert codes(s.invoice) == {"lines[0].quantity": "quantity_above_received"}
    assert messages(s.invoice)["lines[0].quantity"] == \
        "Line 1 invoices 120 units; Amazon received 100."
    s.po.lines[0].received_eaches = 120
    assert preflight(s.invoice) == []


def test_unit_cost_equals_the_acknowledged_net_cost(app):
    s = draft_setup()
    s.invoice.lines[0].net_cost_amount = Decimal("10.5")  # same number, other scale
    assert preflight(s.invoice) == []
    s.invoice.lines[0].net_cost_amount = Decimal("10.51")
    s.invoice.total_amount = Decimal("1281.15")
    assert codes(s.invoice) == {"lines[0].unit_cost": "unit_cost_mismatch"}
    assert messages(s.invoice)["lines[0].unit_cost"] == \
        "Line 1 costs 10.51 USD; the acknowledged net cost is 10.50 USD."


def test_the_acknowledged_cost_not_the_ordered_one_is_the_reference(app):
    s = draft_setup(acknowledge=False)
    accept(s.po, costs={"1": Decimal("10.25")})
    assert codes(s.invoice)["lines[0].unit_cost"] == "unit_cost_mismatch"
    s.invoice.lines[0].net_cost_amount = Decimal("10.25")
    s.invoice.total_amount = Decimal("1249.95")
    assert preflight(s.invoice) == []


def test_totals_add_up_to_the_cent(app):
    s = draft_setup()
    s.invoice.tax_amount = Decimal("100.00")
    s.invoice.charges_amount = Decimal("25.50")
    s.invoice.allowances_amount = Decimal("5.45")
    s.invoice.total_amount = Decimal("1400.00")  # 1279.95 + 100 + 25.50 - 5.45
    assert preflight(s.invoice) == []
    s.invoice.total_amount = Decimal("1400.01")
    assert codes(s.invoice) == {"total_amount": "total_mismatch"}
    assert messages(s.invoice)["total_amount"] == (
        "Lines 1279.95 + tax 100.00 + charges 25.50 - allowances 5.45 = 1400.00 USD, "
        "but the total says 1400.01.")
    s.invoice.total_amount = None
    assert codes(s.invoice) == {"total_amount": "total_missing"}
    s.invoice.total_amount, s.invoice.tax_amount = Decimal("1179.95"), Decimal("-100")
    assert codes(s.invoice) == {"tax_amount": "amount_negative"}


def test_lines_keep_amazons_unit_of_measure_and_unit_size(app):
    s = draft_setup()
    line = s.invoice.lines[0]
    line.unit_of_measure, line.unit_size, line.quantity = "Eaches", 1, 120  # same units
    assert codes(s.invoice) == {"lines[0].quantity": "unit_mismatch"}
    line.unit_of_measure, line.unit_size, line.quantity = "Cases", 6, 20
    assert codes(s.invoice) == {"lines[0].quantity": "unit_mismatch"}
    assert messages(s.invoice)["lines[0].quantity"] == \
        "Line 1 is invoiced in Cases of 6; Amazon ordered Cases of 12."


def test_lines_belong_to_the_po_and_have_sane_values(app):
    s = draft_setup()
    other = add_po(s.vendor.id, "SECONDPO", hours_ago=30)
    s.invoice.lines[1].purchase_order_line = other.lines[1]
    assert codes(s.invoice) == {"lines[1].quantity": "line_not_on_po"}
    s.invoice.lines[1].purchase_order_line = s.po.lines[1]
    s.invoice.lines[1].quantity = -1
    assert codes(s.invoice)["lines[1].quantity"] == "quantity_invalid"
    s.invoice.lines[1].quantity = 5
    s.invoice.lines[1].net_cost_amount = Decimal(0)
    assert codes(s.invoice)["lines[1].unit_cost"] == "unit_cost_invalid"
    for line in s.invoice.lines:
        line.quantity = 0
    assert codes(s.invoice)["lines"] == "no_lines"


def test_a_credit_note_names_the_invoice_it_corrects(app):
    s = draft_setup()
    s.invoice.invoice_type = "CreditNote"
    assert codes(s.invoice) == {"reference_invoice_number": "reference_missing"}
    s.invoice.reference_invoice_number = "INV-7"
    assert preflight(s.invoice) == []
    s.invoice.invoice_type = "Debit"
    assert codes(s.invoice) == {"invoice_type": "type_invalid"}


def test_a_mismatch_raises_one_alert_per_invoice_version(app):
    s = draft_setup()

    def alerts():
        return db.session.scalars(select(Event).where(Event.kind == "invoice.mismatch")).all()

    s.invoice.invoice_number = None
    preflight(s.invoice)
    assert alerts() == []  # an unfinished form is no mismatch with the PO
    s.invoice.invoice_number = "INV-100"
    s.invoice.lines[0].net_cost_amount = Decimal("11")
    preflight(s.invoice)
    preflight(s.invoice)
    db.session.commit()
    [event] = alerts()
    assert event.purchase_order_id == s.po.id
    assert event.payload["invoice_id"] == s.invoice.id
    assert event.payload["problems"][0] == {"field": "lines[0].unit_cost",
                                           "code": "unit_cost_mismatch"}
    s.invoice.version += 1
    preflight(s.invoice)
    preflight(s.invoice, raise_events=False)
    db.session.commit()
    assert len(alerts()) == 2


def test_messages_are_translated(app):
    s = draft_setup()
    s.invoice.lines[0].quantity = 11
    s.invoice.total_amount = Decimal("1405.95")
    [problem] = preflight(s.invoice)
    with force_locale("zh_Hans"):
        chinese = str(problem.message)
    assert chinese != "Line 1 invoices 132 units; Amazon accepted 120."
    assert "132" in chinese and "120" in chinese
