"""Pre-flight check: will Amazon pay this invoice? Each problem names its field, in plain words.

Amazon pays only when an invoice matches its PO exactly: the PO number, the quantities it
accepted (and received), the acknowledged net costs, and totals that add up. Quantities are
compared in eaches, so a line keeps Amazon's unit of measure and unit size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.invoices.models import NUMBER_HOLDING, Invoice, InvoiceLine, InvoiceStatus
from webapp.orders.models import (
    AckCode,
    Acknowledgement,
    AckState,
    PurchaseOrder,
    PurchaseOrderLine,
    eaches,
)
from webapp.vendors.models import Vendor

CENT = Decimal("0.01")
# Problems that compare the invoice with Amazon's PO: these raise the "invoice.mismatch" alert.
MISMATCH_CODES = frozenset({
    "po_not_found", "line_not_on_po", "not_acknowledged", "quantity_above_accepted",
    "quantity_above_received", "unit_cost_mismatch", "currency_mismatch", "unit_mismatch",
})


@dataclass(frozen=True)
class Problem:
    """One reason Amazon would refuse or hold the invoice, shown next to `field`."""

    field: str  # "invoice_number", "lines[2].quantity", "total_amount", ...
    code: str  # stable, for tests and the API
    message: object  # lazy string with the numbers, rendered in the reader's language

    def as_dict(self) -> dict:
        """JSON form for the API and the screens."""
        return {"field": self.field, "code": self.code, "message": str(self.message)}


@dataclass(frozen=True)
class Accepted:
    """What Amazon accepted of a PO line, in eaches, and the net cost it acknowledged."""

    eaches: int | None  # None: nothing acknowledged yet
    net_cost: Decimal | None
    currency: str | None


def cents(amount: Decimal) -> Decimal:
    """Round to the cent the way invoices print."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def line_eaches(line: InvoiceLine) -> int:
    """The invoiced quantity of a line in single units."""
    return eaches(line.quantity, line.unit_of_measure, line.unit_size) or 0


def line_amount(line: InvoiceLine) -> Decimal:
    """Net cost x quantity; Amazon's net cost is per each unless the PO says per case."""
    po_line = line.purchase_order_line
    if po_line is not None and po_line.net_cost_unit_of_measure in ("Cases", "Pallets"):
        return line.net_cost_amount * line.quantity
    return line.net_cost_amount * line_eaches(line)


def lines_total(invoice: Invoice) -> Decimal:
    """Sum of the line amounts, to the cent."""
    return cents(sum((line_amount(line) for line in invoice.lines), Decimal(0)))


def expected_total(invoice: Invoice) -> Decimal:
    """Lines + tax + charges - allowances, to the cent."""
    return cents(lines_total(invoice) + (invoice.tax_amount or 0) + (invoice.charges_amount or 0)
                 - (invoice.allowances_amount or 0))


def accepted_of(po_line: PurchaseOrderLine) -> Accepted:
    """Amazon's accepted quantity (status sync first, else our accepted answer) and cost."""
    ack_lines = []
    ack = db.session.scalar(
        select(Acknowledgement)
        .where(Acknowledgement.purchase_order_id == po_line.purchase_order_id,
               Acknowledgement.state == AckState.ACCEPTED.value)
        .order_by(Acknowledgement.id.desc()).limit(1))
    if ack is not None:
        ack_lines = [a for a in ack.lines if a.purchase_order_line_id == po_line.id]
    cost_line = next((a for a in ack_lines if a.net_cost_amount is not None), None)
    net_cost = cost_line.net_cost_amount if cost_line else po_line.net_cost_amount
    currency = cost_line.net_cost_currency if cost_line else po_line.net_cost_currency
    if po_line.accepted_eaches is not None:  # Amazon's own view, from getPurchaseOrdersStatus
        return Accepted(po_line.accepted_eaches, net_cost, currency)
    if ack is None:
        return Accepted(None, net_cost, currency)
    taken = sum(eaches(a.quantity, a.unit_of_measure, a.unit_size) or 0 for a in ack_lines
                if a.code in (AckCode.ACCEPTED.value, AckCode.BACKORDERED.value))
    return Accepted(taken, net_cost, currency)


def already_invoiced(invoice: Invoice, po_line_id: int) -> int:
    """Eaches of this PO line on the vendor's other invoices that Amazon has or is getting."""
    rows = db.session.execute(
        select(InvoiceLine.quantity, InvoiceLine.unit_of_measure, InvoiceLine.unit_size)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.purchase_order_line_id == po_line_id, Invoice.id != invoice.id,
               Invoice.vendor_id == invoice.vendor_id, Invoice.invoice_type == "Invoice",
               Invoice.status.in_(NUMBER_HOLDING))).all()
    return sum(eaches(q, u, s) or 0 for q, u, s in rows)


