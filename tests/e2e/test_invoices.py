"""Phone-sized Chromium: an accepted PO -> Add invoice -> photo -> OCR prefill (a real media
worker) -> submit -> the sandbox receives the invoice exactly once; then offline capture."""
# ruff: noqa: F811 - pytest fixtures imported from tests.amazon_fixtures

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.amazon_fixtures import control, sandbox, start_worker, vendor, worker_env  # noqa: F401
from tests.auth_helpers import make_user
from tests.e2e.test_orders import _accept_all, _sign_in
from tests.invoice_images import InvoiceData, InvoiceLineData, render_invoice
from tests.processes import stop
from webapp.amazon.sync_orders import sync_orders
from webapp.amazon.sync_status import sync_status
from webapp.extensions import db
from webapp.invoices.checks import vendor_today
from webapp.invoices.models import Invoice, InvoicePhoto
from webapp.orders.models import PurchaseOrder

pytestmark = pytest.mark.e2e


def _eaches_only_po() -> PurchaseOrder:
    """A synced PO whose lines are all in Eaches (so the printed quantities are the PO's)."""
    for po in db.session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)):
        if all(line.ordered_unit_of_measure == "Eaches" for line in po.lines):
            return po
    raise AssertionError("the sandbox generated no PO in Eaches only; raise `count`")


def _paper_invoice(po: PurchaseOrder, number: str) -> InvoiceData:
    """The vendor's paper invoice for what Amazon received of `po`, at the acknowledged costs."""
    lines = [InvoiceLineData(line.asin, "Stainless Steel Kettle 1.7L", line.received_eaches,
                             line.net_cost_amount.quantize(Decimal("0.01")))
             for line in po.lines if line.received_eaches]
    assert lines, "the sandbox received nothing of this PO"
    return InvoiceData(vendor="Acme Kitchenware Co., Ltd.", invoice_number=number,
                       invoice_date=vendor_today(po.vendor_id), date_format="%Y-%m-%d",
                       purchase_order_number=po.po_number, currency="USD", symbol="$",
                       tax_rate=Decimal("0"), lines=lines)


def _enlarged(jpeg: bytes, width: int) -> bytes:
    """The same photo at `width` pixels wide, as a bigger phone camera takes it."""
    image = Image.open(io.BytesIO(jpeg))
    big = image.resize((width, round(image.height * width / image.width)))
    out = io.BytesIO()
    big.save(out, "JPEG", quality=92)
    return out.getvalue()


def _invoices(sandbox) -> dict:
    return control(sandbox, "submissions?kind=invoice", method="GET")["counts"]


