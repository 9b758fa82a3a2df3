"""Invoice screens without JavaScript: upload, OCR prefill, check, submit; roles and tenancy."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from sqlalchemy import func, select

from tests.auth_helpers import make_user, make_vendor, post, sign_in
from tests.invoice_images import InvoiceData, InvoiceLineData, render_invoice
from tests.orders_helpers import add_po
from webapp.amazon.models import OutboxMessage
from webapp.extensions import db
from webapp.invoices.checks import vendor_today
from webapp.invoices.models import Invoice, InvoicePhoto
from webapp.orders.models import PurchaseOrder


def accepted_po(vendor_id: int, number: str = "7KQ2M4ZD") -> PurchaseOrder:
    """A PO of two Eaches lines that Amazon accepted in full."""
    po = add_po(vendor_id, number, state="Acknowledged")
    for line, quantity, cost in zip(po.lines, (24, 5), ("10.50", "3.99"), strict=True):
        line.ordered_quantity = line.ordered_eaches = line.accepted_eaches = quantity
        line.ordered_unit_of_measure, line.ordered_unit_size = "Eaches", 1
        line.net_cost_amount, line.net_cost_currency = Decimal(cost), "USD"
    db.session.commit()
    return po


def paper_invoice(po: PurchaseOrder, number: str = "INV-2026-00417") -> InvoiceData:
    """The vendor's paper invoice for `po`: its lines, quantities and costs, no tax."""
    return InvoiceData(
        vendor="Acme Kitchenware Co., Ltd.", invoice_number=number,
        invoice_date=vendor_today(po.vendor_id), date_format="%Y-%m-%d",
        purchase_order_number=po.po_number, currency="USD", symbol="$",
        tax_rate=Decimal("0"),
        lines=[InvoiceLineData(line.asin, "Ceramic Mug Set of 4", line.ordered_quantity,
                               line.net_cost_amount) for line in po.lines])


def upload(client, files: list[tuple[bytes, str]], po: str | None = None, **kw):
    data = {"file": [(io.BytesIO(b), name) for b, name in files]}
    if po:
        data["po"] = po
    return post(client, "/invoices/capture", data, token_from="/invoices/capture",
                content_type="multipart/form-data", **kw)


def read_all() -> None:
    """Run the OCR job (the same function the media worker runs) for every queued photo."""
    from worker.media_jobs import read_invoice_photo

    for photo_id in db.session.scalars(select(InvoicePhoto.id)
                                       .where(InvoicePhoto.ocr_state == "queued")).all():
        read_invoice_photo(photo_id)
    db.session.expire_all()


def field_block(html: str, name: str) -> str:
    match = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>', html, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def test_no_js_upload_prefills_form_checks_and_submits_once(app, client):
    user = sign_in(client, role="finance")
    po = accepted_po(user.vendor_id)
    paper = paper_invoice(po)
    r = upload(client, [(render_invoice(paper, "photo"), "IMG_0001.jpg")], po=po.po_number)
    assert r.status_code == 302 and "/invoices/scan?" in r.location
    waiting = client.get(r.location).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and "data-reading" in waiting

    read_all()
    ready = client.get(r.location).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in ready
    photo_id = db.session.scalar(select(InvoicePhoto.id))
    r = post(client, "/invoices/scan", {"photo": [str(photo_id)], "po": po.po_number},
             token_from=r.location)
    assert r.status_code == 302
    invoice = db.session.scalar(select(Invoice))
    assert r.location.endswith(f"/invoices/{invoice.id}")

    form = client.get(r.location).get_data(as_text=True)
    number = field_block(form, "invoice_number")
    assert f'value="{paper.invoice_number}"' in number and "data-confidence" in number
    assert paper.total == Decimal("271.95")  # 24 x 10.50 + 5 x 3.99
    assert 'value="271.95"' in field_block(form, "total_amount")
    assert "data-preflight-ok" in form
    assert f'src="/invoices/photos/{photo_id}/thumbnail"' in form

    # A wrong total is shown next to the total, in plain words, and nothing is sent.
    fields = {"invoice_number": paper.invoice_number, "invoice_date": str(paper.invoice_date),
              "currency": "USD", "total_amount": "272.95", "tax_amount": "",
              "charges_amount": "", "allowances_amount": "", "invoice_type": "Invoice",
              "lines[0].quantity": "24", "lines[0].unit_cost": "10.50",
              "lines[1].quantity": "5", "lines[1].unit_cost": "3.99",
              "submit_key": "k1", "action": "submit"}
    r = post(client, f"/invoices/{invoice.id}", fields, token_from=f"/invoices/{invoice.id}")
    assert r.status_code == 422
    total = field_block(r.get_data(as_text=True), "total_amount")
    assert 'data-problem="total_mismatch"' in total and "271.95" in total
    assert 'value="272.95"' in total  # what the user typed stays
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    # A quantity above what Amazon accepted is shown on its line.
    r = post(client, f"/invoices/{invoice.id}", {**fields, "total_amount": "275.94",
                                                  "lines[1].quantity": "6", "action": "save"},
             token_from=f"/invoices/{invoice.id}")
    html = r.get_data(as_text=True)
    assert 'data-line-problem="2"' in html and "Amazon accepted 5" in html

    fields.update({"total_amount": "271.95", "lines[1].quantity": "5"})
    r = post(client, f"/invoices/{invoice.id}", fields, token_from=f"/invoices/{invoice.id}")
    assert r.status_code == 302
    post(client, f"/invoices/{invoice.id}", fields, token_from="/invoices/")  # a double tap
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "pending"
    assert db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.kind == "invoice")) == 1
    detail = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert 'data-invoice-status="pending"' in detail and "data-invoice-form" not in detail
    listing = client.get("/invoices/").get_data(as_text=True)
    assert paper.invoice_number in listing and po.po_number in listing
    assert "271.95 USD" in listing and 'data-invoice-status="pending"' in listing


