"""Shipment screens with plain forms: plan, labels, scans, evidence, ASN; roles and tenancy."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from PIL import Image
from sqlalchemy import select

from tests.auth_helpers import make_user, make_vendor, post, sign_in
from tests.orders_helpers import add_po
from tests.shipments_helpers import acknowledged_po, plan, with_prefix
from webapp.amazon.models import OutboxMessage
from webapp.extensions import db
from webapp.shipments.models import Shipment, ShipmentPhoto


def _pdf_pages(data: bytes) -> int:
    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def _photo(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


def test_manager_plans_prints_scans_and_sends_the_asn_without_javascript(app, client):
    user = sign_in(client, role="manager")
    vendor = with_prefix(user.vendor)
    po = acknowledged_po(vendor.id)
    add_po(vendor.id, "NEWPO001")
    assert 'data-action="ship"' in client.get(f"/orders/{po.po_number}").get_data(as_text=True)
    assert 'data-action="ship"' not in client.get("/orders/NEWPO001").get_data(as_text=True)
    form_url = f"/shipments/new?po={po.po_number}"
    page = client.get(form_url).get_data(as_text=True)
    cases, eaches = po.lines
    assert f'name="qty-{cases.id}"' in page and 'max="10"' in page
    # Too many: refused with the reason, nothing saved.
    r = post(client, "/shipments/new", {"po": po.po_number, f"qty-{cases.id}": "11"},
             token_from=form_url)
    assert r.status_code == 422 and "still to ship" in r.get_data(as_text=True)
    r = post(client, "/shipments/new", {
        "po": po.po_number, f"qty-{cases.id}": "4", f"per-{cases.id}": "2",
        f"qty-{eaches.id}": "5", "mode": "standard", "pallets": "1", "weight": "5.5",
        "weight_unit": "Kg", "shipment_type": "LessThanTruckLoad", "transport_mode": "Road",
        "carrier_scac": "abfs", "bill_of_lading": "BOL-77", "shipped_at": "2026-11-20T09:30"},
        token_from=form_url)
    assert r.status_code == 302
    shipment = db.session.scalar(select(Shipment))
    assert r.location.endswith(f"/shipments/{shipment.id}")
    assert shipment.carrier_scac == "ABFS" and len(shipment.cartons) == 3
    detail = client.get(f"/shipments/{shipment.id}").get_data(as_text=True)
    assert shipment.shipment_identifier in detail and shipment.cartons[0].sscc in detail
    labels = client.get(f"/shipments/{shipment.id}/labels.pdf")
    assert labels.mimetype == "application/pdf" and _pdf_pages(labels.data) == 4  # 3 + pallet
    # Scan one label by typing it, then the others from a photo of a printed label.
    scan_url = f"/shipments/{shipment.id}/scan"
    assert "/static/scan." in client.get(scan_url).get_data(as_text=True)  # maybe hashed
    assert "/static/scan." not in detail
    r = post(client, scan_url, {"code": shipment.cartons[0].sscc}, token_from=scan_url,
             follow_redirects=True)
    assert "loaded" in r.get_data(as_text=True)
    r = post(client, f"/shipments/{shipment.id}/submit", {}, token_from=scan_url,
             follow_redirects=True)
    assert "were not scanned" in r.get_data(as_text=True)
    db.session.refresh(shipment)
    assert shipment.status == "draft"
    doc = pdfium.PdfDocument(labels.data)
    image = doc[1].render(scale=3).to_pil()
    doc.close()
    png = io.BytesIO()
    image.save(png, "PNG")
    r = post(client, scan_url, {"photo": (io.BytesIO(png.getvalue()), "label.png")},
             token_from=scan_url, content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.refresh(shipment)
    assert shipment.cartons[1].scanned_at is not None
    r = post(client, f"/shipments/{shipment.id}/submit", {"ship_without": "yes"},
             token_from=scan_url)
    assert r.status_code == 302
    db.session.refresh(shipment)
    assert shipment.status == "pending" and shipment.cartons[2].excluded
    message = db.session.get(OutboxMessage, shipment.outbox_id)
    assert len(message.payload["shipmentConfirmations"][0]["cartons"]) == 2


def test_json_scan_for_the_camera_script(app, client):
    user = sign_in(client, role="admin")
    vendor = with_prefix(user.vendor)
    po = acknowledged_po(vendor.id)
    shipment = plan(vendor, [po], {po.lines[1]: 5})
    url = f"/shipments/{shipment.id}/scan"
    r = post(client, url, {"code": shipment.cartons[0].sscc}, token_from=url,
             headers={"Accept": "application/json"})
    assert r.json["outcomes"][0]["outcome"] == "carton" and r.json["missing"] == 0
    r = post(client, url, {"code": "12345"}, token_from=url,
             headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json["error"]


def test_evidence_photos_are_clean_and_only_for_their_vendor(app, client):
    user = sign_in(client, role="manager")
    vendor = with_prefix(user.vendor)
    po = acknowledged_po(vendor.id)
    shipment = plan(vendor, [po], {po.lines[1]: 5})
    url = f"/shipments/{shipment.id}"
    r = post(client, f"{url}/photos", {"kind": "bol", "photo": (io.BytesIO(_photo()), "bol.png")},
             token_from=url, content_type="multipart/form-data")
    assert r.status_code == 302
    photo = db.session.scalar(select(ShipmentPhoto))
    assert photo.kind == "bol" and photo.shipment_id == shipment.id
    served = client.get(f"{url}/photos/{photo.id}")
    assert served.status_code == 200 and served.mimetype == photo.content_type
    assert "no-store" in served.headers["Cache-Control"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith('inline; filename="shipment-')
    assert "sandbox" in served.headers["Content-Security-Policy"]
    r = post(client, f"{url}/photos", {"kind": "truck",
                                       "photo": (io.BytesIO(b"<script>x</script>"), "a.png")},
             token_from=url, content_type="multipart/form-data", follow_redirects=True)
    assert db.session.scalar(select(db.func.count(ShipmentPhoto.id))) == 1
    other = app.test_client()
    sign_in(other, vendor=make_vendor("Other Co"))
    assert other.get(f"{url}/photos/{photo.id}").status_code == 404


def test_viewer_reads_but_cannot_plan_scan_or_submit(app, client):
    vendor = with_prefix(make_vendor("Viewer Foods"))
    po = acknowledged_po(vendor.id)
    shipment = plan(vendor, [po], {po.lines[1]: 5})
    user, secret = make_user(vendor, role="viewer")
    sign_in(client, user=user, secret=secret)
    assert shipment.shipment_identifier in client.get("/shipments/").get_data(as_text=True)
    detail = client.get(f"/shipments/{shipment.id}").get_data(as_text=True)
    assert 'data-action="submit-asn"' not in detail
    assert client.get(f"/shipments/{shipment.id}/labels.pdf").status_code == 200
    assert client.get(f"/shipments/new?po={po.po_number}").status_code == 403
    assert client.get(f"/shipments/{shipment.id}/scan").status_code == 403
    url = f"/shipments/{shipment.id}"
    assert post(client, f"{url}/submit", token_from=url).status_code == 403
    assert post(client, f"{url}/scan", {"code": "x"}, token_from=url).status_code == 403
    assert post(client, f"{url}/cancel", token_from=url).status_code == 403
    assert 'data-action="ship"' not in client.get(f"/orders/{po.po_number}").get_data(
        as_text=True)
    # Nothing to dispute on a draft.
    assert client.get(f"{url}/dispute.pdf").status_code == 404


def test_another_vendors_shipment_and_po_are_404(app, client):
    mine = with_prefix(make_vendor("Mine Co"))
    theirs = with_prefix(make_vendor("Theirs Co"))
    po = acknowledged_po(theirs.id, "THEIRS01")
    shipment = plan(theirs, [po], {po.lines[1]: 5})
    sign_in(client, role="admin", vendor=mine)
    base = f"/shipments/{shipment.id}"
    for path in ("", "/labels.pdf", "/scan", "/dispute.pdf"):
        assert client.get(base + path).status_code == 404, path
    assert post(client, f"{base}/submit", token_from="/shipments/").status_code == 404
    assert client.get("/shipments/new?po=THEIRS01").status_code == 404
    assert shipment.shipment_identifier not in client.get("/shipments/").get_data(as_text=True)


def test_correct_asn_form_without_javascript(app, client):
    user = sign_in(client, role="manager")
    vendor = with_prefix(user.vendor)
    po = acknowledged_po(vendor.id)
    cases, eaches = po.lines
    shipment = plan(vendor, [po], {cases: 2, eaches: 5}, per={eaches: 5})
    url = f"/shipments/{shipment.id}/correct"
    assert 'data-action="correct-asn"' not in \
        client.get(f"/shipments/{shipment.id}").get_data(as_text=True)  # a draft: not yet
    shipment.status = "submitted"
    db.session.commit()
    assert 'data-action="correct-asn"' in \
        client.get(f"/shipments/{shipment.id}").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    first, second, loose = shipment.cartons
    assert f'name="cq-{first.contents[0].id}"' in page
    form = {"shipment_type": "LessThanTruckLoad", "transport_mode": "Road",
            "carrier_scac": "abfs", "bill_of_lading": "BOL-2", "tracking_number": "PRO-1",
            f"ship-{first.id}": "yes", f"ship-{loose.id}": "yes",
            f"cq-{loose.contents[0].id}": "99"}
    r = post(client, url, form, token_from=url)  # 99 eaches: more than accepted
    assert r.status_code == 422 and "still to ship" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status == "submitted"
    form[f"cq-{loose.contents[0].id}"] = "4"
    r = post(client, url, form, token_from=url)
    assert r.status_code == 302
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == "pending" and shipment.confirmation_type == "Replace"
    message = db.session.get(OutboxMessage, shipment.outbox_id)
    body = message.payload["shipmentConfirmations"][0]
    assert body["shipmentConfirmationType"] == "Replace"
    assert [c["cartonIdentifiers"][0]["containerIdentificationNumber"] for c in body["cartons"]] \
        == [first.sscc, loose.sscc]
    assert body["transportationDetails"]["carrierShipmentReferenceNumber"] == "PRO-1"
    # Sent once: a second post is refused while the Replace is pending.
    assert post(client, url, form, token_from=f"/shipments/{shipment.id}").status_code == 422
