"""Invoice screens: the list, capture from a PO, the prefilled form, check and submit."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("invoices", __name__, url_prefix="/invoices")
