"""Read the plain POST forms of the shipment screens into plan values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from webapp.shipments.plans import Packing, PlanError, PlanLine, Transport


def _int(value, default: int | None = 0) -> int | None:
    value = (value or "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise PlanError(_("Enter whole numbers for quantities and counts.")) from None


def _decimal(value) -> Decimal | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise PlanError(_("Enter weights and sizes as numbers.")) from None
    if not number.is_finite() or number <= 0 or number >= 10**7:
        raise PlanError(_("Weights and sizes must be positive."))
    return number.quantize(Decimal("0.01"))


def local_datetime(value, timezone: str) -> datetime | None:
    """A datetime-local or date field in the vendor's time zone, as aware UTC."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PlanError(_("Enter dates as YYYY-MM-DD HH:MM.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def transport_from(form, timezone: str) -> Transport:
    """Carrier, mode, references and dates from a form."""
    return Transport(
        shipment_type=form.get("shipment_type") or "LessThanTruckLoad",
        transport_mode=form.get("transport_mode") or "Road",
        carrier_scac=(form.get("carrier_scac") or "").strip()[:4] or None,
        bill_of_lading=(form.get("bill_of_lading") or "").strip()[:64] or None,
        tracking_number=(form.get("tracking_number") or "").strip()[:64] or None,
        shipped_at=local_datetime(form.get("shipped_at"), timezone),
        estimated_delivery_at=local_datetime(form.get("estimated_delivery_at"), timezone))


def packing_from(form, line_ids: list[int]) -> Packing:
    """Lines, quantities, packing mode, pallets and carton measurements from a form."""
    lines = []
    for line_id in line_ids:
        quantity = _int(form.get(f"qty-{line_id}"))
        if quantity:
            lines.append(PlanLine(line_id, quantity, _int(form.get(f"per-{line_id}"), None)))
    return Packing(
        mode="mixed" if form.get("mode") == "mixed" else "standard",
        mixed_cartons=_int(form.get("mixed_cartons"), 1) or 1,
        pallets=_int(form.get("pallets"), 0) or 0,
        weight=_decimal(form.get("weight")), weight_unit=form.get("weight_unit") or "Kg",
        length=_decimal(form.get("length")), width=_decimal(form.get("width")),
        height=_decimal(form.get("height")),
        dimension_unit=form.get("dimension_unit") or "In", lines=lines)


def carton_edits_from(form, shipment) -> list:
    """Per carton: on the truck (checkbox), units per content row and weight."""
    from webapp.shipments.correction import CartonEdit

    edits = []
    for carton in shipment.cartons:
        edits.append(CartonEdit(
            carton_id=carton.id, on_truck=form.get(f"ship-{carton.id}") == "yes",
            quantities={c.id: _int(form.get(f"cq-{c.id}"), c.quantity) for c in carton.contents},
            weight=_decimal(form.get(f"w-{carton.id}"))))
    return edits
