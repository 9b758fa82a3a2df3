"""Reading invoices: field extraction (no OCR), OCR of rendered photos, and the media job."""

from __future__ import annotations

import importlib
import io
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image

from tests.auth_helpers import make_vendor
from tests.invoice_images import PO_ALPHABET, VARIANTS, random_invoice, render_invoice
from tests.orders_helpers import add_po
from tests.processes import spawn_flask, stop
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.invoices import ocr
from webapp.invoices.extraction import extract_invoice_fields
from webapp.invoices.models import InvoicePhoto
from webapp.invoices.reading import (
    confusion_pattern,
    fix_kinds,
    match_po_number,
    parse_amount,
    parse_date,
    po_distance,
)
from webapp.media.storage import get_store, new_key
from worker.schedule import PERIODIC

SEEDS = (11, 12, 13)

# Pure OCR on images: the database backend plays no part, so CI's PostgreSQL pass skips it.
BACKEND_INDEPENDENT = pytest.mark.backend_independent


def value(fields: dict, name: str):
    return fields[name]["value"]


# --- extraction, without OCR ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Invoice No: INV-2026-00417", "INV-2026-00417"),
    ("InvoiceNo:INV-2026-00417", "INV-2026-00417"),
    ("Invoice # A1043972", "A1043972"),
    ("INV No. SI-88412", "SI-88412"),
    ("Invoice Number 4471203", "4471203"),
    ("发票号码：04471203", "04471203"),
    ("lnvoice No: lNV-2O26-0O417", "INV-2026-00417"),  # I/l/1 and O/0 read for one another
])
def test_invoice_number_label_variants(text, expected):
    fields = extract_invoice_fields(["ACME Ltd.", "INVOICE", text, "Total Due: $10.00"])
    assert value(fields, "invoice_number") == expected
    assert 0.5 < fields["invoice_number"]["confidence"] <= 1


def test_invoice_title_and_dates_are_not_invoice_numbers():
    fields = extract_invoice_fields(["INVOICE", "Invoice Date: 2026-11-20"])
    assert value(fields, "invoice_number") is None
    assert fields["invoice_number"]["confidence"] == 0


@pytest.mark.parametrize("text, expected", [
    ("Invoice Date: 2026-11-20", "2026-11-20"),
    ("Invoice Date: 20/11/2026", "2026-11-20"),
    ("Date: Nov 20, 2026", "2026-11-20"),
    ("InvoiceDate:Nov20,2026", "2026-11-20"),
    ("Date 20 November 2026", "2026-11-20"),
    ("开票日期：2026年11月20日", "2026-11-20"),
    ("Invoice Date: 2026/11/20", "2026-11-20"),
])
def test_dates_in_common_formats(text, expected):
    fields = extract_invoice_fields(["INVOICE", text])
    assert value(fields, "invoice_date") == expected
    assert fields["invoice_date"]["confidence"] > 0.8


def test_day_month_order_unclear_lowers_confidence_and_follows_the_currency():
    euro = extract_invoice_fields(["Invoice Date: 03/04/2026", "Currency: EUR"])
    dollar = extract_invoice_fields(["Invoice Date: 03/04/2026", "Currency: USD"])
    assert value(euro, "invoice_date") == "2026-04-03"
    assert value(dollar, "invoice_date") == "2026-03-04"
    assert euro["invoice_date"]["confidence"] < 0.6
    assert parse_date("on 31/12/2026")[0].isoformat() == "2026-12-31"


@pytest.mark.parametrize("text", ["PO Number: 2JK4LM7Q", "Purchase Order 2JK4LM7Q",
                                  "PO#2JK4LM7Q", "P.O. No. 2JK4LM7Q", "采购订单号：2JK4LM7Q",
                                  "PO Number:2jk4lm7q"])
def test_po_number_label_variants(text):
    fields = extract_invoice_fields(["INVOICE", text])
    assert value(fields, "purchase_order_number") == "2JK4LM7Q"


def test_po_number_must_have_amazons_shape():
    fields = extract_invoice_fields(["PO Box 12345", "Purchase Order: see attached"])
    assert value(fields, "purchase_order_number") is None


def test_po_number_matched_to_the_vendors_known_numbers():
    known = ["2JK4LM7Q", "8RT2ZZ01", "QQ8M1I0A"]
    assert match_po_number("2JK4LM7O", known) == "2JK4LM7Q"  # O/Q confusion
    assert match_po_number("QQ8MlIOA", known) == "QQ8M1I0A"  # l and O read for 1 and 0
    assert match_po_number("ZZZZZZZZ", known) is None  # nothing close
    assert match_po_number("2JK4LM7Q", ["2JK4LM70", "2JK4LM7O"]) is None  # two equally close
    fields = extract_invoice_fields(["PO Number: QQBMlIOA"], known_po_numbers=known)
    assert value(fields, "purchase_order_number") == "QQ8M1I0A"
    assert fields["purchase_order_number"]["read"] == "QQBMIIOA"
    assert confusion_pattern("QQBMIIOA") == "___M___A"


