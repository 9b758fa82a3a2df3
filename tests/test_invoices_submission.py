"""Invoices to Amazon: the body fits vendorInvoices, goes once through the outbox to the sandbox,
the transaction status lands on the invoice, failures alert, and only the right people may send."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.amazon_fixtures import (  # noqa: F401 - fixtures
    control,
    sandbox,
    start_worker,
    vendor,
    worker_env,
)
from tests.auth_helpers import make_user, make_vendor
from tests.invoices_helpers import draft_setup
from tests.test_outbox import make_acknowledgement, synced_pos
from webapp.amazon import outbox, schemas
from webapp.amazon.client import SpApiClient
from webapp.amazon.models import OutboxMessage
from webapp.audit.models import AuditEntry
from webapp.events.models import Event
from webapp.extensions import db
from webapp.invoices import services
from webapp.invoices.models import Invoice
from webapp.invoices.submission import build_invoice_body
from webapp.push.models import Alert
from webapp.push.services import alerts_from_events
from worker.queues import enqueue

INVOICES = ("vendorInvoices.json", "/vendor/payments/v1/invoices", "post")


def received(server) -> dict[str, int]:
    """How many times the sandbox received each invoice number."""
    return control(server, "submissions?kind=invoice", method="GET")["counts"]


def accepted_po(server, vendor_row):
    """A PO synced from the sandbox whose acknowledgement Amazon accepted."""
    po = synced_pos(server, vendor_row, 1, lines_per_po=3)[0]
    message = outbox.queue_acknowledgement(make_acknowledgement(po))
    db.session.commit()
    assert outbox.send_message(message.id) == "succeeded"
    db.session.refresh(po)
    return po


def new_invoice(po, user, number: str = "INV-2026-001") -> Invoice:
    invoice = services.create_invoice_from_po(po, user=user)
    assert services.update_invoice(invoice, {"invoice_number": number}, user=user) == []
    db.session.commit()
    return invoice


def test_the_body_validates_against_vendor_invoices_with_parties_and_extras(app):
    s = draft_setup()
    s.po.parties = {
        "sellingParty": {"partyId": "DEMO1", "address": {
            "name": "Tea Trading", "addressLine1": "1 Leaf Rd", "city": "Hangzhou",
            "postalCode": "310000", "countryCode": "CN"},
            "taxInfo": {"taxRegistrationType": "VAT", "taxRegistrationNumber": "CN123"}},
        "billToParty": {"partyId": "AMZN_US", "address": {"name": "Amazon", "addressLine1":
                                                          "PO Box 1", "countryCode": "US"}},
        "shipToParty": {"partyId": "ABE8"},
    }
    s.po.bill_to_party_id = "AMZN_US"
    s.invoice.tax_amount, s.invoice.tax_type = Decimal("12.80"), "ST"
    s.invoice.charges_amount = Decimal("20")
    s.invoice.allowances_amount, s.invoice.allowance_type = Decimal("2.75"), "Promotional"
    s.invoice.total_amount = Decimal("1310.00")
    body = build_invoice_body(s.invoice)
    schemas.validate_request_body(*INVOICES, body)
    [sent] = body["invoices"]
    assert sent["id"] == "INV-100" and sent["invoiceType"] == "Invoice"
    assert sent["invoiceTotal"] == {"currencyCode": "USD", "amount": "1310"}
    assert sent["remitToParty"]["address"]["postalOrZipCode"] == "310000"
    assert sent["remitToParty"]["taxRegistrationDetails"][0]["taxRegistrationNumber"] == "CN123"
    assert sent["billToParty"]["partyId"] == "AMZN_US" and sent["shipToParty"] == {
        "partyId": "ABE8"}
    assert sent["taxDetails"] == [{"taxType": "ST", "taxAmount": {"currencyCode": "USD",
                                                                  "amount": "12.8"}}]
    assert sent["chargeDetails"][0]["type"] == "Freight"
    assert sent["allowanceDetails"][0]["type"] == "Promotional"
    first, second = sent["items"]
    assert first == {"itemSequenceNumber": 1, "amazonProductIdentifier": "B07DFVDRAB",
                     "vendorProductIdentifier": "SKU-TEA-1", "purchaseOrderNumber": "2JK3S9VC",
                     "invoicedQuantity": {"amount": 10, "unitOfMeasure": "Cases", "unitSize": 12},
                     "netCost": {"currencyCode": "USD", "amount": "10.5"}}
    assert second["invoicedQuantity"] == {"amount": 5, "unitOfMeasure": "Eaches", "unitSize": 1}


def test_a_credit_note_body_validates_and_lines_not_invoiced_are_left_out(app):
    s = draft_setup()
    s.invoice.invoice_type, s.invoice.reference_invoice_number = "CreditNote", "INV-7"
    s.invoice.lines[0].quantity = 0
    s.invoice.total_amount = Decimal("19.95")
    body = build_invoice_body(s.invoice)
    schemas.validate_request_body(*INVOICES, body)
    [item] = body["invoices"][0]["items"]
    assert item["itemSequenceNumber"] == 2
    assert item["creditNoteDetails"] == {"referenceInvoiceNumber": "INV-7"}


def test_end_to_end_with_a_real_worker_sent_once_even_when_the_job_runs_twice(
        app, sandbox, vendor, test_config, tmp_path):
    user, _ = make_user(vendor, role="finance")
    po = accepted_po(sandbox, vendor)
    invoice = new_invoice(po, user)
    assert services.check_invoice(invoice) == []
    outcome = services.submit_invoice(invoice, user, "tap-1")
    assert outcome.status == "queued" and invoice.status == "pending"
    db.session.commit()
    # A replayed POST (offline queue) with the same key is the same submission.
    again = services.submit_invoice(invoice, user, "tap-1")
    assert again.message.id == outcome.message.id and again.to_send == []
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "invoice")) == 1
    services.after_commit(outcome)
    # RQ is at-least-once: the same send job delivered twice more must not resend.
    for n in range(2):
        enqueue("outbox", "worker.jobs.send_outbox_message", outcome.message.id,
                job_id=f"invoice-retry-{n}")
    worker = start_worker(worker_env(test_config, sandbox, tmp_path), "outbox", burst=True)
    assert worker.wait(timeout=120) == 0
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.status == "accepted" and invoice.errors is None and invoice.completed_at
    assert received(sandbox) == {"INV-2026-001": 1}
    [request] = control(sandbox, "submissions?kind=invoice", method="GET")["requests"]
    assert request["body"] == build_invoice_body(invoice)
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "invoice")).all()
    assert {"invoice.create", "invoice.update", "invoice.submit"} <= set(actions)


def test_amazon_failure_lands_on_the_invoice_and_alerts(app, sandbox, vendor):
    user, _ = make_user(vendor, role="manager")
    po = accepted_po(sandbox, vendor)
    invoice = new_invoice(po, user)
    # The number was already used at Amazon another way (a credit note typed in Vendor Central).
    earlier = build_invoice_body(invoice)
    earlier["invoices"][0]["invoiceType"] = "CreditNote"
    with SpApiClient.for_vendor(vendor) as client:
        client.call("submitInvoices", body=earlier)
    outcome = services.submit_invoice(invoice, user, "tap-1")
    db.session.commit()
    assert outbox.send_message(outcome.message.id) == "failed"
    db.session.refresh(invoice)
    assert invoice.status == "failed" and invoice.editable
    assert [e["code"] for e in invoice.errors] == ["DuplicateInvoice"]
    [event] = db.session.scalars(select(Event).where(Event.kind == "invoice.failed")).all()
    assert event.payload["invoice_id"] == invoice.id
    assert event.payload["invoice_number"] == "INV-2026-001"
    assert event.purchase_order_id == po.id
    assert alerts_from_events() >= 1
    alert = db.session.scalar(select(Alert).where(Alert.kind == "invoice.failed"))
    assert "INV-2026-001" in alert.title and alert.url == f"/invoices/{invoice.id}"
    assert alert.urgency == "high"
    # Corrected (a new number) and sent again: accepted, and the sandbox got each once.
    assert services.update_invoice(invoice, {"invoice_number": "INV-2026-001B"}, user=user) == []
    retry = services.submit_invoice(invoice, user, "tap-2")
    db.session.commit()
    assert outbox.send_message(retry.message.id) == "succeeded"
    db.session.refresh(invoice)
    assert invoice.status == "accepted" and invoice.errors is None
    assert received(sandbox) == {"INV-2026-001": 2, "INV-2026-001B": 1}


def test_problems_refuse_the_submission_and_nothing_is_queued(app, sandbox, vendor):
    user, _ = make_user(vendor, role="admin")
    po = accepted_po(sandbox, vendor)
    invoice = new_invoice(po, user)
    invoice.lines[0].quantity += 1
    outcome = services.submit_invoice(invoice, user, "tap-1")
    assert outcome.status == "refused"
    assert {p.code for p in outcome.problems} >= {"quantity_above_accepted", "total_mismatch"}
    db.session.commit()
    assert invoice.status == "draft"
    assert db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.kind == "invoice")) is None


def test_a_sent_invoice_cannot_be_changed_or_sent_again(app, sandbox, vendor):
    user, _ = make_user(vendor, role="finance")
    invoice = new_invoice(accepted_po(sandbox, vendor), user)
    services.submit_invoice(invoice, user, "tap-1")
    db.session.commit()
    with pytest.raises(services.InvoiceError) as error:
        services.update_invoice(invoice, {"total_amount": "1"}, user=user)
    assert error.value.code == "not_editable"
    with pytest.raises(services.InvoiceError) as error:
        services.submit_invoice(invoice, user, "tap-2")
    assert error.value.code == "not_editable"


@pytest.mark.parametrize("role", ["admin", "manager", "finance"])
def test_submitting_roles_may_create_and_submit(app, role):
    s = draft_setup(role)
    assert services.may_submit(s.user)
    assert services.submit_invoice(s.invoice, s.user, "k").status == "queued"


def test_a_viewer_reads_but_cannot_create_change_or_submit(app):
    s = draft_setup("viewer")
    assert not services.may_submit(s.user)
    for action in (lambda: services.create_invoice_from_po(s.po, user=s.user),
                   lambda: services.update_invoice(s.invoice, {"total_amount": "1"}, user=s.user),
                   lambda: services.submit_invoice(s.invoice, s.user, "k")):
        with pytest.raises(services.InvoiceError) as error:
            action()
        assert error.value.code == "forbidden"
    db.session.rollback()
    assert db.session.get(Invoice, s.invoice.id).status == "draft"
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_another_vendors_po_or_invoice_is_refused_as_not_found(app):
    s = draft_setup("manager")
    stranger, _ = make_user(make_vendor("Other Co", timezone="UTC"), role="admin")
    for action in (lambda: services.create_invoice_from_po(s.po, user=stranger),
                   lambda: services.update_invoice(s.invoice, {"total_amount": "1"},
                                                   user=stranger),
                   lambda: services.submit_invoice(s.invoice, stranger, "k")):
        with pytest.raises(services.InvoiceError) as error:
            action()
        assert error.value.code == "not_found"
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_viewer_gets_403_from_the_invoice_routes(app):
    from tests.auth_helpers import post, sign_in

    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("invoices.") and "POST" in (r.methods or ())]
    if not rules:
        pytest.skip("the invoice screens are not built yet")
    client = app.test_client()
    user = sign_in(client, role="viewer")
    po = draft_setup("manager", vendor_name=user.vendor.name).po
    for rule in rules:
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", str(po.id)).replace(f"<{arg}>", po.po_number)
        assert post(client, url, {}, token_from="/logout").status_code == 403, url


def test_the_sandbox_applies_amazons_invoice_rules_and_records_each_submission_once(
        app, sandbox, vendor):
    import copy

    import httpx

    user, _ = make_user(vendor, role="finance")
    invoice = new_invoice(accepted_po(sandbox, vendor), user)
    good = build_invoice_body(invoice)
    token = httpx.post(sandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": "sandbox-refresh-token",
        "client_id": "amzn1.application-oa2-client.test", "client_secret": "s"}).json()
    headers = {"x-amz-access-token": token["access_token"]}

    def send(body) -> tuple[int, list[str]]:
        response = httpx.post(f"{sandbox.url}/vendor/payments/v1/invoices", json=body,
                              headers=headers)
        if response.status_code != 202:
            return response.status_code, [e["code"] for e in response.json()["errors"]]
        transaction = response.json()["payload"]["transactionId"]
        for _ in range(3):
            status = httpx.get(f"{sandbox.url}/vendor/transactions/v1/transactions/"
                               f"{transaction}", headers=headers).json()
            status = status["payload"]["transactionStatus"]
            if status["status"] != "Processing":
                return 202, sorted(e["code"] for e in status.get("errors") or [])
        raise AssertionError("still processing")

    def variant(number: str, change) -> dict:
        body = copy.deepcopy(good)
        body["invoices"][0]["id"] = number
        change(body["invoices"][0])
        return body

    def more_units(inv):
        inv["items"][0]["invoicedQuantity"]["amount"] += 1

    def wrong_total(inv):
        inv["invoiceTotal"]["amount"] = str(Decimal(inv["invoiceTotal"]["amount"]) + 1)

    def euros(inv):
        inv["items"][0]["netCost"]["currencyCode"] = "EUR"

    def stranger(inv):
        inv["items"][0]["amazonProductIdentifier"] = "B0NOTONPO1"
        inv["items"][0].pop("vendorProductIdentifier", None)

    assert send({"invoices": [{"id": "X"}]})[0] == 400  # not the model: refused, not recorded
    assert send(variant("A-1", more_units)) == (202, ["InvoiceTotalMismatch",
                                                      "QuantityExceedsAccepted"])
    assert send(variant("A-2", wrong_total)) == (202, ["InvoiceTotalMismatch"])
    assert set(send(variant("A-3", euros))[1]) == {"CurrencyMismatch"}
    assert send(variant("A-4", stranger)) == (202, ["InvalidItem"])
    assert send(good) == (202, [])
    assert set(send(good)[1]) == {"DuplicateInvoice", "QuantityExceedsAccepted"}
    # Units invoiced on an accepted invoice are used up, whatever the next number.
    assert set(send(variant("A-5", lambda inv: None))[1]) == {"QuantityExceedsAccepted"}
    counts = received(sandbox)
    assert counts == {"A-1": 1, "A-2": 1, "A-3": 1, "A-4": 1, "A-5": 1,
                      invoice.invoice_number: 2}
