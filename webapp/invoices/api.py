"""JSON API for invoice photos: upload (multipart) and poll one photo's OCR state and result."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.api import api_bp
from webapp.api.idempotency import HEADER, idempotent
from webapp.auth.access import require_permission
from webapp.auth.principal import signed_in_user, signed_in_vendor
from webapp.extensions import db
from webapp.invoices.models import InvoicePhoto
from webapp.invoices.photos import (
    find_purchase_order,
    get_photo_or_404,
    queue_ocr_all,
    stage_invoice_photos,
)
from webapp.media.errors import UploadRefused

MAX_FILES = 20


def photo_json(photo: InvoicePhoto) -> dict:
    """A photo as the API shows it (URLs are the same-vendor-only serving views)."""
    po = photo.purchase_order
    return {
        "id": photo.id, "ocrState": photo.ocr_state, "pageNumber": photo.page_number,
        "purchaseOrderNumber": po.po_number if po is not None else None,
        "invoiceId": photo.invoice_id,
        "url": url_for("invoice_photos.photo", photo_id=photo.id),
        "thumbnailUrl": url_for("invoice_photos.thumbnail", photo_id=photo.id),
        "contentType": photo.content_type, "width": photo.width, "height": photo.height,
        "sizeBytes": photo.size_bytes, "sha256": photo.sha256,
        "originalFilename": photo.original_filename,
        "createdAt": photo.created_at.isoformat(),
        "ocrResult": photo.ocr_result, "ocrError": photo.ocr_error,
    }


@api_bp.post("/invoices/photos")
@require_permission("invoice.submit")
def upload_invoice_photos():
    """Store photos (or a PDF) of a paper invoice, re-encoded; queue them for OCR.

    With an `Idempotency-Key` (the app's offline queue sends one per page) a repeat replays
    the first answer instead of storing the pages again; without one each POST stores.
    """
    if HEADER in request.headers:
        return _upload_once()
    body, status, after = _store_upload()
    if status >= 400:
        return jsonify(body), status
    db.session.commit()
    after()
    return jsonify(body), status


def _store_upload():
    """Stage the upload; (body, status, after_commit) for `idempotent`, never committing."""
    files = request.files.getlist("file")
    if not files:
        return _error(400, _('Send the photo or PDF in the multipart field "file".'),
                      "file_required")
    if len(files) > MAX_FILES:
        return _error(413, _("Send at most %(limit)s files at once.", limit=MAX_FILES),
                      "too_many_files")
    purchase_order = None
    number = (request.form.get("purchaseOrderNumber") or "").strip()
    if number:
        purchase_order = find_purchase_order(current_user.vendor_id, number)
        if purchase_order is None:
            return _error(422, _("There is no purchase order %(number)s.", number=number[:64]),
                          "unknown_purchase_order")
    try:
        photos = stage_invoice_photos(signed_in_vendor(), signed_in_user(), files, purchase_order)
    except UploadRefused as exc:
        return _error(exc.status, exc.message, exc.code)
    ids = [photo.id for photo in photos]
    return {"photos": [photo_json(p) for p in photos]}, 201, lambda: queue_ocr_all(ids)


_upload_once = idempotent(_store_upload)


def _error(status: int, message: str, code: str):
    return {"error": {"code": code, "message": message}}, status, None


@api_bp.get("/invoices/photos/<int:photo_id>")
@require_permission("invoice.view")
def get_invoice_photo(photo_id: int):
    """One photo: its OCR state and, once read, the OCR result (the screens poll this)."""
    return jsonify(photo_json(get_photo_or_404(photo_id)))


_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_NULL_STR = {"type": ["string", "null"]}
_PHOTO = {"type": "object", "required": ["id", "ocrState", "pageNumber", "purchaseOrderNumber",
                                          "thumbnailUrl", "url"],
          "properties": {
              "id": {"type": "integer"},
              "ocrState": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
              "pageNumber": {"type": "integer", "minimum": 1},
              "purchaseOrderNumber": _NULL_STR, "invoiceId": {"type": ["integer", "null"]},
              "url": {"type": "string"}, "thumbnailUrl": {"type": "string"},
              "contentType": {"type": "string", "enum": ["image/jpeg", "image/png"]},
              "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
              "sizeBytes": {"type": "integer"}, "sha256": {"type": "string"},
              "originalFilename": _NULL_STR, "createdAt": {"type": "string",
                                                           "format": "date-time"},
              "ocrResult": {"type": ["object", "null"],
                            "description": "Fields read by OCR, each with its confidence"},
              "ocrError": _NULL_STR}}

# Paths relative to the server URL /api/v1; webapp.api.routes.openapi merges them.
INVOICE_PHOTO_OPENAPI_PATHS = {
    "/invoices/photos": {"post": {
        "operationId": "uploadInvoicePhotos", "tags": ["invoices"],
        "summary": "Upload photos or a PDF of a paper invoice; each is re-encoded and queued "
                   "for OCR",
        "description": "Multipart field `file` (repeatable: pages in that order). The type is "
                       "decided by decoding: JPEG, PNG, WebP, GIF, TIFF, BMP or PDF (one photo "
                       "per page). Metadata (EXIF, GPS) is removed, orientation applied. "
                       "`Idempotency-Key` is optional here (plain API clients may leave it "
                       "out; each such POST stores its pages): when sent, a repeat with the "
                       "same key and body replays the first answer (the same photo ids, header "
                       "`Idempotent-Replayed: true`) and stores nothing; the same key with "
                       "another body is 422 `idempotency_key_reused`; concurrent repeats store "
                       "once. Send one key per upload, e.g. a stored id per queued page.",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"},
                "purchaseOrderNumber": {"type": "string", "maxLength": 64}}}}}},
        "responses": {
            "201": {"description": "Stored and queued for OCR (or, with header "
                               "`Idempotent-Replayed`, the first answer to this key)",
                    "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["photos"],
                    "properties": {"photos": {"type": "array", "items": _PHOTO}}}}}},
            "400": {"description": "No file, or malformed input", **_ERROR},
            "401": {"description": "Not signed in", **_ERROR},
            "403": {"description": "Not allowed", **_ERROR},
            "413": {"description": "Too large: bytes, pixels, pages or page size", **_ERROR},
            "415": {"description": "Not an image or PDF, or damaged", **_ERROR},
            "409": {"description": "A request with this Idempotency-Key is still running",
                    **_ERROR},
            "422": {"description": "Unknown purchase order, or the Idempotency-Key was used "
                                   "with another body", **_ERROR}}}},
    "/invoices/photos/{photoId}": {"get": {
        "operationId": "getInvoicePhoto", "tags": ["invoices"],
        "summary": "One invoice photo: OCR state and result",
        "parameters": [{"name": "photoId", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1,
                                   "maximum": 2**31 - 1}}],
        "responses": {
            "200": {"description": "The photo", "content": {
                "application/json": {"schema": _PHOTO}}},
            "401": {"description": "Not signed in", **_ERROR},
            "404": {"description": "No such photo for this vendor", **_ERROR}}}},
}
