"""Shipment screens: ship plans, cartons, labels, ASN, loading scans and dispatch evidence."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shipments", __name__, url_prefix="/shipments")
