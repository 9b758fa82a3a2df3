"""Shipment screens: ship plans, cartons, labels, ASN, loading scans and dispatch evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from webapp.amazon import outbox
from webapp.amazon.models import OutboxMessage
from webapp.auth.access import require_permission
from webapp.extensions import db
from webapp.media.errors import UploadRefused
from webapp.media.serving import stored_image_response
from webapp.orders.models import PurchaseOrder
from webapp.shipments import asn, correction, evidence, forms, loading, plans, receipts
from webapp.shipments.dispute import dispute_pack
from webapp.shipments.models import Shipment, ShipmentPhoto
from webapp.shipments.plans import PlanError
from webapp.shipments.printing import labels_pdf
from webapp.shipments.scanning import decode_ssccs
from webapp.tenancy import get_for_vendor_or_404, vendor_select
from webapp.vendors.models import Vendor

bp = Blueprint("shipments", __name__, url_prefix="/shipments")

T = TypeVar("T")


def _shipment(shipment_id: int) -> Shipment:
    return get_for_vendor_or_404(Shipment, Shipment.id == shipment_id)


def _vendor() -> Vendor:
    return db.session.get(Vendor, current_user.vendor_id)


def _attempt(action: Callable[[], T], *errors: type[Exception]) -> tuple[bool, T | None]:
    """Run `action` and commit; on one of `errors` roll back and flash its message instead.

    Returns whether it worked, and what `action` returned.
    """
    try:
        result = action()
        db.session.commit()
    except errors as exc:
        db.session.rollback()
        flash(getattr(exc, "message", None) or str(exc), "error")
        return False, None
    return True, result


def _pdf(data: bytes, name: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
@require_permission("shipment.view")
def index():
    """Shipments newest first, with their status."""
    shipments = db.session.scalars(
        vendor_select(Shipment).options(selectinload(Shipment.cartons))
        .order_by(Shipment.id.desc()).limit(200)).all()
    return render_template("shipments/index.html", shipments=shipments)


def _plan_pos() -> list[PurchaseOrder]:
    numbers = [n for n in request.values.getlist("po") if n][:20]
    return [get_for_vendor_or_404(PurchaseOrder, PurchaseOrder.po_number == n) for n in numbers]


def _render_plan(pos: list[PurchaseOrder], status: int = 200):
    vendor_id = current_user.vendor_id
    rooms = plans.line_rooms(vendor_id, pos)
    warehouse = pos[0].ship_to_party_id if pos else None
    others = []
    if warehouse:
        others = [po for po in db.session.scalars(
            vendor_select(PurchaseOrder).where(PurchaseOrder.ship_to_party_id == warehouse,
                                               PurchaseOrder.id.not_in([p.id for p in pos]))
            .order_by(PurchaseOrder.ordered_at.desc()).limit(20)) if plans.acknowledged(po)]
    return render_template("shipments/plan.html", pos=pos, rooms=rooms, others=others,
                           form=request.form, plans=plans), status


@bp.get("/new")
@require_permission("shipment.submit")
def new_plan():
    """The ship-plan form for one or more acknowledged POs to one warehouse."""
    pos = _plan_pos()
    try:
        plans.check_pos(current_user.vendor_id, pos)
    except PlanError as exc:
        flash(str(exc), "error")
        return redirect(url_for("shipments.index"))
    return _render_plan(pos)


@bp.post("/new")
@require_permission("shipment.submit")
def create_plan():
    """Create a draft shipment with cartons, pallets and SSCCs."""
    pos = _plan_pos()
    vendor = _vendor()

    def create() -> Shipment:
        plans.check_pos(vendor.id, pos)
        line_ids = [r.line.id for r in plans.line_rooms(vendor.id, pos)]
        return plans.create_plan(
            vendor, pos, forms.packing_from(request.form, line_ids),
            forms.transport_from(request.form, vendor.timezone), user_id=current_user.id)

    ok, shipment = _attempt(create, PlanError, ValueError)
    if not ok:
        return _render_plan(pos, 422)
    flash(_("Ship plan saved with %(n)s carton(s).", n=len(shipment.cartons)), "success")
    return redirect(url_for("shipments.detail", shipment_id=shipment.id))


@bp.get("/<int:shipment_id>")
@require_permission("shipment.view")
def detail(shipment_id: int):
    """A shipment: items, cartons, transport, loading check, ASN, evidence and receipts."""
    shipment = _shipment(shipment_id)  # read only: receipts are settled when they sync
    message = db.session.get(OutboxMessage, shipment.outbox_id) if shipment.outbox_id else None
    gaps = receipts.item_gaps(shipment)
    return render_template(
        "shipments/detail.html", shipment=shipment, check=loading.load_check(shipment),
        gaps=gaps, short=any(g.gap for g in gaps), message=message,
        problems=asn.submission_problems(shipment) if shipment.editable else [],
        plans=plans, kinds=evidence.PHOTO_KINDS, timezone=_vendor().timezone,
        can_correct=correction.refusal(shipment) is None,
        received_units=sum(g.received or 0 for g in gaps),
        grace_days=receipts.grace().days)


def _render_correct(shipment: Shipment, status: int = 200):
    return render_template("shipments/correct.html", shipment=shipment, form=request.form,
                           refusal=correction.refusal(shipment)), status


@bp.get("/<int:shipment_id>/correct")
@require_permission("shipment.submit")
def correct_page(shipment_id: int):
    """The ASN as sent, editable: cartons, quantities and transport."""
    return _render_correct(_shipment(shipment_id))


@bp.post("/<int:shipment_id>/correct")
@require_permission("shipment.submit")
def correct(shipment_id: int):
    """Send the corrected ASN to Amazon as a Replace of the same shipment identifier."""
    shipment = _shipment(shipment_id)
    ok, message = _attempt(lambda: correction.correct_asn(
        shipment, forms.carton_edits_from(request.form, shipment),
        forms.transport_from(request.form, _vendor().timezone),
        user_id=current_user.id, actor=current_user.email), PlanError, ValueError)
    if not ok:
        return _render_correct(_shipment(shipment_id), 422)
    outbox.request_send(message.id)
    flash(_("Corrected ASN queued for Amazon."), "success")
    return redirect(url_for("shipments.detail", shipment_id=shipment_id))


@bp.post("/<int:shipment_id>/transport")
@require_permission("shipment.submit")
def transport(shipment_id: int):
    """Update carrier, bill of lading, tracking and dates before the ASN goes."""
    shipment = _shipment(shipment_id)
    if _attempt(lambda: plans.set_transport(
            shipment, forms.transport_from(request.form, _vendor().timezone)), PlanError)[0]:
        flash(_("Transport details saved."), "success")
    return redirect(url_for("shipments.detail", shipment_id=shipment.id))


@bp.get("/<int:shipment_id>/labels.pdf")
@require_permission("shipment.view")
def labels(shipment_id: int):
    """The carton and pallet labels, 4x6 inch, one page each."""
    shipment = _shipment(shipment_id)
    return _pdf(labels_pdf(shipment), f"labels-{shipment.shipment_identifier}.pdf")


@bp.get("/<int:shipment_id>/scan")
@require_permission("shipment.submit")
def scan_page(shipment_id: int):
    """The loading check: scan each carton label as it goes on the truck."""
    shipment = _shipment(shipment_id)
    return render_template("shipments/scan.html", shipment=shipment,
                           check=loading.load_check(shipment))


def _scan_codes() -> list[str]:
    photo = request.files.get("photo")
    if photo and photo.filename:
        return decode_ssccs(photo.read())
    return [request.form.get("code", "")]


@bp.post("/<int:shipment_id>/scan")
@require_permission("shipment.submit")
def scan(shipment_id: int):
    """Tick off a typed or detected label, or every label on an uploaded photo."""
    shipment = _shipment(shipment_id)
    wants_json = request.accept_mimetypes.best == "application/json"
    outcomes = []
    try:
        codes = _scan_codes()
        if not codes:
            raise PlanError(_("No carton label was found on the photo."))
        for code in codes:
            outcomes.append(loading.record_scan(shipment, code))
        db.session.commit()
    except (PlanError, UploadRefused) as exc:
        db.session.rollback()
        message = getattr(exc, "message", None) or str(exc)
        if wants_json:
            return jsonify({"error": message}), 422
        flash(message, "error")
        return redirect(url_for("shipments.scan_page", shipment_id=shipment.id))
    check = loading.load_check(shipment)
    texts = {"carton": _("Carton %(sscc)s loaded."), "pallet": _("Pallet %(sscc)s loaded."),
             "repeat": _("%(sscc)s was already scanned."),
             "extra": _("%(sscc)s is NOT in this shipment.")}
    if wants_json:
        return jsonify({"outcomes": [{"outcome": o, "sscc": c, "message": texts[o] % {"sscc": c}}
                                     for o, c in outcomes],
                        "scanned": len(check.scanned), "missing": len(check.missing),
                        "extra": len(check.extra)})
    for outcome, code in outcomes:
        flash(texts[outcome] % {"sscc": code}, "error" if outcome == "extra" else "success")
    return redirect(url_for("shipments.scan_page", shipment_id=shipment.id))


@bp.post("/<int:shipment_id>/scan/clear-extras")
@require_permission("shipment.submit")
def clear_extras(shipment_id: int):
    """The extra cartons were taken off the truck."""
    loading.clear_extras(_shipment(shipment_id))
    db.session.commit()
    return redirect(url_for("shipments.scan_page", shipment_id=shipment_id))


@bp.post("/<int:shipment_id>/scan/reset")
@require_permission("shipment.submit")
def reset_scans(shipment_id: int):
    """Start the loading check again."""
    shipment = _shipment(shipment_id)
    if shipment.editable:
        loading.reset_scans(shipment)
        db.session.commit()
    return redirect(url_for("shipments.scan_page", shipment_id=shipment_id))


@bp.post("/<int:shipment_id>/submit")
@require_permission("shipment.submit")
def submit(shipment_id: int):
    """Send the ASN to Amazon through the outbox."""
    shipment = _shipment(shipment_id)
    ok, message = _attempt(lambda: asn.submit_asn(
        shipment, user_id=current_user.id, actor=current_user.email,
        ship_without=request.form.get("ship_without") == "yes"), PlanError, ValueError)
    if not ok:
        return redirect(url_for("shipments.detail", shipment_id=shipment_id))
    outbox.request_send(message.id)
    flash(_("ASN queued for Amazon."), "success")
    return redirect(url_for("shipments.detail", shipment_id=shipment_id))


@bp.post("/<int:shipment_id>/cancel")
@require_permission("shipment.submit")
def cancel(shipment_id: int):
    """Cancel a draft or failed shipment; its quantities may ship on another."""
    shipment = _shipment(shipment_id)
    if _attempt(lambda: plans.cancel(shipment), PlanError)[0]:
        flash(_("Shipment cancelled."), "success")
    return redirect(url_for("shipments.detail", shipment_id=shipment_id))


@bp.post("/<int:shipment_id>/photos")
@require_permission("shipment.submit")
def upload_photo(shipment_id: int):
    """Attach a photo of the loaded truck, a pallet label or the signed bill of lading."""
    shipment = _shipment(shipment_id)
    upload = request.files.get("photo")
    if not upload or not upload.filename:
        flash(_("Choose a photo first."), "error")
        return redirect(url_for("shipments.detail", shipment_id=shipment_id))
    if _attempt(lambda: evidence.add_photos(
            shipment, upload.stream, request.form.get("kind", "other"),
            filename=upload.filename, user_id=current_user.id), UploadRefused)[0]:
        flash(_("Photo attached."), "success")
    return redirect(url_for("shipments.detail", shipment_id=shipment_id) + "#evidence")


@bp.get("/<int:shipment_id>/photos/<int:photo_id>")
@require_permission("shipment.view")
def photo(shipment_id: int, photo_id: int):
    """One evidence photo, served only to its own vendor."""
    picture = get_for_vendor_or_404(ShipmentPhoto, ShipmentPhoto.id == photo_id,
                                    ShipmentPhoto.shipment_id == shipment_id)
    return stored_image_response(picture.storage_key, picture.content_type,
                                 f"shipment-{shipment_id}-{picture.kind}-{picture.id}")


@bp.get("/<int:shipment_id>/dispute.pdf")
@require_permission("shipment.view")
def dispute(shipment_id: int):
    """The dispute pack: ASN, gaps, cartons and SSCCs, labels, photos, carrier proof."""
    shipment = _shipment(shipment_id)
    if shipment.status in ("draft", "pending", "cancelled"):
        abort(404)
    return _pdf(dispute_pack(shipment), f"dispute-{shipment.shipment_identifier}.pdf")

