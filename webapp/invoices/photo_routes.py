"""Serve stored invoice photos and thumbnails to users of the same vendor only."""

from __future__ import annotations

from flask import Blueprint, abort

from webapp.auth.access import require_permission
from webapp.invoices.photos import get_photo_or_404
from webapp.media.serving import stored_image_response

bp = Blueprint("invoice_photos", __name__, url_prefix="/invoices/photos")


@bp.get("/<int:photo_id>")
@require_permission("invoice.view")
def photo(photo_id: int):
    """The re-encoded photo (or PDF page)."""
    p = get_photo_or_404(photo_id)
    return stored_image_response(p.storage_key, p.content_type, f"invoice-{p.id}")


@bp.get("/<int:photo_id>/thumbnail")
@require_permission("invoice.view")
def thumbnail(photo_id: int):
    """The small JPEG shown in lists."""
    p = get_photo_or_404(photo_id)
    if not p.thumbnail_key:
        abort(404)
    return stored_image_response(p.thumbnail_key, "image/jpeg", f"invoice-{p.id}-thumbnail")

