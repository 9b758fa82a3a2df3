"""Read carton-label SSCCs from a photo (or a PDF) on the server, with zxing-cpp.

For phones whose browser has no BarcodeDetector: the loading screen uploads a photo instead.
The upload goes through the same safe decoding as every other photo (webapp.media: an
allow-list of decoders, pixel-bomb and size limits, EXIF orientation applied).
"""

from __future__ import annotations

import re

import zxingcpp
from flask_babel import gettext as _
from PIL import Image

from webapp.media import images, pdf
from webapp.media.errors import UploadRefused, UploadTooLarge
from webapp.media.intake import MediaLimits
from webapp.shipments.sscc import is_valid_sscc, parse_sscc

# GS1-128 is Code 128; some labels carry the SSCC in a GS1 DataMatrix or QR code instead.
FORMATS = (zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.DataMatrix,
           zxingcpp.BarcodeFormat.QRCode)
# An AI (00) element inside a longer GS1 string such as "(00)...(420)...".
_AI00 = re.compile(r"\(00\)([0-9]{18})")
# Long side of the searched image: a label across a third of a phone photo still has bars
# 3-4 px wide, and each pass stays around a tenth of a second.
SCAN_LONG_SIDE = 2000
EXTRA_TURNS = (30, -30, 60, -60)  # degrees


def decode_ssccs(image_bytes: bytes, limits: MediaLimits | None = None) -> list[str]:
    """Return the valid SSCCs on a photo or PDF of carton labels, once each, top to bottom.

    Raises webapp.media's UploadRefused / UploadTooLarge for input that is not a usable image.
    """
    limits = limits or MediaLimits.from_config()
    if len(image_bytes) > limits.max_bytes:
        raise UploadTooLarge("too_large", _(
            "This file is larger than %(megabytes)s MB.", megabytes=limits.max_bytes // 2**20))
    if not image_bytes:
        raise UploadRefused("empty", _("The file is empty."))
    found: list[str] = []
    for picture in _pictures(image_bytes, limits):
        for code in _decode_picture(picture):
            if code not in found:
                found.append(code)
    return found


def ssccs_in_text(text: str) -> list[str]:
    """The valid SSCCs in one barcode's text: a GS1 string, "00..." or a bare 18 digits."""
    codes = _AI00.findall(text or "")
    if not codes:
        single = parse_sscc(text or "")
        codes = [single] if single else []
    return [code for code in codes if is_valid_sscc(code)]


def _pictures(data: bytes, limits: MediaLimits):
    """Yield the images to search: each page of a PDF, or the one photo."""
    if pdf.is_pdf(data):
        yield from pdf.render_pages(data, max_pages=limits.pdf_max_pages,
                                    max_page_points=limits.pdf_max_page_points,
                                    long_side=SCAN_LONG_SIDE)
        return
    img, _format = images.decode(data, limits.max_pixels)
    yield images.normalize(img, SCAN_LONG_SIDE)


def _decode_picture(img: Image.Image) -> list[str]:
    """Decode every supported symbol in one image, trying harder only while nothing is found.

    A linear code is read along rows and survives about 20 degrees of tilt; a photo taken at
    a steeper angle is straightened by the extra turns (zxing itself adds the 90-degree ones).
    Labels on one stack of cartons share their angle, so the first pass that reads any wins.
    """
    grey = img.convert("L")
    codes = _read(grey, zxingcpp.Binarizer.LocalAverage)
    # Low-contrast photos: a global threshold sometimes sees what the local one misses.
    codes = codes or _read(grey, zxingcpp.Binarizer.GlobalHistogram)
    for angle in EXTRA_TURNS:
        if codes:
            break
        codes = _read(grey.rotate(angle, expand=True, fillcolor=255,
                                  resample=Image.Resampling.BICUBIC),
                      zxingcpp.Binarizer.LocalAverage)
    return codes


def _read(img: Image.Image, binarizer) -> list[str]:
    results = zxingcpp.read_barcodes(img, formats=FORMATS, try_rotate=True, try_downscale=True,
                                     try_invert=True, binarizer=binarizer,
                                     text_mode=zxingcpp.TextMode.HRI)
    codes: list[str] = []
    for result in sorted(results, key=_reading_order):
        codes += [c for c in ssccs_in_text(result.text) if c not in codes]
    return codes


def _reading_order(result) -> tuple[int, int]:
    """Top to bottom, then left to right, by the symbol's centre (coarse 50 px rows)."""
    points = (result.position.top_left, result.position.top_right,
              result.position.bottom_left, result.position.bottom_right)
    x = sum(p.x for p in points) / 4
    y = sum(p.y for p in points) / 4
    return int(y // 50), int(x)
