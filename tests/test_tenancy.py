"""Tenant isolation: another vendor's object answers exactly like a missing one (404)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.auth_helpers import csrf_token, dump_database, make_user, make_vendor, sign_in
from webapp.auth import services, tokens
from webapp.auth.models import UserSession, WebAuthnCredential
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.orders.models import PurchaseOrder

MISSING = 987654
MY_MODULES = ("webapp.auth.", "webapp.settings.", "webapp.admin.", "webapp.orders.routes")


def _po(vendor, number, hours=10):
    now = utcnow()
    po = PurchaseOrder(vendor_id=vendor.id, po_number=number, state="New", ordered_at=now,
                       ack_due_at=now + timedelta(hours=hours), ship_to_party_id="PHX7")
    db.session.add(po)
    return po


def _vendor_b_objects():
    """Objects of a second vendor, by the URL argument names that point at them."""
    vendor_b = make_vendor("Beta Industrial", domain="beta.cn")
    user_b, _ = make_user(vendor_b, role="admin")
    invite_b, _ = services.invite_user(vendor_b, "someone@beta.cn", "viewer")
    token_b, _ = tokens.create_token(user_b, "b-token")
    passkey_b = WebAuthnCredential(user_id=user_b.id, credential_id=b"beta-cred",
                                   public_key=b"beta-key", sign_count=0, name="B phone")
    db.session.add(passkey_b)
    po_b = _po(vendor_b, "BETA0001")
    db.session.flush()
    ids = {"user_id": user_b.id, "invite_id": invite_b.id, "token_id": token_b.id,
           "passkey_id": passkey_b.id, "po_id": po_b.id, "purchase_order_id": po_b.id}
    ids.update(_other_features_objects(vendor_b, user_b, po_b))
    db.session.commit()
    return vendor_b, user_b, ids


def _other_features_objects(vendor_b, user_b, po_b) -> dict:
    """Vendor B objects of other features' object routes (extend as features add routes)."""
    ids = {}
    try:
        from webapp.amazon.models import OutboxMessage
    except ImportError:
        OutboxMessage = None
    if OutboxMessage is not None:
        msg = OutboxMessage(vendor_id=vendor_b.id, kind="acknowledgement",
                            subject_type="purchase_order", subject_id=po_b.id, payload={},
                            idempotency_key="beta-ack-1")
        db.session.add(msg)
        db.session.flush()
        ids["message_id"] = msg.id
    try:
        from webapp.push.models import PushSubscription
    except ImportError:
        PushSubscription = None
    if PushSubscription is not None:
        device = PushSubscription(user_id=user_b.id, vendor_id=vendor_b.id,
                                  endpoint="https://push.example/beta", p256dh="x", auth="y",
                                  label="B phone")
        db.session.add(device)
        db.session.flush()
        ids["device_id"] = device.id
    try:
        from webapp.orders.models import AckApproval
    except ImportError:
        AckApproval = None
    if AckApproval is not None:  # dual control (issue 5)
        approval = AckApproval(vendor_id=vendor_b.id, purchase_order_id=po_b.id, answers=[],
                               rejected_value=1, currency="USD", requested_by_id=user_b.id)
        db.session.add(approval)
        db.session.flush()
        ids["approval_id"] = approval.id
    ids.update(_invoice_and_shipment_objects(vendor_b, user_b, po_b))
    return ids


def _invoice_and_shipment_objects(vendor_b, user_b, po_b) -> dict:
    """Vendor B's invoice, payment, shipment and photos (issues 7 and 11)."""
    from webapp.invoices.models import Invoice, InvoicePayment, InvoicePhoto
    from webapp.shipments.models import Shipment, ShipmentPhoto

    invoice = Invoice(vendor_id=vendor_b.id, purchase_order_id=po_b.id,
                      invoice_number="BETA-INV-1", currency="USD")
    shipment = Shipment(vendor_id=vendor_b.id, shipment_identifier="BETA-ASN-1")
    db.session.add_all([invoice, shipment])
    db.session.flush()
    payment = InvoicePayment(vendor_id=vendor_b.id, invoice_id=invoice.id,
                             paid_on=utcnow().date(), amount=Decimal("1.00"), currency="USD",
                             recorded_by_id=user_b.id)
    # `photo_id` names an invoice photo in /invoices/... and a dispatch photo in
    # /shipments/...: one id for both, so every such route meets vendor B's object.
    photo_id = 424242
    stored = {"content_type": "image/jpeg", "size_bytes": 1, "sha256": "0" * 64,
              "vendor_id": vendor_b.id}
    db.session.add_all([
        payment,
        InvoicePhoto(id=photo_id, invoice_id=invoice.id, storage_key="beta-invoice", **stored),
        ShipmentPhoto(id=photo_id, shipment_id=shipment.id, kind="truck",
                      storage_key="beta-dispatch", **stored),
    ])
    db.session.flush()
    return {"invoice_id": invoice.id, "payment_id": payment.id, "shipment_id": shipment.id,
            "photo_id": photo_id}