def test_unlabelled_known_po_number_is_found_anywhere():
    fields = extract_invoice_fields(["Ref 8RT2ZZ01 / thank you"], known_po_numbers=["8RT2ZZ01"])
    assert value(fields, "purchase_order_number") == "8RT2ZZ01"


@pytest.mark.parametrize("lines, code", [
    (["Currency: USD"], "USD"), (["Total Due: $12.00"], "USD"), (["Total: €12,00"], "EUR"),
    (["Amount Due £12.00"], "GBP"), (["合计 ¥1,200.00"], "CNY"), (["Total RMB 1,200.00"], "CNY"),
    (["Total Due JPY 1,200"], "JPY"), (["Total Due CA$12.00"], "CAD"), (["币种：CNY"], "CNY"),
])
def test_currency_from_codes_and_signs(lines, code):
    assert value(extract_invoice_fields(lines), "currency") == code


def test_totals_tax_and_subtotal_as_decimal_strings():
    fields = extract_invoice_fields(["Subtotal: $1,000.00", "Tax (8%): $80.00",
                                     "Total Due: $1,080.00"])
    assert (value(fields, "subtotal"), value(fields, "tax_amount"),
            value(fields, "total_amount")) == ("1000.00", "80.00", "1080.00")
    assert all(isinstance(value(fields, n), str) for n in ("subtotal", "tax_amount"))
    # They add up, so all three are sure.
    assert min(fields[n]["confidence"] for n in ("subtotal", "tax_amount", "total_amount")) > 0.98


@pytest.mark.parametrize("lines, total", [
    (["Amount Due 1.234,50 €"], "1234.50"), (["合计：¥12,000.00"], "12000.00"),
    (["Grand Total USD 1,333.26"], "1333.26"), (["TotalDue:$19,O34.94"], "19034.94"),
    (["Balance Due", "ignored"], None), (["Sub-total 5.00", "Total 7.50"], "7.50"),
])
def test_total_label_variants(lines, total):
    assert value(extract_invoice_fields(lines), "total_amount") == total


def test_amount_parsing():
    assert parse_amount("$1,234.50") == Decimal("1234.50")
    assert parse_amount("1.234.567,8") == Decimal("1234567.8")
    assert parse_amount("1,234") == Decimal("1234")
    assert parse_amount("(12.00)") == Decimal("-12.00")
    assert parse_amount("Tax (13%):") is None
    assert fix_kinds("A1O43972") == "A1043972" and fix_kinds("lNV") == "INV"
    assert fix_kinds("SI-2O26-0O4l7") == "SI-2026-00417"


def _row(y: int, cells: list[tuple[int, str]]) -> list[dict]:
    return [{"text": t, "confidence": 0.99,
             "box": [[x, y], [x + 12 * len(t), y], [x + 12 * len(t), y + 24], [x, y + 24]]}
            for x, t in cells]


def test_item_table_lines_with_quantities_and_unit_costs():
    text = (_row(100, [(90, "ASIN"), (330, "Description"), (760, "Qty"), (880, "Unit Cost"),
                       (1050, "Amount")])
            + _row(160, [(90, "B07DFVDRAB"), (330, "Kettle"), (760, "120"), (880, "10.50"),
                         (1050, "1,260.00")])
            + _row(212, [(90, "BO7DFYF5CM"), (330, "Mug"), (760, "5"), (880, "3.99"),
                         (1050, "19.95")])
            + _row(280, [(760, "Subtotal:"), (1000, "$1,279.95")]))
    lines = extract_invoice_fields(text)["lines"]
    assert [(x["asin"], x["quantity"], x["unit_cost"], x["amount"]) for x in lines] == [
        ("B07DFVDRAB", 120, "10.50", "1260.00"), ("B07DFYF5CM", 5, "3.99", "19.95")]
    assert all(x["confidence"] >= 0.95 for x in lines)  # each adds up, and they make the subtotal


def test_nothing_found_gives_none_with_zero_confidence():
    fields = extract_invoice_fields([])
    assert fields["lines"] is None
    assert all(fields[n] == {"value": None, "confidence": 0.0} for n in fields if n != "lines")


# --- OCR of rendered invoices ----------------------------------------------------------------

_read: dict = {}


def read_rendered(seed: int, variant: str) -> dict:
    if (seed, variant) not in _read:
        _read[seed, variant] = extract_invoice_fields(
            ocr.read_text(render_invoice(random_invoice(seed), variant, seed)))
    return _read[seed, variant]