def test_add_invoice_from_po_photo_prefill_submit_reaches_amazon_once(
        live_server, page, context, app, sandbox, vendor, test_config, tmp_path):
    control(sandbox, "purchase-orders", {"count": 8, "days_back": 0.5, "lines_per_po": [1, 3]})
    sync_orders(vendor.id, now=sandbox.store.now())
    po = _eaches_only_po()
    user, secret = make_user(vendor, role="manager")
    # The media worker reads the photos where the app stored them.
    env = worker_env(test_config, sandbox, tmp_path, MEDIA_DIR=test_config.MEDIA_DIR)
    worker = start_worker(env, "outbox", "media")
    try:
        base = live_server.url
        _sign_in(page, base, user, secret)
        page.goto(f"{base}/orders/{po.po_number}")
        _accept_all(page)
        page.wait_for_selector("[data-po-detail] [data-ack-state=accepted]", timeout=30_000)
        # Weeks later Amazon has received the goods; the vendor invoices what was received.
        control(sandbox, "tick", {"minutes": 60 * 24 * 21})
        sync_status(vendor.id, now=sandbox.store.now())
        db.session.expire_all()
        paper = _paper_invoice(db.session.get(PurchaseOrder, po.id), "INV-2026-00731")

        page.click("[data-action=add-invoice]")
        page.wait_for_selector("[data-capture]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # A 12-megapixel phone photo: the page sends it downscaled to a long side of 2000 px.
        photo_bytes = _enlarged(render_invoice(paper, "photo"), 3000)
        uploads = []
        page.on("request", lambda r: uploads.append(len(r.post_data_buffer or b""))
                if r.method == "POST" and r.url.endswith("/api/v1/invoices/photos") else None)
        page.set_input_files("[data-camera]", files=[{
            "name": "IMG_2231.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes}])
        page.wait_for_selector("[data-pages] [data-page='1'] img")
        page.click("[data-action=upload]")
        page.wait_for_selector("[data-invoice-form]", timeout=60_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # Prefilled by OCR, each read field with its confidence; nothing is wrong.
        assert page.input_value("#invoice_number") == paper.invoice_number
        assert page.input_value("#total_amount") == f"{paper.total:.2f}"
        assert page.locator("[data-field=invoice_number] [data-confidence]").count() == 1
        assert page.locator("[data-preflight-ok]").count() == 1
        assert len(uploads) == 1 and uploads[0] < len(photo_bytes) / 2
        photo = db.session.scalar(select(InvoicePhoto))
        assert max(photo.width, photo.height) == 2000  # downscaled in the browser

        assert _invoices(sandbox).get(paper.invoice_number) is None
        page.click("[data-action=submit]")
        page.wait_for_selector("[data-invoice-status=pending], [data-invoice-status=accepted]")
        for _ in range(60):
            if page.locator("[data-invoice-status=accepted]").count():
                break
            page.wait_for_timeout(500)
            page.reload()
        assert page.locator("[data-invoice-status=accepted]").count() == 1
        assert _invoices(sandbox).get(paper.invoice_number) == 1
        page.goto(f"{base}/invoices/")
        page.wait_for_selector(f"[data-invoice] >> text={paper.invoice_number}")
        assert _invoices(sandbox).get(paper.invoice_number) == 1
        db.session.expire_all()
        assert db.session.scalar(select(Invoice)).status == "accepted"
    finally:
        stop(worker)


def test_capture_offline_queues_pages_and_uploads_them_once_back_online(
        live_server, page, context, app, vendor, test_config):
    user, secret = make_user(vendor, role="finance")
    base = live_server.url
    _sign_in(page, base, user, secret)
    page.goto(f"{base}/invoices/capture")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    image = render_invoice(seed=4)
    page.set_input_files("[data-gallery]", files=[
        {"name": "p1.jpg", "mimeType": "image/jpeg", "buffer": image},
        {"name": "p2.png", "mimeType": "image/png", "buffer": render_invoice(
            seed=5, image_format="PNG")}])
    page.wait_for_selector("[data-pages] [data-page='2']")
    # Reorder with the buttons (focus stays on the moved page's button for keyboards).
    src = page.get_attribute("[data-page='1'] img", "src")
    page.click("[data-page='2'] [data-page-action=up]")
    assert page.get_attribute("[data-page='2'] img", "src") == src
    assert page.evaluate("document.activeElement.closest('[data-page]').dataset.page") == "1"
    # Retake page 2: a fresh camera input replaces that page.
    with page.expect_file_chooser() as chooser:
        page.click("[data-page='2'] [data-page-action=retake]")
    chooser.value.set_files(files=[{"name": "p9.jpg", "mimeType": "image/jpeg",
                                    "buffer": render_invoice(seed=7)}])
    expect(page.locator("[data-page='2'] img")).not_to_have_attribute("src", src)
    # A third page, removed again.
    page.set_input_files("[data-camera]", files=[{"name": "p3.jpg", "mimeType": "image/jpeg",
                                                  "buffer": image}])
    page.wait_for_selector("[data-pages] [data-page='3']")
    page.click("[data-page='3'] [data-page-action=remove]")
    page.wait_for_selector("[data-pages] [data-page='3']", state="detached")

    context.set_offline(True)
    page.click("[data-action=upload]")
    page.wait_for_selector("[data-capture-status][data-state=queued]")
    assert db.session.query(InvoicePhoto).count() == 0
    page.reload()  # the capture page itself comes from the service worker's cache
    page.wait_for_selector("[data-queued-uploads] [data-queued-upload=queued]")
    context.set_offline(False)
    page.wait_for_selector("[data-queued-uploads] [data-queued-upload=uploaded]", timeout=30_000)
    db.session.expire_all()
    photos = db.session.scalars(select(InvoicePhoto).order_by(InvoicePhoto.id)).all()
    assert len(photos) == 2 and all(p.purchase_order_id is None for p in photos)
    assert [p.original_filename for p in photos] == ["p2.jpg", "p9.jpg"]  # as arranged
    assert photos[0].content_type == "image/jpeg"  # the PNG was re-encoded in the browser
    page.reload()  # reading the queue again uploads nothing twice
    page.wait_for_selector("[data-queued-uploads] [data-queued-upload=uploaded]")
    page.wait_for_timeout(1000)
    assert db.session.query(InvoicePhoto).count() == 2
    page.click("[data-queued-uploads] [data-page-action=continue]")
    page.wait_for_url("**/invoices/scan?**")
    assert page.locator("[data-scan-pages] [data-photo]").count() == 2