def test_other_vendor_ids_answer_like_missing_ids(app):
    vendor_b, user_b, ids = _vendor_b_objects()
    b_client = app.test_client()
    sign_in(b_client, user=user_b)
    ids["session_id"] = db.session.query(UserSession.id).filter_by(user_id=user_b.id).scalar()
    client = app.test_client()
    sign_in(client, role="admin", vendor=make_vendor("Acme Trading", domain="acme.cn"))
    before = dump_database()
    checked, unknown = 0, []
    for rule in app.url_map.iter_rules():
        int_args = [a for a, c in rule._converters.items()
                    if type(c).__name__ == "IntegerConverter"]
        if not int_args or rule.rule.startswith("/api/"):
            continue
        if any(a not in ids for a in int_args):
            unknown.append(rule.rule)
            continue
        theirs = rule.build({a: ids[a] for a in int_args}, append_unknown=False)[1]
        missing = rule.build({a: MISSING for a in int_args}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            token = csrf_token(client, "/settings")
            data = {"csrf_token": token, "role": "viewer"}
            a = client.open(theirs, method=method, data=data)
            b = client.open(missing, method=method, data=data)
            assert a.status_code == b.status_code, (method, rule.rule, a.status_code)
            assert a.get_data() == b.get_data(), (method, rule.rule)
            assert a.status_code in (302, 404), (method, rule.rule, a.status_code)
            if app.view_functions[rule.endpoint].__module__.startswith(MY_MODULES):
                assert a.status_code == 404, (method, rule.rule)
            checked += 1
    db.session.expire_all()
    unchanged = dump_database() == before
    print(f"\n[tenancy] object routes checked={checked} leaks=0 identical_to_missing={checked} "
          f"vendor_b_unchanged={unchanged} unmapped={unknown}")
    assert checked >= 33 and unchanged
    # A new object route must be checked here too: give its URL argument a vendor B object.
    assert not unknown, f"add these URL arguments to test_tenancy ids: {unknown}"
    assert b_client.get("/orders").status_code == 200  # vendor B's session was not touched


def test_inbox_lists_only_the_vendors_open_pos_in_its_time_zone(app):
    acme = make_vendor("Acme Trading", domain="acme.cn", timezone="Asia/Shanghai")
    beta = make_vendor("Beta Industrial", domain="beta.cn")
    _po(acme, "ACME0002", hours=20)
    _po(acme, "ACME0001", hours=2)
    closed = _po(acme, "ACME0003")
    closed.state = "Closed"
    _po(beta, "BETA0001")
    db.session.commit()
    client = app.test_client()
    sign_in(client, role="viewer", vendor=acme)
    html = client.get("/orders").get_data(as_text=True)
    assert "BETA0001" not in html and "ACME0003" not in html
    assert html.index("ACME0001") < html.index("ACME0002")
    due = (utcnow() + timedelta(hours=2)).astimezone(__import__("zoneinfo").ZoneInfo(acme.timezone))
    assert due.strftime("%Y-%m-%d %H:") in html and "PHX7" in html


def test_api_token_sees_only_its_vendor(app):
    vendor_b, user_b, _ = _vendor_b_objects()
    user_a, _ = make_user(make_vendor("Acme Trading", domain="acme.cn"))
    _t, raw = tokens.create_token(user_a, "a")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = app.test_client().get("/api/v1/me", headers=headers).get_json()
    assert body["vendor"]["id"] == user_a.vendor_id != vendor_b.id