def confusions_only(read: str | None, truth: str) -> bool:
    """Read as printed, up to characters OCR cannot tell apart in this font (O/0, I/1)."""
    return read is not None and len(read) == len(truth) and po_distance(read, truth) < 1


@BACKEND_INDEPENDENT
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", SEEDS)
def test_ocr_reads_invoice_number_po_number_and_total(seed, variant):
    invoice = random_invoice(seed)
    fields = read_rendered(seed, variant)
    assert value(fields, "invoice_number") == invoice.invoice_number
    assert value(fields, "total_amount") == str(invoice.total)
    assert confusions_only(value(fields, "purchase_order_number"), invoice.purchase_order_number)
    # Among 300 of the vendor's PO numbers, the one printed is found.
    decoys = ["".join(random.Random(i).choices(PO_ALPHABET, k=8)) for i in range(299)]
    read = value(fields, "purchase_order_number")
    assert match_po_number(read, [*decoys, invoice.purchase_order_number]) == \
        invoice.purchase_order_number
    assert value(fields, "currency") == invoice.currency
    assert fields["total_amount"]["confidence"] > 0.9


@BACKEND_INDEPENDENT
@pytest.mark.parametrize("seed", SEEDS)
def test_ocr_reads_date_totals_and_lines_of_the_photographed_page(seed):
    invoice = random_invoice(seed)
    fields = read_rendered(seed, "photo")
    if invoice.date_format != "%d/%m/%Y" or invoice.invoice_date.day > 12:
        assert value(fields, "invoice_date") == invoice.invoice_date.isoformat()
    assert value(fields, "subtotal") == str(invoice.subtotal)
    assert value(fields, "tax_amount") == str(invoice.tax)
    lines = fields["lines"]
    assert [(x["quantity"], x["unit_cost"], x["amount"]) for x in lines] == [
        (x.quantity, str(x.unit_cost), str(x.amount)) for x in invoice.lines]
    assert all(confusions_only(x["asin"], y.asin) for x, y in zip(lines, invoice.lines,
                                                                   strict=True))


@BACKEND_INDEPENDENT
def test_huge_image_is_downscaled_and_still_read():
    invoice = random_invoice(SEEDS[0])
    page = Image.open(io.BytesIO(render_invoice(invoice, "clean")))
    out = io.BytesIO()
    page.resize((page.width * 3, page.height * 3)).save(out, "JPEG", quality=85)
    assert max(ocr.load_image(out.getvalue()).size) == ocr.MAX_SIDE
    fields = extract_invoice_fields(ocr.read_text(out.getvalue()))
    assert value(fields, "invoice_number") == invoice.invoice_number
    assert value(fields, "total_amount") == str(invoice.total)


def test_unreadable_bytes_raise_unreadable_image():
    with pytest.raises(ocr.UnreadableImage):
        ocr.read_text(b"<svg onload=alert(1)>")


@BACKEND_INDEPENDENT
def test_engine_is_built_once_per_process():
    assert ocr.get_engine() is ocr.get_engine()


# --- the media job ---------------------------------------------------------------------------

def stored_photo(vendor_id: int, data: bytes, po=None, state: str = "queued") -> InvoicePhoto:
    key = new_key("invoices", vendor_id, "image/jpeg")
    get_store().put(key, data, "image/jpeg")
    photo = InvoicePhoto(vendor_id=vendor_id, storage_key=key, content_type="image/jpeg",
                         size_bytes=len(data), sha256="0" * 64, ocr_state=state,
                         purchase_order_id=po.id if po is not None else None)
    db.session.add(photo)
    db.session.commit()
    return photo


def test_job_reads_a_stored_photo_and_matches_the_vendors_po(app):
    from worker.media_jobs import read_invoice_photo

    vendor = make_vendor("Ningbo Brightway")
    invoice = random_invoice(SEEDS[1])
    po = add_po(vendor.id, number=invoice.purchase_order_number)
    for i in range(30):
        add_po(vendor.id, number="".join(random.Random(i).choices(PO_ALPHABET, k=8)))
    photo = stored_photo(vendor.id, render_invoice(invoice, "photo", SEEDS[1]))
    summary = read_invoice_photo(photo.id)
    db.session.expire_all()
    photo = db.session.get(InvoicePhoto, photo.id)
    assert summary["state"] == photo.ocr_state == "done" and photo.ocr_error is None
    result = photo.ocr_result
    assert result["engine"].startswith("rapidocr-onnxruntime 1.4")
    assert result["seconds"] > 0 and result["text"]
    fields = result["fields"]
    assert fields["invoice_number"]["value"] == invoice.invoice_number
    assert fields["purchase_order_number"]["value"] == po.po_number
    assert fields["total_amount"]["value"] == str(invoice.total)

    again = read_invoice_photo(photo.id)  # done photos are not read again
    assert again["skipped"] and db.session.get(InvoicePhoto, photo.id).ocr_result == result


