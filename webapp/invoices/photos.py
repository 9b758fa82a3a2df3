"""Invoice photos: store clean uploads for a vendor, queue them for OCR, re-queue lost ones."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import BinaryIO

from flask import abort
from redis.exceptions import RedisError
from sqlalchemy import select

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.invoices.models import InvoicePhoto
from webapp.media.intake import ProcessedImage, display_name, ingest_upload
from webapp.media.staging import put_staged
from webapp.media.storage import get_store, new_key
from webapp.orders.models import PurchaseOrder
from webapp.tenancy import get_for_vendor_or_404, vendor_select

log = logging.getLogger(__name__)

NAMESPACE = "invoices"
# Written by the OCR side (worker/media_jobs.py): takes a photo id, reads
# get_store().read(photo.storage_key), sets ocr_state running -> done | failed.
OCR_JOB = "worker.media_jobs.read_invoice_photo"
OCR_QUEUE = "media"
# A photo still "queued" this long after upload lost its job (Redis was down or lost data).
STUCK_AFTER = timedelta(minutes=2)
# Past this a photo is left alone: one that never reads must not be retried forever.
SWEEP_MAX_AGE = timedelta(days=1)
SWEEP_BATCH = 500
MAX_ID = 2**31 - 1  # a larger id from a URL would overflow the database's integer


def find_purchase_order(vendor_id: int, number: str) -> PurchaseOrder | None:
    """The vendor's PO with this number, or None."""
    return db.session.scalars(vendor_select(PurchaseOrder, vendor_id)
                              .where(PurchaseOrder.po_number == number).limit(1)).first()


def get_photo_or_404(photo_id: int) -> InvoicePhoto:
    """The signed-in vendor's photo, or 404 (another vendor's too; ids beyond int32 as well)."""
    if not 0 < photo_id <= MAX_ID:
        abort(404)
    return get_for_vendor_or_404(InvoicePhoto, InvoicePhoto.id == photo_id)


def save_invoice_photos(vendor, user, upload, purchase_order: PurchaseOrder | None = None
                        ) -> list[InvoicePhoto]:
    """Store one upload (or a list: pages in that order), commit, then queue OCR.

    If Redis is down the photos stay "queued" and `requeue_stuck_photos` picks them up.
    """
    photos = stage_invoice_photos(vendor, user, upload, purchase_order)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()  # deletes the staged files (webapp.media.staging)
        raise
    queue_ocr_all([photo.id for photo in photos])
    return photos


def stage_invoice_photos(vendor, user, upload, purchase_order: PurchaseOrder | None = None
                         ) -> list[InvoicePhoto]:
    """Check, re-encode and write the files and add their rows, without committing.

    Nothing is written unless every file is accepted: a refusal (webapp.media.errors) raises
    before the first write. The caller commits (then calls `queue_ocr_all`); if its
    transaction rolls back or closes uncommitted instead, the files are deleted, so a file
    never outlives its row.
    """
    uploads = upload if isinstance(upload, list) else [upload]
    if purchase_order is not None and purchase_order.vendor_id != vendor.id:
        raise ValueError("purchase order of another vendor")
    processed: list[tuple[ProcessedImage, str | None]] = []
    for item in uploads:
        data, name = _data_and_name(item)
        processed += [(image, display_name(name)) for image in ingest_upload(data, name)]
    files, photos = [], []
    for page_number, (image, name) in enumerate(processed, start=1):
        key = new_key(NAMESPACE, vendor.id, image.content_type)
        thumb_key = new_key(NAMESPACE, vendor.id, "image/jpeg", suffix="-thumb")
        files += [(key, image.data, image.content_type), (thumb_key, image.thumbnail, "image/jpeg")]
        photo = InvoicePhoto(
            vendor_id=vendor.id, purchase_order_id=purchase_order and purchase_order.id,
            page_number=page_number, storage_key=key, thumbnail_key=thumb_key,
            content_type=image.content_type, width=image.width, height=image.height,
            size_bytes=len(image.data), sha256=image.sha256, original_filename=name,
            ocr_state="queued", uploaded_by_id=user.id if user is not None else None)
        db.session.add(photo)
        photos.append(photo)
    put_staged(get_store(), files)
    db.session.flush()  # ids for the answer; the rows are still uncommitted
    return photos


def queue_ocr_all(photo_ids: list[int]) -> None:
    """Queue OCR for committed photos (call after the commit: the job reads the rows)."""
    for photo_id in photo_ids:
        queue_ocr(photo_id)


def queue_ocr(photo_id: int) -> bool:
    """Queue the OCR job of one photo (once per photo while queued); False if Redis is down."""
    from worker.queues import enqueue

    try:
        enqueue(OCR_QUEUE, OCR_JOB, photo_id, job_id=f"invoice-photo-ocr-{photo_id}")
    except (RedisError, OSError):
        log.warning("OCR of invoice photo %s not queued (Redis unavailable); the sweep will",
                    photo_id, exc_info=True)
        return False
    return True


def requeue_stuck_photos() -> list[int]:
    """Queue OCR again for photos left "queued" past STUCK_AFTER (periodic, idempotent)."""
    now = utcnow()
    ids = db.session.scalars(
        select(InvoicePhoto.id)
        .where(InvoicePhoto.ocr_state == "queued",
               InvoicePhoto.created_at < now - STUCK_AFTER,
               InvoicePhoto.created_at > now - SWEEP_MAX_AGE)
        .order_by(InvoicePhoto.id).limit(SWEEP_BATCH)).all()
    return [photo_id for photo_id in ids if queue_ocr(photo_id)]


def _data_and_name(item) -> tuple[bytes | BinaryIO, str | None]:
    """Accept a werkzeug FileStorage, a (name, stream) pair, bytes or a binary stream."""
    if hasattr(item, "stream") and hasattr(item, "filename"):
        return item.stream, item.filename
    if isinstance(item, tuple):
        return item[1], item[0]
    return item, None

