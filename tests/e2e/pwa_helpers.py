"""Helpers for the PWA browser tests: demo data, a signed-in browser, axe-core from npm."""

from __future__ import annotations

import subprocess
from pathlib import Path

from webapp.auth.models import User
from webapp.auth.sessions import start_session
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def seed(pos: int = 30):
    """Seed the demo vendor (POs, receipts, stock, sales); return the seed result."""
    from webapp.demo.seed import seed_demo

    return seed_demo(pos=pos)


def add_user(vendor_id: int, email: str, role: str = "admin", locale: str | None = None) -> User:
    """Create an active user of `vendor_id` (no password needed: sessions are opened directly)."""
    user = User(vendor_id=vendor_id, email=email, role=role, locale=locale)
    db.session.add(user)
    db.session.commit()
    return user


def sign_in_context(app, context, base: str, user: User) -> None:
    """Give `context` a live server-side session of `user` (the cookie the login page sets)."""
    sid = start_session(user, ip="127.0.0.1", user_agent="e2e")
    db.session.commit()
    value = app.session_interface.get_signing_serializer(app).dumps({"sid": sid})
    context.add_cookies([{"name": app.config.get("SESSION_COOKIE_NAME", "session"),
                          "value": value, "url": base}])


def axe_source() -> str:
    """axe-core's script, installed from package-lock.json with npm on first use."""
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True,  # noqa: S607
                       capture_output=True, timeout=600)
    return AXE.read_text(encoding="utf-8")


def invoice_and_shipment_screens(vendor_id: int, user: User) -> dict[str, list[str]]:
    """Invoices and shipments in their real states, made through the app's services.

    A draft read by OCR (confidences, a wrong total and too many units shown as pre-flight
    problems) and its PO chooser; an accepted invoice partly paid; a ship plan form; a draft
    shipment half scanned; a sent one that can be corrected; one Amazon is receiving short, with
    evidence. Returns each screen's path with the selectors that show its state.
    """
    from datetime import timedelta
    from decimal import Decimal

    from tests.invoice_images import InvoiceData, InvoiceLineData, render_invoice
    from tests.invoices_helpers import accept
    from tests.shipments_helpers import acknowledged_po, plan, with_prefix
    from webapp.db_types import utcnow
    from webapp.invoices import payments, screens, services
    from webapp.invoices.checks import vendor_today
    from webapp.invoices.photos import save_invoice_photos
    from webapp.shipments import asn, evidence, loading, receipts
    from webapp.vendors.models import Vendor

    vendor = with_prefix(db.session.get(Vendor, vendor_id))
    today = vendor_today(vendor_id)

    # Invoices: the paper invoice says 6 units where Amazon accepted 5, and a total that is off.
    po = acknowledged_po(vendor_id, "AXEINV01")
    accept(po)
    paper = InvoiceData(vendor="Demo Trading", invoice_number="SI-4471", invoice_date=today,
                        date_format="%Y-%m-%d", purchase_order_number=po.po_number,
                        currency="USD", symbol="$", tax_rate=Decimal("0"),
                        lines=[InvoiceLineData(line.asin, "Mug", 6, line.net_cost_amount)
                               for line in po.lines])
    [photo] = save_invoice_photos(vendor, user, render_invoice(paper, "photo"), purchase_order=None)
    # What the OCR job writes once it has read the page (its engine is not what is audited).
    photo.ocr_state = "done"
    photo.ocr_result = {"fields": {
        "invoice_number": {"value": "SI-4471", "confidence": 0.97},
        "invoice_date": {"value": today.isoformat(), "confidence": 0.91},
        "currency": {"value": "USD", "confidence": 0.99},
        "total_amount": {"value": "9999.99", "confidence": 0.42},
        "purchase_order_number": {"value": po.po_number, "confidence": 0.88},
        "lines": [{"asin": {"value": line.asin, "confidence": 0.9},
                   "quantity": {"value": "6", "confidence": 0.63}} for line in po.lines[1:]]}}
    db.session.commit()
    draft = screens.open_draft(po, [photo], user)
    db.session.commit()

    paid_po = acknowledged_po(vendor_id, "AXEINV02")
    accept(paid_po)
    paid = services.create_invoice_from_po(paid_po, user=user)
    paid.invoice_number, paid.status, paid.total_amount, paid.currency = \
        "SI-4472", "accepted", Decimal("1250.00"), "USD"
    db.session.commit()
    payments.record_payment(paid, user, payments.PaymentInput(
        Decimal("500.00"), today, "REMIT-0091"))
    db.session.commit()

    # Shipments.
    to_plan = acknowledged_po(vendor_id, "AXESHP01")
    cases, _ = to_plan.lines
    loading_one = plan(vendor, [to_plan], {cases: 2})
    sent_po = acknowledged_po(vendor_id, "AXESHP02")
    cases, eaches = sent_po.lines
    sent = plan(vendor, [sent_po], {cases: 2, eaches: 5}, per={eaches: 5})
    asn.submit_asn(sent)  # queued in the outbox
    sent.status = "submitted"  # Amazon accepted the ASN
    loading.record_scan(loading_one, loading_one.cartons[0].sscc)
    loading.record_scan(loading_one, sent.cartons[0].sscc)  # a label of another shipment
    short_po = acknowledged_po(vendor_id, "AXESHP03")
    cases, eaches = short_po.lines
    short = plan(vendor, [short_po], {cases: 10, eaches: 5},
                 estimated_delivery_at=utcnow() - timedelta(days=1))
    evidence.add_photos(short, render_invoice(paper, "clean"), "bol", user_id=user.id)
    short.status = "submitted"
    cases.received_eaches, cases.last_received_at = 108, utcnow()
    receipts.settle_receipts(short)
    db.session.commit()
    return {
        f"/invoices/{draft.id}": ["[data-confidence]", "[data-problem]", "[data-line-problem]"],
        f"/invoices/{paid.id}": ["[data-payment]", "[data-payment-form]"],
        f"/invoices/scan?photo={photo.id}": [f'[data-po="{po.po_number}"]'],
        f"/shipments/new?po={to_plan.po_number}": ["[data-plan-line]"],
        f"/shipments/{loading_one.id}": ["[data-carton]", "[data-extra]", "[data-action=labels]"],
        f"/shipments/{loading_one.id}/scan": ["[data-loaded]", "[data-extra]"],
        f"/shipments/{short.id}": ["[data-gap]", "[data-receiving]", "[data-photo]"],
        f"/shipments/{sent.id}": ["[data-action=correct-asn]"],
        f"/shipments/{sent.id}/correct": ["[data-correct-form]"],
    }