def vendor_today(vendor_id: int, now: datetime | None = None) -> date:
    """Today's date where the vendor works."""
    vendor = db.session.get(Vendor, vendor_id)
    return (now or utcnow()).astimezone(ZoneInfo(vendor.timezone if vendor else "UTC")).date()


def preflight(invoice: Invoice, *, now: datetime | None = None,
              raise_events: bool = True) -> list[Problem]:
    """Check `invoice` against its PO and Amazon's rules; [] means Amazon should accept it.

    A PO mismatch raises one "invoice.mismatch" event per invoice version (the caller commits).
    """
    problems: list[Problem] = []
    po = invoice.purchase_order
    if po is None or po.vendor_id != invoice.vendor_id:
        problems.append(Problem("purchase_order_number", "po_not_found", _l(
            "No purchase order of yours matches this invoice. Choose the PO it belongs to.")))
        po = None
    problems += _header_problems(invoice, po, now)
    problems += _line_problems(invoice, po)
    problems += _total_problems(invoice)
    if raise_events and invoice.id is not None and any(p.code in MISMATCH_CODES
                                                       for p in problems):
        raise_event(invoice.vendor_id, "invoice.mismatch",
                    f"invoice:{invoice.id}:v{invoice.version}",
                    purchase_order_id=po.id if po else None,
                    payload={"invoice_id": invoice.id, "invoice_number": invoice.invoice_number,
                             "po_number": po.po_number if po else None,
                             "problems": [{"field": p.field, "code": p.code} for p in problems
                                          if p.code in MISMATCH_CODES]})
    return problems


def _header_problems(invoice: Invoice, po: PurchaseOrder | None, now) -> list[Problem]:
    found = []
    number = (invoice.invoice_number or "").strip()
    if not number:
        found.append(Problem("invoice_number", "number_missing", _l("Enter the invoice number.")))
    else:
        found += _number_problems(invoice, number)
    if invoice.invoice_type not in ("Invoice", "CreditNote"):
        found.append(Problem("invoice_type", "type_invalid",
                             _l("Choose Invoice or Credit note.")))
    elif invoice.invoice_type == "CreditNote" and not invoice.reference_invoice_number:
        found.append(Problem("reference_invoice_number", "reference_missing", _l(
            "A credit note needs the number of the invoice it corrects.")))
    currency = invoice.currency or ""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        found.append(Problem("currency", "currency_invalid", _l(
            "%(currency)s is not a currency code such as USD or CNY.", currency=currency or "—")))
    if invoice.invoice_date is None:
        found.append(Problem("invoice_date", "date_missing", _l("Enter the invoice date.")))
    else:
        today = vendor_today(invoice.vendor_id, now)
        if invoice.invoice_date > today:
            found.append(Problem("invoice_date", "date_in_future", _l(
                "The invoice is dated %(date)s, after today (%(today)s).",
                date=invoice.invoice_date.isoformat(), today=today.isoformat())))
        if po is not None:
            tz = ZoneInfo(db.session.get(Vendor, invoice.vendor_id).timezone)
            po_date = po.ordered_at.astimezone(tz).date()
            if invoice.invoice_date < po_date:
                found.append(Problem("invoice_date", "date_before_po", _l(
                    "The invoice is dated %(date)s, before PO %(po)s was placed on %(po_date)s.",
                    date=invoice.invoice_date.isoformat(), po=po.po_number,
                    po_date=po_date.isoformat())))
    return found


def _number_problems(invoice: Invoice, number: str) -> list[Problem]:
    others = db.session.execute(
        select(Invoice.status, Invoice.submitted_at)
        .where(Invoice.vendor_id == invoice.vendor_id, Invoice.id != (invoice.id or 0),
               func.lower(Invoice.invoice_number) == number.lower())).all()
    if any(status in NUMBER_HOLDING for status, _ in others):
        return [Problem("invoice_number", "number_already_submitted", _l(
            "Invoice number %(number)s was already sent to Amazon; each invoice needs its own.",
            number=number))]
    if any(status == InvoiceStatus.DRAFT.value for status, _ in others):
        return [Problem("invoice_number", "number_duplicate", _l(
            "Another draft invoice already uses number %(number)s.", number=number))]
    return []


