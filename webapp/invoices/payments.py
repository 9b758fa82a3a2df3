"""Payments of accepted invoices, recorded by finance: Amazon's vendor APIs report no remittance.

Partial payments add up; an invoice is "paid" once its payments cover its total and can never
be paid beyond it. Every record and every undo is audited. Sums are Decimal, in the invoice's
currency; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from webapp.audit.services import record
from webapp.extensions import db
from webapp.invoices.checks import vendor_today
from webapp.invoices.models import Invoice, InvoicePayment, InvoiceStatus, PaymentState
from webapp.invoices.values import Bad, money

REFERENCE_MAX = 64


class PaymentRefused(Exception):
    """A payment that cannot be recorded: a code and a message for people, next to `field`."""

    def __init__(self, code: str, message, field: str | None = None) -> None:
        super().__init__(str(message))
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class PaymentInput:
    """A payment as typed: amount in the invoice's currency, the day paid, a reference."""

    amount: Decimal
    paid_on: date
    reference: str | None


@dataclass(frozen=True)
class PaymentSummary:
    """What an accepted invoice's payments add up to."""

    total: Decimal | None
    paid: Decimal
    outstanding: Decimal | None
    state: str


def read_payment_form(form) -> PaymentInput:
    """Read the posted amount, date (YYYY-MM-DD) and reference; PaymentRefused if unreadable."""
    raw_amount = (form.get("amount") or "").strip()
    amount = money(raw_amount)
    if isinstance(amount, Bad):
        raise PaymentRefused(amount.code, amount.message, "amount")
    if amount is None:
        raise PaymentRefused("amount_required", _l("Enter the amount paid."), "amount")
    raw_date = (form.get("paid_on") or "").strip()
    try:
        paid_on = datetime.strptime(raw_date, "%Y-%m-%d").date()
    except ValueError:
        raise PaymentRefused("not_a_date", _l("Enter the day the payment arrived (YYYY-MM-DD)."),
                             "paid_on") from None
    reference = (form.get("reference") or "").strip()
    if len(reference) > REFERENCE_MAX or re.search(r"[\x00-\x1f\x7f]", reference):
        raise PaymentRefused("reference_invalid",
                             _l("At most 64 characters, without line breaks."), "reference")
    return PaymentInput(amount, paid_on, reference or None)


def blank_form(invoice: Invoice) -> dict:
    """The payment form's starting values: paid today, where the vendor works."""
    return {"paid_on": vendor_today(invoice.vendor_id).isoformat(), "amount": "",
            "reference": ""}


def paid_amount(invoice: Invoice) -> Decimal:
    """The sum of the invoice's recorded payments (exact)."""
    return sum((p.amount for p in invoice.payments), Decimal(0))


def summary(invoice: Invoice) -> PaymentSummary:
    """Total, paid, outstanding and state of an invoice's payments."""
    paid = paid_amount(invoice)
    total = invoice.total_amount
    return PaymentSummary(total, paid, None if total is None else total - paid,
                          invoice.payment_state or PaymentState.UNPAID.value)


def can_take_payments(invoice: Invoice) -> bool:
    """Payments are recorded on invoices (not credit notes) Amazon accepted, with a total."""
    return (invoice.status == InvoiceStatus.ACCEPTED.value and invoice.invoice_type == "Invoice"
            and invoice.total_amount is not None and invoice.total_amount > 0)


def record_payment(invoice: Invoice, user, payment: PaymentInput) -> InvoicePayment:
    """Record money received for `invoice`; refuse what it cannot be (not accepted, too much)."""
    if invoice.status != InvoiceStatus.ACCEPTED.value:
        raise PaymentRefused("not_accepted", _l("Payments can be recorded only once Amazon has "
                                                "accepted the invoice."))
    if not can_take_payments(invoice):
        raise PaymentRefused("not_payable", _l("Payments are recorded on invoices with a total, "
                                               "not on credit notes."))
    if payment.amount <= 0:
        raise PaymentRefused("amount_not_positive", _l("The amount must be more than zero."),
                             "amount")
    if payment.paid_on > vendor_today(invoice.vendor_id):
        raise PaymentRefused("paid_in_future", _l("The payment date cannot be in the future."),
                             "paid_on")
    _lock(invoice)
    outstanding = invoice.total_amount - paid_amount(invoice)
    if payment.amount > outstanding:
        currency = invoice.currency
        raise PaymentRefused("overpaid", _l(
            "%(amount)s %(currency)s is more than is still owed: %(outstanding)s %(currency)s of "
            "%(total)s %(currency)s. Nothing was recorded.", amount=_shown(payment.amount),
            outstanding=_shown(outstanding), total=_shown(invoice.total_amount),
            currency=currency), "amount")
    row = InvoicePayment(vendor_id=invoice.vendor_id, invoice_id=invoice.id,
                         paid_on=payment.paid_on, amount=payment.amount,
                         currency=invoice.currency, reference=payment.reference,
                         recorded_by_id=user.id)
    invoice.payments.append(row)
    db.session.flush()
    _update_state(invoice)
    _audit("invoice.payment.record", invoice, user, _details(row))
    return row


def delete_payment(invoice: Invoice, payment: InvoicePayment, user) -> None:
    """Undo a recorded payment (a mistake): it goes, the audit log keeps what it was."""
    if payment.invoice_id != invoice.id:
        raise ValueError("payment of another invoice")
    _lock(invoice)
    details = _details(payment)
    invoice.payments.remove(payment)
    db.session.flush()
    _update_state(invoice)
    _audit("invoice.payment.delete", invoice, user, details)


def _lock(invoice: Invoice) -> None:
    """Take the invoice's row lock and reread its payments, so concurrent payments queue up.

    Two people recording the last payment at once must not both fit under the total.
    """
    db.session.execute(update(Invoice).where(Invoice.id == invoice.id)
                       .values(payment_state=Invoice.payment_state))
    db.session.expire(invoice, ["payments", "payment_state"])


def _update_state(invoice: Invoice) -> None:
    paid = paid_amount(invoice)
    if not invoice.payments:
        invoice.payment_state = None
    elif paid >= invoice.total_amount:
        invoice.payment_state = PaymentState.PAID.value
    else:
        invoice.payment_state = PaymentState.PARTLY_PAID.value


def _details(payment: InvoicePayment) -> dict:
    return {"payment_id": payment.id, "amount": str(payment.amount),
            "currency": payment.currency, "paid_on": payment.paid_on.isoformat(),
            "reference": payment.reference}


def _audit(action: str, invoice: Invoice, user, details: dict) -> None:
    record(action, actor=user.email, vendor_id=invoice.vendor_id, actor_user_id=user.id,
           target_type="invoice", target_id=invoice.id,
           details={**details, "payment_state": invoice.payment_state or "unpaid"})


def _shown(amount: Decimal) -> str:
    """An amount as people read it: to the cent, unless it has finer digits."""
    cent = amount.quantize(Decimal("0.01"))
    return str(cent if cent == amount else amount.normalize())
