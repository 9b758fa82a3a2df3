"""Serve stored invoice photos and thumbnails to users of the same vendor only."""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from webapp.auth.access import require_permission
from webapp.invoices.models import InvoicePhoto
from webapp.invoices.photos import get_photo_or_404
from webapp.media.storage import MediaNotFound, get_store

bp = Blueprint("invoice_photos", __name__, url_prefix="/invoices/photos")


@bp.get("/<int:photo_id>")
@require_permission("invoice.view")
def photo(photo_id: int):
    """The re-encoded photo (or PDF page)."""
    p = get_photo_or_404(photo_id)
    return _serve(p, p.storage_key, p.content_type, f"invoice-{p.id}")


@bp.get("/<int:photo_id>/thumbnail")
@require_permission("invoice.view")
def thumbnail(photo_id: int):
    """The small JPEG shown in lists."""
    p = get_photo_or_404(photo_id)
    if not p.thumbnail_key:
        abort(404)
    return _serve(p, p.thumbnail_key, "image/jpeg", f"invoice-{p.id}-thumbnail")


def _serve(p: InvoicePhoto, key: str, content_type: str, name: str):
    try:
        stored = get_store().open_for_response(key)
    except MediaNotFound:
        abort(404)
    extension = "png" if content_type == "image/png" else "jpg"
    # The type is the one we encoded (from the row, never sniffed); inline, under our name.
    response = send_file(stored.stream, mimetype=content_type, conditional=False, etag=False,
                         max_age=None)
    response.content_length = stored.size
    response.headers["Content-Disposition"] = f'inline; filename="{name}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Cache-Control: webapp.security makes every signed-in answer "no-store" (beyond private).
    # An image is never a document: nothing in it may run even if a browser were fooled.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
