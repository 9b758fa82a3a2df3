"""Shipment jobs: remind about ship dates passed without an ASN; settle receipts (queue "sync")."""

from __future__ import annotations

from webapp.shipments import asn, receipts


def check_shipments() -> dict:
    """Raise overdue-ASN reminders; judge shortages whose receiving grace period ran out."""
    return {"overdue_reminders": asn.raise_overdue_reminders(),
            "settled": receipts.settle_all()}