def test_scan_without_po_suggests_the_po_printed_on_the_invoice(app, client):
    user = sign_in(client, role="manager")
    po = accepted_po(user.vendor_id, "9XRT4PLM")
    accepted_po(user.vendor_id, "9XRT4PLN")
    r = upload(client, [(render_invoice(paper_invoice(po, "SI-88412"), "clean"), "scan.jpg")])
    assert r.status_code == 302
    read_all()
    html = client.get(r.location).get_data(as_text=True)
    assert 'value="9XRT4PLM"' in html and 'data-po="9XRT4PLM"' in html
    assert 'data-po="9XRT4PLN"' not in html  # the suggestion is the number read, not a prefix
    photo_id = db.session.scalar(select(InvoicePhoto.id))
    # A number that is no PO of this vendor sends the user back to the search.
    r = post(client, "/invoices/scan", {"photo": [str(photo_id)], "po": "NOPE0000"},
             token_from=r.location)
    assert r.status_code == 302 and "/invoices/scan?" in r.location
    r = post(client, "/invoices/scan", {"photo": [str(photo_id)], "po": "9XRT4PLM"},
             token_from=r.location)
    invoice = db.session.scalar(select(Invoice))
    assert invoice.purchase_order_id == po.id and invoice.invoice_number == "SI-88412"


def test_refused_upload_stores_nothing_and_says_why(app, client):
    user = sign_in(client, role="manager")
    po = accepted_po(user.vendor_id)
    good = render_invoice(paper_invoice(po), "clean")
    r = upload(client, [(good, "page1.jpg"), (b"<html><script>alert(1)</script>", "page2.jpg")],
               po=po.po_number)
    assert r.status_code == 415
    assert 'class="flash flash-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(InvoicePhoto.id))) == 0
    r = post(client, "/invoices/capture", {}, token_from="/invoices/capture")
    assert r.status_code == 422


def test_unreadable_value_is_shown_next_to_its_field_as_typed(app, client):
    user = sign_in(client, role="manager")
    po = accepted_po(user.vendor_id)
    r = upload(client, [(render_invoice(paper_invoice(po), "clean"), "a.jpg")], po=po.po_number)
    read_all()
    photo_id = db.session.scalar(select(InvoicePhoto.id))
    post(client, "/invoices/scan", {"photo": [str(photo_id)], "po": po.po_number},
         token_from=r.location)
    invoice = db.session.scalar(select(Invoice))
    r = post(client, f"/invoices/{invoice.id}",
             {"tax_amount": "twelve", "currency": "USD", "action": "save", "submit_key": "x"},
             token_from=f"/invoices/{invoice.id}")
    assert r.status_code == 422
    tax = field_block(r.get_data(as_text=True), "tax_amount")
    assert 'value="twelve"' in tax and "is not an amount" in tax and 'aria-invalid="true"' in tax


