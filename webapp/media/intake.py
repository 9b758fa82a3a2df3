"""Turn one untrusted upload into clean, re-encoded images, or refuse it with a reason.

The type is decided by decoding (Pillow for images, PDFium for PDFs), never by the file's name
or the Content-Type the client sent. What comes out is our own encoding of the pixels alone:
no EXIF, GPS, ICC profile, text chunk, trailing data or script of the upload survives.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app, has_app_context
from flask_babel import gettext as _

from webapp.media import images, pdf
from webapp.media.errors import UploadRefused, UploadTooLarge

THUMBNAIL_TYPE = "image/jpeg"


@dataclass(frozen=True)
class MediaLimits:
    """Upload limits, from the app config (see config.py, MEDIA_*)."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_long_side: int = 4000
    thumbnail_size: int = 320
    pdf_max_pages: int = 20
    pdf_max_page_points: float = 14_400  # 200 inches: the PDF format's own page limit
    pdf_long_side: int = 2000

    @classmethod
    def from_config(cls) -> MediaLimits:
        """Limits of the current app, or the defaults outside one."""
        if not has_app_context():
            return cls()
        c = current_app.config
        return cls(
            max_bytes=c.get("MAX_CONTENT_LENGTH") or cls.max_bytes,
            max_pixels=c.get("MEDIA_MAX_PIXELS", cls.max_pixels),
            max_long_side=c.get("MEDIA_MAX_LONG_SIDE", cls.max_long_side),
            thumbnail_size=c.get("MEDIA_THUMBNAIL_SIZE", cls.thumbnail_size),
            pdf_max_pages=c.get("MEDIA_PDF_MAX_PAGES", cls.pdf_max_pages),
            pdf_max_page_points=c.get("MEDIA_PDF_MAX_PAGE_POINTS", cls.pdf_max_page_points),
            pdf_long_side=c.get("MEDIA_PDF_LONG_SIDE", cls.pdf_long_side),
        )


@dataclass(frozen=True)
class ProcessedImage:
    """One clean image (a photo, or one page of a PDF) ready to store."""

    data: bytes
    content_type: str  # image/jpeg or image/png
    width: int
    height: int
    thumbnail: bytes  # always image/jpeg
    page_number: int
    source_format: str  # what the upload decoded as: JPEG, PNG, ..., PDF

    @property
    def sha256(self) -> str:
        """Digest of the stored (re-encoded) bytes."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        """File extension of the stored encoding."""
        return "png" if self.content_type == "image/png" else "jpg"


def ingest_upload(upload: bytes | BinaryIO, filename: str | None = None,
                  limits: MediaLimits | None = None) -> list[ProcessedImage]:
    """Decode, check and re-encode an upload; one image per photo, one per PDF page.

    `filename` is the client's name for the file: it never decides anything (type, key, path).
    Raises UploadTooLarge (413) or UploadRefused (415) with a code and a readable message.
    """
    limits = limits or MediaLimits.from_config()
    data = _read_bounded(upload, limits.max_bytes)
    if not data:
        raise UploadRefused("empty", _("The file is empty."))
    if pdf.is_pdf(data):
        pages = pdf.render_pages(data, max_pages=limits.pdf_max_pages,
                                 max_page_points=limits.pdf_max_page_points,
                                 long_side=limits.pdf_long_side)
        return [_finish(page, "PDF", n, limits) for n, page in enumerate(pages, start=1)]
    img, source_format = images.decode(data, limits.max_pixels)
    return [_finish(img, source_format, 1, limits)]


def display_name(filename: str | None, limit: int = 120) -> str | None:
    """The client's file name made safe to show (never used as a path): printable, no dirs."""
    if not filename:
        return None
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "\x00<>\"'`")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:limit] or None


def _finish(img, source_format: str, page_number: int, limits: MediaLimits) -> ProcessedImage:
    clean = images.normalize(img, limits.max_long_side)
    data, content_type = images.encode(clean, source_format)
    return ProcessedImage(data=data, content_type=content_type, width=clean.width,
                          height=clean.height, thumbnail=images.thumbnail(
                              clean, limits.thumbnail_size),
                          page_number=page_number, source_format=source_format)


def _read_bounded(upload: bytes | BinaryIO, max_bytes: int) -> bytes:
    """Read at most `max_bytes`; one byte more means the upload is too large."""
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload)
    else:
        data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadTooLarge("too_large", _(
            "This file is larger than %(megabytes)s MB.", megabytes=max_bytes // (1024 * 1024)))
    return data
