"""Payments finance records on accepted invoices: partial, full, refused, undone; roles, tenancy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.auth_helpers import make_user, make_vendor, post, sign_in
from tests.invoices_helpers import draft_setup
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.invoices import payments
from webapp.invoices.checks import vendor_today
from webapp.invoices.models import Invoice, InvoicePayment


def accepted(total: str = "100.30", role: str = "finance", **kw):
    """A setup whose invoice Amazon accepted, for `total` USD."""
    s = draft_setup(role, **kw)
    s.invoice.status, s.invoice.total_amount, s.invoice.currency = "accepted", Decimal(total), "USD"
    db.session.commit()
    return s


def pay(client, invoice_id: int, amount: str, *, paid_on=None, reference: str = "",
        token_from: str | None = None):
    data = {"amount": amount, "paid_on": str(paid_on or vendor_today(
        db.session.get(Invoice, invoice_id).vendor_id)), "reference": reference}
    return post(client, f"/invoices/{invoice_id}/payments", data,
                token_from=token_from or f"/invoices/{invoice_id}")


def listed(client, status: str) -> str:
    return client.get(f"/invoices/?status={status}").get_data(as_text=True)


def test_partial_then_full_payment_shows_partly_paid_then_paid(app, client):
    s = accepted()
    sign_in(client, user=s.user)
    r = pay(client, s.invoice.id, "40.10", reference="RA-2026-118")
    assert r.status_code == 302 and r.location.endswith(f"/invoices/{s.invoice.id}#payments")
    db.session.expire_all()
    invoice = db.session.get(Invoice, s.invoice.id)
    assert invoice.payment_state == "partly_paid" and invoice.shown_status == "partly_paid"
    [row] = invoice.payments
    assert (row.amount, row.currency, row.reference, row.paid_on) == (
        Decimal("40.10"), "USD", "RA-2026-118", vendor_today(s.vendor.id))
    page = client.get(f"/invoices/{s.invoice.id}").get_data(as_text=True)
    assert 'data-invoice-status="partly_paid"' in page and "RA-2026-118" in page
    assert 'data-outstanding="60.2000"' in page or 'data-outstanding="60.20' in page
    assert f'data-invoice="{s.invoice.id}"' in listed(client, "partly_paid")
    assert f'data-invoice="{s.invoice.id}"' not in listed(client, "paid")

    assert pay(client, s.invoice.id, "60.20").status_code == 302
    db.session.expire_all()
    invoice = db.session.get(Invoice, s.invoice.id)
    assert invoice.payment_state == "paid"
    assert payments.paid_amount(invoice) == invoice.total_amount == Decimal("100.30")
    assert f'data-invoice="{s.invoice.id}"' in listed(client, "paid")
    assert f'data-invoice="{s.invoice.id}"' not in listed(client, "partly_paid")
    page = client.get(f"/invoices/{s.invoice.id}").get_data(as_text=True)
    assert 'data-invoice-status="paid"' in page and "data-payment-form" not in page
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "invoice", AuditEntry.target_id == str(s.invoice.id))).all()
    assert actions.count("invoice.payment.record") == 2


def test_decimal_sums_are_exact_where_floats_are_not(app, client):
    assert 0.1 + 0.2 > 0.3  # what a float sum would make of it
    s = accepted("0.30")
    sign_in(client, user=s.user)
    assert pay(client, s.invoice.id, "0.10").status_code == 302
    assert pay(client, s.invoice.id, "0.20").status_code == 302
    db.session.expire_all()
    invoice = db.session.get(Invoice, s.invoice.id)
    assert invoice.payment_state == "paid"
    assert [p.amount for p in invoice.payments] == [Decimal("0.10"), Decimal("0.20")]
    assert all(isinstance(p.amount, Decimal) for p in invoice.payments)
    big = accepted("9876543210.9999", vendor_name="Big Ticket Co", number="INV-9")
    other = app.test_client()
    sign_in(other, user=big.user)
    assert pay(other, big.invoice.id, "9876543210.9998").status_code == 302
    r = pay(other, big.invoice.id, "0.0002")
    assert r.status_code == 422, "a ten-thousandth too much must be refused"
    assert pay(other, big.invoice.id, "0.0001").status_code == 302
    db.session.expire_all()
    assert db.session.get(Invoice, big.invoice.id).payment_state == "paid"


def test_over_payment_is_refused_with_a_clear_message_and_nothing_recorded(app, client):
    s = accepted()
    sign_in(client, user=s.user)
    assert pay(client, s.invoice.id, "40.10").status_code == 302
    r = pay(client, s.invoice.id, "60.21", reference="RA-9")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert ("60.21 USD is more than is still owed: 60.20 USD of 100.30 USD. Nothing was "
            "recorded.") in page
    assert 'data-payment-error="overpaid"' in page and 'value="60.21"' in page
    assert 'value="RA-9"' in page  # what was typed is kept
    assert db.session.scalars(select(InvoicePayment.amount)).all() == [Decimal("40.10")]


@pytest.mark.parametrize(("amount", "paid_on", "code"), [
    ("abc", None, "not_a_number"), ("-5", None, "amount_not_positive"),
    ("0", None, "amount_not_positive"), ("", None, "amount_required"),
    ("5", "yesterday", "not_a_date"), ("5", "future", "paid_in_future"),
])
def test_bad_payment_input_is_refused_next_to_its_field(app, client, amount, paid_on, code):
    s = accepted()
    sign_in(client, user=s.user)
    today = vendor_today(s.vendor.id)
    day = {"future": today + timedelta(days=1), "yesterday": "yesterday"}.get(paid_on, today)
    r = pay(client, s.invoice.id, amount, paid_on=day)
    assert r.status_code == 422 and f'data-payment-error="{code}"' in r.get_data(as_text=True)
    assert db.session.scalars(select(InvoicePayment)).all() == []


@pytest.mark.parametrize("status", ["draft", "pending", "failed"])
def test_only_accepted_invoices_take_payments(app, client, status):
    s = accepted()
    s.invoice.status = status
    db.session.commit()
    sign_in(client, user=s.user)
    r = pay(client, s.invoice.id, "10")
    assert r.status_code == 422
    assert "Payments can be recorded only once Amazon has accepted the invoice." in \
        r.get_data(as_text=True)
    assert db.session.scalars(select(InvoicePayment)).all() == []


def test_credit_notes_take_no_payments(app, client):
    s = accepted()
    s.invoice.invoice_type = "CreditNote"
    db.session.commit()
    sign_in(client, user=s.user)
    r = pay(client, s.invoice.id, "10")
    assert r.status_code == 422 and "not on credit notes" in r.get_data(as_text=True)


def test_finance_undoes_a_payment_and_the_audit_log_keeps_it(app, client):
    s = accepted()
    sign_in(client, user=s.user)
    pay(client, s.invoice.id, "100.30", reference="WRONG-INV")
    [payment] = db.session.scalars(select(InvoicePayment)).all()
    r = post(client, f"/invoices/{s.invoice.id}/payments/{payment.id}/delete",
             token_from=f"/invoices/{s.invoice.id}")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(InvoicePayment)).all() == []
    invoice = db.session.get(Invoice, s.invoice.id)
    assert invoice.payment_state is None and invoice.shown_status == "accepted"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "invoice.payment.delete")).one()
    assert entry.actor_user_id == s.user.id and entry.vendor_id == s.vendor.id
    assert entry.details["amount"] in ("100.30", "100.3000")
    assert entry.details["reference"] == "WRONG-INV" and entry.details["payment_state"] == "unpaid"


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_managers_and_viewers_cannot_record_or_undo_payments(app, client, role):
    s = accepted()
    payment = payments.record_payment(s.invoice, s.user, payments.PaymentInput(
        Decimal("10"), vendor_today(s.vendor.id), "RA-SECRET"))
    db.session.commit()
    other, _ = make_user(s.vendor, role=role)
    sign_in(client, user=other)
    assert pay(client, s.invoice.id, "5").status_code == 403
    r = post(client, f"/invoices/{s.invoice.id}/payments/{payment.id}/delete",
             token_from=f"/invoices/{s.invoice.id}")
    assert r.status_code == 403
    page = client.get(f"/invoices/{s.invoice.id}").get_data(as_text=True)
    # They see that it is partly paid, not the remittance details nor the forms.
    assert 'data-invoice-status="partly_paid"' in page
    assert "RA-SECRET" not in page and "data-payment-form" not in page
    assert db.session.scalars(select(InvoicePayment.id)).all() == [payment.id]


def test_admin_may_record_and_another_vendor_gets_404(app, client):
    s = accepted()
    admin, _ = make_user(s.vendor, role="admin")
    sign_in(client, user=admin)
    assert pay(client, s.invoice.id, "1.30").status_code == 302
    [payment] = db.session.scalars(select(InvoicePayment)).all()

    stranger = app.test_client()
    sign_in(stranger, role="finance", vendor=make_vendor("Other Vendor Ltd", timezone="UTC"))
    assert pay(stranger, s.invoice.id, "5", token_from="/invoices/").status_code == 404
    r = post(stranger, f"/invoices/{s.invoice.id}/payments/{payment.id}/delete",
             token_from="/invoices/")
    assert r.status_code == 404
    # A payment id of another invoice, under an invoice one may see, is as unknown.
    mine = accepted(vendor_name="Stranger Goods", number="INV-7")
    own = app.test_client()
    sign_in(own, user=mine.user)
    r = post(own, f"/invoices/{mine.invoice.id}/payments/{payment.id}/delete",
             token_from="/invoices/")
    assert r.status_code == 404
    assert db.session.scalars(select(InvoicePayment.id)).all() == [payment.id]


def test_paid_date_is_the_vendors_day(app):
    s = accepted()
    s.vendor.timezone = "Pacific/Kiritimati"  # UTC+14: often already tomorrow there
    db.session.commit()
    today_there = vendor_today(s.vendor.id)
    payments.record_payment(s.invoice, s.user, payments.PaymentInput(Decimal("1"), today_there,
                                                                     None))
    with pytest.raises(payments.PaymentRefused) as exc:
        payments.record_payment(s.invoice, s.user, payments.PaymentInput(
            Decimal("1"), today_there + timedelta(days=1), None))
    assert exc.value.code == "paid_in_future"