def test_roles_viewers_read_but_never_capture_or_submit(app, client):
    vendor = make_vendor("Roles Co")
    manager = app.test_client()
    sign_in(manager, role="manager", vendor=vendor)
    po = accepted_po(vendor.id)
    r = upload(manager, [(render_invoice(paper_invoice(po), "clean"), "a.jpg")], po=po.po_number)
    read_all()
    photo_id = db.session.scalar(select(InvoicePhoto.id))
    post(manager, "/invoices/scan", {"photo": [str(photo_id)], "po": po.po_number},
         token_from=r.location)
    invoice = db.session.scalar(select(Invoice))
    assert 'data-action="add-invoice"' in manager.get(f"/orders/{po.po_number}").get_data(
        as_text=True)

    sign_in(client, role="viewer", vendor=vendor)
    listing = client.get("/invoices/").get_data(as_text=True)
    assert f'data-invoice="{invoice.id}"' in listing
    assert 'data-action="scan-invoice"' not in listing
    detail = client.get(f"/invoices/{invoice.id}")
    assert detail.status_code == 200
    assert "data-invoice-form" not in detail.get_data(as_text=True)
    assert 'data-action="add-invoice"' not in client.get(f"/orders/{po.po_number}").get_data(
        as_text=True)
    assert client.get("/invoices/capture").status_code == 403
    assert client.get(f"/invoices/scan?photo={photo_id}").status_code == 403
    token_page = "/invoices/"
    assert post(client, "/invoices/capture", {}, token_from=token_page).status_code == 403
    assert post(client, "/invoices/scan", {"photo": str(photo_id), "po": po.po_number},
                token_from=token_page).status_code == 403
    assert post(client, f"/invoices/{invoice.id}", {"action": "submit", "submit_key": "v"},
                token_from=token_page).status_code == 403
    assert client.get(f"/invoices/photos/{photo_id}/thumbnail").status_code == 200

    finance = app.test_client()
    sign_in(finance, role="finance", vendor=vendor)
    assert finance.get("/invoices/capture").status_code == 200
    assert "data-invoice-form" in finance.get(f"/invoices/{invoice.id}").get_data(as_text=True)


def test_another_vendors_invoice_po_and_photos_are_not_found(app, client):
    other, _secret = make_user(make_vendor("Other Co"), role="manager")
    po = accepted_po(other.vendor_id, "OTHER001")
    invoice = Invoice(vendor_id=other.vendor_id, purchase_order_id=po.id, currency="USD",
                      invoice_number="X-1")
    db.session.add(invoice)
    db.session.commit()
    photo = InvoicePhoto(vendor_id=other.vendor_id, storage_key="k/1", content_type="image/jpeg",
                         size_bytes=1, sha256="0" * 64)
    db.session.add(photo)
    db.session.commit()
    sign_in(client, role="admin")
    assert client.get(f"/invoices/{invoice.id}").status_code == 404
    assert client.get("/invoices/capture?po=OTHER001").status_code == 404
    assert client.get(f"/invoices/scan?photo={photo.id}").status_code == 404
    r = post(client, "/invoices/scan", {"photo": str(photo.id), "po": "OTHER001"},
             token_from="/invoices/")
    assert r.status_code == 404
    assert "X-1" not in client.get("/invoices/").get_data(as_text=True)


def test_capture_page_offers_camera_gallery_and_pdf(app, client):
    user = sign_in(client, role="manager")
    po = accepted_po(user.vendor_id)
    html = client.get(f"/invoices/capture?po={po.po_number}").get_data(as_text=True)
    assert 'accept="image/*" capture="environment" multiple' in html
    assert 'accept="image/*,application/pdf" multiple' in html
    assert 'enctype="multipart/form-data"' in html and re.search(r"/static/capture\.\S*js", html)
    assert f'name="po" value="{po.po_number}"' in html
    assert "/static/capture." not in client.get("/invoices/").get_data(as_text=True)


def test_list_filters_by_status_and_pages_through_every_invoice(app, client):
    user = sign_in(client, role="viewer")
    po = accepted_po(user.vendor_id)
    for n in range(53):
        db.session.add(Invoice(vendor_id=user.vendor_id, purchase_order_id=po.id,
                               invoice_number=f"N-{n:03d}", currency="USD",
                               total_amount=Decimal("12.5"),
                               status="failed" if n % 10 == 0 else "accepted"))
    db.session.commit()
    seen, url = [], "/invoices/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"<strong>(N-\d{3})</strong>", html)
        more = re.search(r'href="([^"]+)" rel="next"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert sorted(seen) == [f"N-{n:03d}" for n in range(53)] and len(seen) == 53
    assert "12.50 USD" in html
    failed = client.get("/invoices/?status=failed").get_data(as_text=True)
    assert re.findall(r"<strong>(N-\d{3})</strong>", failed) == [
        f"N-{n:03d}" for n in (50, 40, 30, 20, 10, 0)]
    assert 'data-action="scan-invoice"' not in failed  # viewers do not capture
