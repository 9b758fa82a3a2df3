"""The watchdog: after Amazon accepts an answer, re-read the PO status and compare.

Amazon's transaction status only says the message was well formed; what Amazon recorded per
line comes from getPurchaseOrdersStatus. A disagreement flags the PO (AckState.MISMATCH) and
raises an event, so nobody ships against quantities Amazon does not expect.
"""

from __future__ import annotations

import logging

from webapp.amazon.client import SpApiClient
from webapp.amazon.errors import SpApiError
from webapp.amazon.sync_state import SyncResult
from webapp.amazon.sync_status import ingest_statuses
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders.models import AckCode, Acknowledgement, AckState, PurchaseOrder, eaches
from webapp.vendors.models import Vendor

log = logging.getLogger(__name__)


def sent_confirmed_eaches(ack: Acknowledgement) -> dict[str, int]:
    """Eaches confirmed (accepted or back-ordered) per item sequence number in `ack`."""
    confirmed: dict[str, int] = {}
    for line in ack.lines:
        seq = line.purchase_order_line.item_sequence_number
        confirmed.setdefault(seq, 0)
        if line.code != AckCode.REJECTED.value:
            confirmed[seq] += eaches(line.quantity, line.unit_of_measure, line.unit_size) or 0
    return confirmed


def compare(po: PurchaseOrder, ack: Acknowledgement) -> list[dict]:
    """Lines where Amazon's accepted eaches differ from what was sent (after a status sync)."""
    sent = sent_confirmed_eaches(ack)
    differences = []
    for line in po.lines:
        if line.cancelled:
            continue
        want = sent.get(line.item_sequence_number, 0)  # a line left out counts as rejected
        have = line.accepted_eaches or 0
        if have != want:
            differences.append({"line": line.item_sequence_number, "sent": want,
                                "amazon": have})
    return differences


def verify_acknowledgement(ack_id: int, *, client: SpApiClient | None = None) -> str:
    """Re-read Amazon's status of an accepted answer's PO; flag a mismatch. Return the state."""
    ack = db.session.get(Acknowledgement, ack_id)
    if ack is None or ack.state != AckState.ACCEPTED.value:
        return ack.state if ack else "missing"
    po = db.session.get(PurchaseOrder, ack.purchase_order_id)
    vendor = db.session.get(Vendor, po.vendor_id)
    own = client is None
    client = client or SpApiClient.for_vendor(vendor)
    try:
        data = client.call("getPurchaseOrdersStatus",
                           params={"purchaseOrderNumber": po.po_number, "limit": 1})
    except SpApiError as exc:  # the next status sync or sweep tries again
        log.warning("watchdog could not read %s: %s", po.po_number, exc)
        return "unverified"
    finally:
        if own:
            client.close()
    statuses = ((data or {}).get("payload") or {}).get("ordersStatus") or []
    statuses = [s for s in statuses if s.get("purchaseOrderNumber") == po.po_number]
    if not statuses:
        return "unverified"
    ingest_statuses(vendor, statuses, SyncResult("status", vendor.id))
    db.session.flush()
    db.session.refresh(po)
    if all((line.confirmation_status or "UNCONFIRMED") == "UNCONFIRMED"
           for line in po.lines if not line.cancelled):
        db.session.commit()
        return "unverified"  # Amazon has not recorded any answer yet: look again later
    differences = compare(po, ack)
    if differences:
        ack.state = AckState.MISMATCH.value
        po.ack_state = AckState.MISMATCH.value
        raise_event(po.vendor_id, "ack.mismatch", f"ack:{ack.id}", purchase_order_id=po.id,
                    payload={"acknowledgement_id": ack.id, "lines": differences[:50]})
    db.session.commit()
    return ack.state
