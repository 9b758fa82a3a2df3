"""Decode an untrusted image with Pillow and re-encode its pixels alone (no metadata at all)."""

from __future__ import annotations

import io
import logging

from flask_babel import gettext as _
from PIL import Image, ImageFile, ImageOps

from webapp.media.errors import UploadRefused, UploadTooLarge

log = logging.getLogger(__name__)

# Only these decoders ever see an upload: Pillow can also open formats that are risky or
# useless here (EPS runs Ghostscript, ICO, PSD, FITS ...), so the allow-list is explicit.
DECODERS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP")
# Sources whose pixels are exact: kept exact (PNG); photos and lossy sources become JPEG.
LOSSLESS = frozenset({"PNG", "GIF", "TIFF", "BMP"})
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80

# Never decode half a file: a truncated image must fail, not become a grey half-picture.
ImageFile.LOAD_TRUNCATED_IMAGES = False


def decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Open and fully decode `data` (first frame), refusing bombs; return (image, format)."""
    try:
        img = Image.open(io.BytesIO(data), formats=DECODERS)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Image.UnidentifiedImageError as exc:
        raise UploadRefused("unsupported_type", _(
            "This file is not a photo or a PDF. Upload a JPEG, PNG, WebP, GIF, TIFF or BMP "
            "image, or a PDF.")) from exc
    except Exception as exc:  # noqa: BLE001 - any decoder failure on hostile input is a refusal
        raise _corrupt(exc) from exc
    width, height = img.size
    # Checked from the header, before a single pixel is decoded.
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    try:
        img.seek(0)
        img.load()
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt or malicious pixel data
        raise _corrupt(exc) from exc
    return img, img.format or "?"


def normalize(img: Image.Image, max_long_side: int) -> Image.Image:
    """Apply EXIF orientation, flatten to RGB or L, bound the size; return a metadata-free copy."""
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - malformed EXIF: keep the pixels as stored
        log.info("upload has unreadable EXIF orientation; kept as stored")
    img = _to_rgb_or_l(img)
    if max(img.size) > max_long_side:
        img.thumbnail((max_long_side, max_long_side), Image.Resampling.LANCZOS)
    # A new image from raw pixels carries no EXIF, GPS, ICC, XMP or text chunk of the source.
    return Image.frombytes(img.mode, img.size, img.tobytes())


def encode(img: Image.Image, source_format: str) -> tuple[bytes, str]:
    """Encode a normalized image: PNG for lossless sources, JPEG otherwise."""
    out = io.BytesIO()
    if source_format in LOSSLESS:
        img.save(out, format="PNG", optimize=False, compress_level=6)
        return out.getvalue(), "image/png"
    img.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"


def thumbnail(img: Image.Image, size: int) -> bytes:
    """A small JPEG of a normalized image, for lists."""
    small = img.copy()
    small.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def _to_rgb_or_l(img: Image.Image) -> Image.Image:
    """Bring any decoded mode to 8-bit RGB or L; transparency is flattened onto white."""
    mode = img.mode
    if mode in ("RGB", "L"):
        return img
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grey: scale to 8 bits (a plain convert would clip everything above 255).
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "1":
        return img.convert("L")
    if mode == "P":
        mode = "RGBA" if "transparency" in img.info else "RGB"
        img = img.convert(mode)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, F ...


def _too_many_pixels(max_pixels: int) -> UploadTooLarge:
    return UploadTooLarge("too_many_pixels", _(
        "This image has too many pixels (more than %(megapixels)s megapixels).",
        megapixels=max_pixels // 1_000_000))


def _corrupt(exc: Exception) -> UploadRefused:
    log.info("upload refused: image does not decode (%s: %s)", type(exc).__name__, exc)
    return UploadRefused("corrupt_image", _(
        "This image is damaged or incomplete and cannot be read. Take the photo again."))