def test_job_fixes_po_and_asin_confusions_from_the_vendors_data(app):
    from worker.media_jobs import read_invoice_photo

    vendor = make_vendor("Tea Trading")
    po = add_po(vendor.id, number="2O1I0OQ1")  # every character a confusable one
    invoice = random_invoice(3)
    invoice.purchase_order_number = po.po_number
    for line, po_line in zip(invoice.lines, po.lines, strict=False):
        line.asin = po_line.asin
    photo = stored_photo(vendor.id, render_invoice(invoice, "blurred"))
    read_invoice_photo(photo.id)
    db.session.expire_all()
    fields = db.session.get(InvoicePhoto, photo.id).ocr_result["fields"]
    assert fields["purchase_order_number"]["value"] == "2O1I0OQ1"
    assert [x["asin"] for x in fields["lines"][:2]] == [x.asin for x in po.lines]


def test_unreadable_photo_fails_once_with_a_message(app):
    from worker.media_jobs import read_invoice_photo

    vendor = make_vendor()
    photo = stored_photo(vendor.id, b"\xff\xd8\xff\xe0 truncated jpeg")
    assert read_invoice_photo(photo.id)["state"] == "failed"
    db.session.expire_all()
    photo = db.session.get(InvoicePhoto, photo.id)
    assert photo.ocr_state == "failed" and "not a readable image" in photo.ocr_error
    assert read_invoice_photo(photo.id)["skipped"]  # never retried
    assert read_invoice_photo(999999)["state"] == "missing"


def test_photo_left_running_by_a_dead_worker_is_read_again_and_given_up_after_three(app):
    from worker import media_jobs

    vendor = make_vendor()
    photo = stored_photo(vendor.id, render_invoice(seed=5), state="running")
    # A live run (its job still queued in RQ) is left alone.
    live = media_jobs.enqueue("media", "worker.media_jobs.read_invoice_photo", photo.id,
                              job_id="invoice-photo-ocr-live")
    photo.ocr_result = {"attempt": 1, "job": live.id, "started_at": utcnow().isoformat()}
    db.session.commit()
    assert media_jobs.read_invoice_photo(photo.id)["skipped"]
    assert media_jobs.requeue_interrupted_reads() == []
    # Its job gone (the worker died; RQ dropped it): the sweep queues it and it is read.
    live.delete()
    assert media_jobs.requeue_interrupted_reads() == [photo.id]
    assert media_jobs.read_invoice_photo(photo.id)["state"] == "done"
    # A photo that killed its worker three times is given up on.
    photo.ocr_state = "running"
    photo.ocr_result = {"attempt": 3, "job": "gone",
                        "started_at": (utcnow() - timedelta(hours=1)).isoformat()}
    db.session.commit()
    assert media_jobs.read_invoice_photo(photo.id)["state"] == "failed"
    db.session.expire_all()
    assert "given up" in db.session.get(InvoicePhoto, photo.id).ocr_error
    # The sweep runs every minute on the media queue.
    [entry] = [p for p in PERIODIC if p.name == "invoice-photos-interrupted"]
    module, name = entry.func.rsplit(".", 1)
    assert entry.queue == "media"
    assert getattr(importlib.import_module(module), name) is media_jobs.requeue_interrupted_reads


def test_media_worker_process_reads_the_queued_photo(app, test_config):
    from webapp.invoices.photos import queue_ocr

    vendor = make_vendor()
    invoice = random_invoice(7)
    photo = stored_photo(vendor.id, render_invoice(invoice, "rotated", 7))
    assert queue_ocr(photo.id)
    # The real `flask worker` (forking AppWorker): this test process has run onnxruntime
    # already, and a fork of it could not (see ocr.get_engine).
    worker = spawn_flask(["worker", "--queue", "media", "--burst", "--without-scheduler"],
                         test_config)
    try:
        assert worker.wait(240) == 0
    finally:
        stop(worker)
    db.session.expire_all()
    photo = db.session.get(InvoicePhoto, photo.id)
    assert photo.ocr_state == "done", photo.ocr_error
    assert photo.ocr_result["fields"]["invoice_number"]["value"] == invoice.invoice_number


@BACKEND_INDEPENDENT
def test_a_fork_of_a_process_that_ran_ocr_fails_fast_instead_of_hanging():
    import os

    ocr.get_engine()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        try:
            ocr.get_engine()
        except ocr.OcrUnavailable:
            os._exit(0)
        os._exit(1)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_default_worker_of_make_run_serves_the_media_queue(app):
    from worker.main import build_worker

    # webapp/devstack.py starts `flask worker --with-scheduler` with no --queue: every queue.
    assert "media" in build_worker(app).queue_names()
