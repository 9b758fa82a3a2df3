"""Label PDFs: 4x6 pages whose GS1-128 barcodes decode back to the same SSCCs; photo decoding."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
import segno
import zxingcpp
from PIL import Image, ImageFilter

from webapp.media.errors import UploadRefused
from webapp.shipments.labels import LabelData, LabelError, LabelParty, render_labels_pdf
from webapp.shipments.scanning import decode_ssccs, ssccs_in_text
from webapp.shipments.sscc import build_sscc, format_sscc

SHIP_FROM = LabelParty("Shenzhen Acorn Trading Co., Ltd.",
                       ("Building 7, 88 Keyuan Road", "Nanshan District, Shenzhen 518057", "CN"))
AMAZON_PARTY = {"partyId": "ABE2", "address": {
    "name": "Amazon.com Services LLC", "addressLine1": "705 Boulder Drive",
    "city": "Breinigsville", "stateOrRegion": "PA", "postalCode": "18031", "countryCode": "US"}}


def _labels(n: int, *, extension: int = 0, kind: str = "carton") -> list[LabelData]:
    to = LabelParty.from_amazon(AMAZON_PARTY)
    return [LabelData(build_sscc(extension, "0614141", 1000 + i), SHIP_FROM, to,
                      ("4Z7X1K2M", "7QX3B9PL"), i, n, kind=kind, company_prefix_length=7,
                      shipment_identifier="SHP-0001", carrier="UPSN", bill_of_lading="BOL-77",
                      contents=("B07XYZ1234 x 24",))
            for i in range(1, n + 1)]


def _pages(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()


def test_every_page_is_4x6_and_decodes_to_its_sscc_as_gs1_128():
    labels = _labels(12) + _labels(2, extension=1, kind="pallet")
    pdf = render_labels_pdf(labels)
    assert pdf.startswith(b"%PDF-")
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == len(labels)
    assert all(doc[i].get_size() == pytest.approx((288, 432)) for i in range(len(doc)))
    doc.close()
    for label, page in zip(labels, _pages(pdf), strict=True):
        results = zxingcpp.read_barcodes(page)
        assert len(results) == 1, label.sscc
        symbol = results[0]
        # ]C1: Code 128 with FNC1 in first position, i.e. a real GS1-128 symbol.
        assert symbol.format == zxingcpp.BarcodeFormat.Code128
        assert symbol.symbology_identifier == "]C1"
        assert symbol.content_type == zxingcpp.ContentType.GS1
        assert symbol.text == f"(00){label.sscc}"


def test_label_text_carries_blocks_pos_and_count():
    label = _labels(3)[1]
    page = pdfium.PdfDocument(render_labels_pdf([label]))[0]
    text = page.get_textpage().get_text_range()
    for expected in ("SHIP FROM", "Shenzhen Acorn Trading", "SHIP TO", "Amazon.com Services LLC",
                     "705 Boulder Drive", "Breinigsville PA 18031", "ABE2", "4Z7X1K2M, 7QX3B9PL",
                     "2 of 3", "CARTON", "UPSN", "BOL-77", format_sscc(label.sscc, 7)):
        assert expected in text, expected


def test_same_labels_give_the_same_bytes():
    assert render_labels_pdf(_labels(2)) == render_labels_pdf(_labels(2))


def test_bad_label_data_is_refused():
    good = _labels(1)[0]
    for bad in (
        [],
        [LabelData(good.sscc[:17] + str((int(good.sscc[17]) + 1) % 10), SHIP_FROM,
                   good.ship_to, ("PO",), 1, 1)],
        [LabelData(good.sscc, SHIP_FROM, good.ship_to, ("PO",), 3, 2)],
        [LabelData(good.sscc, SHIP_FROM, good.ship_to, ("PO",), 1, 1, kind="box")],
    ):
        with pytest.raises(LabelError):
            render_labels_pdf(bad)


def test_long_and_chinese_text_never_breaks_the_barcode():
    to = LabelParty.from_amazon({"partyId": "XYZ9"})
    label = LabelData(build_sscc(0, "0614141", 5), LabelParty("深圳橡果贸易有限公司" * 4,
                      ("南山区科苑路88号",) * 9), to, tuple(f"PO{n:06d}" for n in range(40)), 1, 1,
                      carrier="X" * 80)
    (page,) = _pages(render_labels_pdf([label]))
    assert [r.text for r in zxingcpp.read_barcodes(page)] == [f"(00){label.sscc}"]


def _photo(pdf: bytes, angle: float) -> bytes:
    """Two labels stuck on a brown carton, photographed tilted, unevenly lit, noisy, as JPEG."""
    pages = [p.convert("RGB") for p in _pages(pdf, dpi=200)]
    width, height = pages[0].size
    carton = Image.new("RGB", (2 * width + 300, height + 300), (160, 120, 80))
    carton.paste(pages[0], (100, 150))
    carton.paste(pages[1], (width + 200, 150))
    shot = carton.rotate(angle, expand=True, fillcolor=(90, 70, 50),
                         resample=Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1))
    pixels = np.asarray(shot).astype(np.float32)
    h, w = pixels.shape[:2]
    light = np.linspace(0.6, 1.0, w)[None, :, None] * np.linspace(0.85, 1.0, h)[:, None, None]
    pixels = pixels * light + np.random.default_rng(7).normal(0, 8, pixels.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=60)
    return out.getvalue()


@pytest.mark.parametrize("angle", [-12, 35])
def test_a_photo_of_labels_decodes_through_scanning(app, angle):
    labels = _labels(2)
    found = decode_ssccs(_photo(render_labels_pdf(labels), angle))
    assert sorted(found) == [label.sscc for label in labels]


def test_scanning_reads_the_labels_pdf_itself(app):
    labels = _labels(3)
    assert decode_ssccs(render_labels_pdf(labels)) == [label.sscc for label in labels]


def _symbol(text: str, symbology, scale: int) -> Image.Image:
    return Image.fromarray(np.asarray(zxingcpp.create_barcode(text, symbology).to_image(
        scale=scale)))


def test_scanning_tolerates_datamatrix_qr_and_plain_code128(app):
    in_datamatrix, in_qr, in_code128 = (build_sscc(0, "0614141", n) for n in (77, 78, 79))
    sheet = Image.new("L", (1400, 700), 255)
    sheet.paste(_symbol(f"(00){in_datamatrix}", zxingcpp.BarcodeFormat.DataMatrix, 8), (40, 40))
    sheet.paste(Image.open(_png(segno.make(f"00{in_qr}", micro=False))).convert("L"), (400, 40))
    not_a_label = segno.make("https://example.com/not-a-label", micro=False)
    sheet.paste(Image.open(_png(not_a_label)).convert("L"), (900, 40))
    sheet.paste(_symbol(in_code128, zxingcpp.BarcodeFormat.Code128, 4), (40, 450))
    out = io.BytesIO()
    sheet.save(out, "PNG")
    assert sorted(decode_ssccs(out.getvalue())) == sorted([in_datamatrix, in_qr, in_code128])


def _png(qr) -> io.BytesIO:
    out = io.BytesIO()
    qr.save(out, kind="png", scale=6, border=4)
    out.seek(0)
    return out


def test_ssccs_in_text_reads_gs1_strings_and_refuses_bad_check_digits():
    sscc = build_sscc(0, "0614141", 77)
    wrong = sscc[:17] + str((int(sscc[17]) + 1) % 10)
    assert ssccs_in_text(f"(00){sscc}(420)18031") == [sscc]
    assert ssccs_in_text(f"00{sscc}") == [sscc] and ssccs_in_text(sscc) == [sscc]
    assert ssccs_in_text(wrong) == [] and ssccs_in_text(f"(00){wrong}") == []
    assert ssccs_in_text("(01)09506000134352") == []


def test_scanning_refuses_what_is_not_an_image(app):
    with pytest.raises(UploadRefused):
        decode_ssccs(b"<html>not a photo</html>")
    with pytest.raises(UploadRefused):
        decode_ssccs(b"")
