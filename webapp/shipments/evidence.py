"""Dispatch evidence: photos of the loaded truck, pallet labels and the signed bill of lading."""

from __future__ import annotations

from typing import BinaryIO

from webapp.extensions import db
from webapp.media.intake import ingest_upload
from webapp.media.staging import put_staged
from webapp.media.storage import get_store, new_key
from webapp.shipments.models import Shipment, ShipmentPhoto

PHOTO_KINDS = ("truck", "pallet_label", "bol", "other")


def add_photos(shipment: Shipment, upload: bytes | BinaryIO, kind: str, *,
               filename: str | None = None, user_id: int | None = None) -> list[ShipmentPhoto]:
    """Re-encode an upload (a photo, or each page of a PDF) and attach it (caller commits).

    Raises webapp.media.errors.UploadRefused for anything that is not a usable image or PDF.
    The files stay only if the caller's transaction commits (webapp.media.staging).
    """
    if kind not in PHOTO_KINDS:
        kind = "other"
    files, photos = [], []
    for image in ingest_upload(upload, filename):
        key = new_key("shipments", shipment.vendor_id, image.content_type)
        files.append((key, image.data, image.content_type))
        photo = ShipmentPhoto(vendor_id=shipment.vendor_id, shipment_id=shipment.id, kind=kind,
                              storage_key=key, content_type=image.content_type,
                              width=image.width, height=image.height,
                              size_bytes=len(image.data), sha256=image.sha256,
                              uploaded_by_id=user_id)
        db.session.add(photo)
        photos.append(photo)
    put_staged(get_store(), files)
    db.session.flush()
    return photos


def photo_bytes(photo: ShipmentPhoto) -> bytes:
    """The stored (clean) bytes of a photo."""
    return get_store().read(photo.storage_key)
