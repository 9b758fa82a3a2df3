"""Tenant isolation: every query for vendor data goes through these helpers."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from webapp.extensions import db

T = TypeVar("T")


def current_vendor_id() -> int:
    """Return the signed-in user's vendor id, or 404 when nobody is signed in."""
    if not getattr(current_user, "is_authenticated", False):
        abort(404)
    return current_user.vendor_id


def vendor_select(model: type[T], vendor_id: int | None = None) -> Select:
    """SELECT rows of `model` that belong to the (current) vendor."""
    vid = current_vendor_id() if vendor_id is None else vendor_id
    return select(model).where(model.vendor_id == vid)


def get_for_vendor_or_404(model: type[T], *criteria, vendor_id: int | None = None) -> T:
    """Load one object of the vendor matching `criteria`; another vendor's is a 404 too."""
    obj = db.session.scalars(vendor_select(model, vendor_id).where(*criteria).limit(1)).first()
    if obj is None:
        abort(404)
    return obj
