"""Render an untrusted PDF's pages to images with PDFium; the PDF itself is never kept."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pypdfium2 as pdfium
from flask_babel import gettext as _
from PIL import Image

from webapp.media.errors import UploadRefused, UploadTooLarge

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# PDFium is not thread-safe: one render at a time per process (gunicorn threads included).
_PDFIUM_LOCK = threading.Lock()
MAX_RENDER_SCALE = 300 / 72  # never above 300 dpi, even for a tiny page


def is_pdf(data: bytes) -> bool:
    """Tell whether `data` starts as a PDF (the header must be first: no HTML/PDF prefixes)."""
    return data.startswith(PDF_MAGIC)


def render_pages(data: bytes, *, max_pages: int, max_page_points: float,
                 long_side: int) -> Iterator[Image.Image]:
    """Yield each page as an RGB image whose long side is about `long_side` pixels.

    Forms and scripts are never initialised (no `init_forms`), so nothing in the PDF runs.
    Pages are rendered one at a time, holding the process-wide PDFium lock while iterating.
    """
    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            log.info("upload refused: PDF does not open (%s)", exc)
            if "password" in str(exc).lower():
                raise UploadRefused("encrypted_pdf", _(
                    "This PDF is protected by a password. Upload it without the password, "
                    "or take a photo of the invoice.")) from exc
            raise UploadRefused("corrupt_pdf", _(
                "This PDF is damaged and cannot be read.")) from exc
        try:
            pages = len(doc)
            if pages < 1:
                raise UploadRefused("corrupt_pdf", _("This PDF has no pages."))
            if pages > max_pages:
                raise UploadTooLarge("too_many_pages", _(
                    "This PDF has %(pages)s pages; at most %(limit)s are accepted.",
                    pages=pages, limit=max_pages))
            for index in range(pages):
                yield _render(doc, index, max_page_points, long_side)
        finally:
            doc.close()


def _render(doc: pdfium.PdfDocument, index: int, max_page_points: float,
            long_side: int) -> Image.Image:
    try:
        page = doc[index]
        width, height = page.get_size()
    except pdfium.PdfiumError as exc:
        raise UploadRefused("corrupt_pdf", _("This PDF is damaged and cannot be read.")) from exc
    try:
        if not (0 < width <= max_page_points and 0 < height <= max_page_points):
            raise UploadTooLarge("page_too_large", _(
                "Page %(page)s of this PDF is too large to be an invoice.", page=index + 1))
        scale = min(long_side / max(width, height), MAX_RENDER_SCALE)
        try:
            bitmap = page.render(scale=scale, may_draw_forms=False)
            image = bitmap.to_pil()
        except Exception as exc:  # noqa: BLE001 - PDFium refused to draw a hostile page
            raise UploadRefused("corrupt_pdf", _(
                "This PDF is damaged and cannot be read.")) from exc
        # to_pil() shares the bitmap's memory: copy before the page is closed.
        return image.convert("RGB")
    finally:
        page.close()