def _line_problems(invoice: Invoice, po: PurchaseOrder | None) -> list[Problem]:
    found = []
    if not any(line.quantity > 0 for line in invoice.lines):
        found.append(Problem("lines", "no_lines", _l("Invoice at least one line.")))
    for index, line in enumerate(invoice.lines):
        n, field = index + 1, f"lines[{index}]"
        if line.quantity < 0:
            found.append(Problem(f"{field}.quantity", "quantity_invalid", _l(
                "Line %(line)s: the quantity cannot be negative.", line=n)))
            continue
        if line.net_cost_amount is None or line.net_cost_amount <= 0:
            found.append(Problem(f"{field}.unit_cost", "unit_cost_invalid", _l(
                "Line %(line)s: enter a unit cost above zero.", line=n)))
            continue
        if line.net_cost_currency != invoice.currency:
            found.append(Problem(f"{field}.unit_cost", "currency_mismatch", _l(
                "Line %(line)s is in %(line_currency)s but the invoice is in %(currency)s.",
                line=n, line_currency=line.net_cost_currency, currency=invoice.currency)))
        if po is None or line.quantity == 0:
            continue
        po_line = line.purchase_order_line
        if po_line is None or po_line.purchase_order_id != po.id:
            found.append(Problem(f"{field}.quantity", "line_not_on_po", _l(
                "Line %(line)s is not on PO %(po)s.", line=n, po=po.po_number)))
            continue
        found += _line_against_po(invoice, line, po_line, n, field)
    return found


def _line_against_po(invoice: Invoice, line: InvoiceLine, po_line: PurchaseOrderLine, n: int,
                     field: str) -> list[Problem]:
    found = []
    if line.unit_of_measure != po_line.ordered_unit_of_measure or (
            line.unit_of_measure != "Eaches"
            and (line.unit_size or 1) != (po_line.ordered_unit_size or 1)):
        found.append(Problem(f"{field}.quantity", "unit_mismatch", _l(
            "Line %(line)s is invoiced in %(unit)s of %(size)s; Amazon ordered %(po_unit)s of "
            "%(po_size)s.", line=n, unit=line.unit_of_measure, size=line.unit_size or 1,
            po_unit=po_line.ordered_unit_of_measure, po_size=po_line.ordered_unit_size or 1)))
    accepted = accepted_of(po_line)
    units = line_eaches(line)
    if invoice.invoice_type == "Invoice":
        before = already_invoiced(invoice, po_line.id)
        if accepted.eaches is None:
            found.append(Problem(f"{field}.quantity", "not_acknowledged", _l(
                "Line %(line)s has no acknowledgement Amazon accepted yet; Amazon pays only "
                "for accepted units.", line=n)))
        elif units + before > accepted.eaches:
            message = _l("Line %(line)s invoices %(units)s units; Amazon accepted %(accepted)s.",
                         line=n, units=units, accepted=accepted.eaches) if not before else _l(
                "Line %(line)s invoices %(units)s units after %(before)s already invoiced; "
                "Amazon accepted %(accepted)s.", line=n, units=units, before=before,
                accepted=accepted.eaches)
            found.append(Problem(f"{field}.quantity", "quantity_above_accepted", message))
        # Before Amazon's first receipt (status says 0 received) vendors invoice what they
        # shipped; once receiving has started, Amazon pays only for what it received.
        if po_line.received_eaches and units + before > po_line.received_eaches:
            found.append(Problem(f"{field}.quantity", "quantity_above_received", _l(
                "Line %(line)s invoices %(units)s units; Amazon received %(received)s.",
                line=n, units=units + before, received=po_line.received_eaches)))
    if accepted.net_cost is not None and (
            line.net_cost_amount != accepted.net_cost
            or (accepted.currency and line.net_cost_currency != accepted.currency)):
        found.append(Problem(f"{field}.unit_cost", "unit_cost_mismatch", _l(
            "Line %(line)s costs %(cost)s %(currency)s; the acknowledged net cost is "
            "%(ack_cost)s %(ack_currency)s.", line=n, cost=_plain(line.net_cost_amount),
            currency=line.net_cost_currency, ack_cost=_plain(accepted.net_cost),
            ack_currency=accepted.currency or "")))
    return found


def _total_problems(invoice: Invoice) -> list[Problem]:
    if invoice.total_amount is None:
        return [Problem("total_amount", "total_missing", _l("Enter the invoice total."))]
    for name, value in (("tax_amount", invoice.tax_amount),
                        ("charges_amount", invoice.charges_amount),
                        ("allowances_amount", invoice.allowances_amount)):
        if value is not None and value < 0:
            return [Problem(name, "amount_negative", _l("Amounts cannot be negative."))]
    expected = expected_total(invoice)
    if cents(invoice.total_amount) != expected:
        return [Problem("total_amount", "total_mismatch", _l(
            "Lines %(lines)s + tax %(tax)s + charges %(charges)s - allowances %(allowances)s "
            "= %(expected)s %(currency)s, but the total says %(total)s.",
            lines=lines_total(invoice), tax=cents(invoice.tax_amount or Decimal(0)),
            charges=cents(invoice.charges_amount or Decimal(0)),
            allowances=cents(invoice.allowances_amount or Decimal(0)), expected=expected,
            currency=invoice.currency, total=cents(invoice.total_amount)))]
    return []


def _plain(amount: Decimal) -> str:
    """Show a cost without trailing zeros beyond the cent: 10.5000 -> 10.50, 0.1234 kept."""
    value = amount.normalize()
    return str(cents(value)) if value == cents(value) else format(value, "f")
