"""Media jobs (queue "media"): read an invoice photo with OCR; re-queue reads cut off by a crash."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from rq import get_current_job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.invoices import ocr
from webapp.invoices.extraction import extract_invoice_fields
from webapp.invoices.models import InvoicePhoto
from webapp.invoices.reading import confusion_pattern, match_identifier, normalize_po
from webapp.media.storage import MediaNotFound, get_store
from webapp.orders.models import PurchaseOrder, PurchaseOrderLine
from worker.queues import MEDIA, enqueue, get_queue

log = logging.getLogger(__name__)

# A photo whose reading killed its worker this many times is given up on, not retried forever.
MAX_ATTEMPTS = 3
# Known PO numbers compared one by one when no confusion variant of the read number exists.
RECENT_POS = 2000


def read_invoice_photo(photo_id: int) -> dict:
    """OCR one photo: running -> done (ocr_result) or failed (ocr_error); done ones stay done."""
    job = get_current_job()
    job_id = job.id if job else None
    photo = db.session.get(InvoicePhoto, photo_id)
    if photo is None:
        return {"photo": photo_id, "state": "missing"}
    attempt = _claim(photo, job_id)
    if attempt is None:
        return {"photo": photo_id, "state": photo.ocr_state, "skipped": True}
    if attempt > MAX_ATTEMPTS:
        return _finish(photo, attempt, error=f"Reading stopped {MAX_ATTEMPTS} times; given up.")
    try:
        data = get_store().read(photo.storage_key)
        started = time.perf_counter()
        lines = ocr.read_text(data)
    except (ocr.UnreadableImage, MediaNotFound) as exc:
        return _finish(photo, attempt, error=str(exc))
    except Exception as exc:
        # Anything else (a broken model, a bug) must not leave the photo "running" for good.
        log.exception("OCR of invoice photo %s failed", photo_id)
        db.session.rollback()
        return _finish(photo, attempt, error=f"OCR failed: {type(exc).__name__}")
    fields = _extract(photo, lines)
    result = {"fields": fields, "text": [line.as_dict() for line in lines],
              "engine": ocr.engine_name(), "seconds": round(time.perf_counter() - started, 3),
              "attempt": attempt}
    return _finish(photo, attempt, result=result)


def _claim(photo: InvoicePhoto, job_id: str | None) -> int | None:
    """Mark the photo running for this job and return the attempt number; None to skip it."""
    db.session.refresh(photo, with_for_update=True)
    lease = (photo.ocr_result or {}) if photo.ocr_state == "running" else {}
    if photo.ocr_state in ("done", "failed"):
        db.session.rollback()
        return None
    # "running" is taken over when this same job runs again (its last run died), or when the
    # job holding it is gone from RQ or older than any live run could be.
    if photo.ocr_state == "running" and lease.get("job") != job_id and _lease_alive(lease):
        db.session.rollback()
        return None
    attempt = int(lease.get("attempt") or 0) + 1
    photo.ocr_state = "running"
    photo.ocr_error = None
    photo.ocr_result = {"attempt": attempt, "job": job_id, "started_at": utcnow().isoformat()}
    db.session.commit()
    return attempt


def _lease_alive(lease: dict, now: datetime | None = None) -> bool:
    """Whether the run that marked a photo "running" may still be reading it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        started = datetime.fromisoformat(lease["started_at"])
    except (KeyError, TypeError, ValueError):
        return False
    # RQ kills a work horse at the job timeout: a lease older than that is dead for sure.
    limit = timedelta(seconds=current_app.config["JOB_TIMEOUT_SECONDS"] + 60)
    if started < (now or utcnow()) - limit or not lease.get("job"):
        return False
    try:
        status = Job.fetch(lease["job"], connection=get_queue(MEDIA).connection,
                           serializer=JSONSerializer).get_status(refresh=True)
    except NoSuchJobError:
        return False
    return status in ("queued", "started", "deferred", "scheduled")


def _finish(photo: InvoicePhoto, attempt: int, *, result: dict | None = None,
            error: str | None = None) -> dict:
    """Write the outcome unless another run has taken the photo over meanwhile."""
    db.session.refresh(photo, with_for_update=True)
    lease = photo.ocr_result or {}
    if photo.ocr_state != "running" or lease.get("attempt") != attempt:
        db.session.rollback()
        return {"photo": photo.id, "state": photo.ocr_state, "superseded": True}
    if error is not None:
        photo.ocr_state, photo.ocr_error = "failed", error[:500]
        photo.ocr_result = {"attempt": attempt, "error": error[:500]}
    else:
        photo.ocr_state, photo.ocr_result = "done", result
    db.session.commit()
    return {"photo": photo.id, "state": photo.ocr_state, "error": photo.ocr_error}


def _extract(photo: InvoicePhoto, lines) -> dict:
    """Fields from the text; PO number and ASINs matched to what the vendor really has."""
    fields = extract_invoice_fields(lines)
    read = fields["purchase_order_number"]["value"]
    known = _known_po_numbers(photo, read)
    if known:
        fields = extract_invoice_fields(lines, known_po_numbers=known)
    number = fields["purchase_order_number"]["value"] or (
        photo.purchase_order.po_number if photo.purchase_order is not None else None)
    if number and fields["lines"]:
        asins = db.session.scalars(
            select(PurchaseOrderLine.asin).join(PurchaseOrder)
            .where(PurchaseOrder.vendor_id == photo.vendor_id, PurchaseOrder.po_number == number,
                   PurchaseOrderLine.asin.is_not(None))).all()
        for line in fields["lines"]:
            matched = match_identifier(line["asin"], asins) if line["asin"] else None
            if matched and matched != line["asin"]:
                line["asin_read"], line["asin"] = line["asin"], matched
    return fields


def _known_po_numbers(photo: InvoicePhoto, read: str | None) -> list[str]:
    """The vendor's PO numbers the read one could be: same but for confusions, else recent."""
    numbers = []
    if photo.purchase_order is not None:
        numbers.append(photo.purchase_order.po_number)
    candidate = normalize_po(read) if read else None
    if candidate:
        base = select(PurchaseOrder.po_number).where(PurchaseOrder.vendor_id == photo.vendor_id)
        # One indexed scan of the vendor's POs: every position OCR may have misread is a "_".
        found = db.session.scalars(
            base.where(PurchaseOrder.po_number.like(confusion_pattern(candidate)))).all()
        if not found:
            found = db.session.scalars(base.order_by(PurchaseOrder.id.desc())
                                       .limit(RECENT_POS)).all()
        numbers += found
    return numbers


def requeue_interrupted_reads() -> list[int]:
    """Queue again the photos left "running" by a worker that died (periodic, idempotent)."""
    now, requeued = utcnow(), []
    photos = db.session.scalars(
        select(InvoicePhoto).where(InvoicePhoto.ocr_state == "running",
                                   InvoicePhoto.created_at > now - timedelta(days=1))
        .order_by(InvoicePhoto.id).limit(500)).all()
    for photo in photos:
        lease = photo.ocr_result or {}
        if _lease_alive(lease, now):
            continue
        attempt = int(lease.get("attempt") or 0)
        enqueue(MEDIA, "worker.media_jobs.read_invoice_photo", photo.id,
                job_id=f"invoice-photo-ocr-{photo.id}-retry{attempt}")
        requeued.append(photo.id)
    db.session.rollback()
    return requeued
