"""The outbox: every submission to Amazon is written with the user's action, then sent once.

Life of a message: pending -> sending (claimed by one worker with a conditional UPDATE) ->
submitted (Amazon gave a transactionId) -> succeeded | failed. A sender that dies in
`sending` leaves Amazon's side unknown, so the sweep marks it `unknown` instead of resending;
it is resolved by Amazon's own state (an acknowledged PO) or by an explicit user retry.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from webapp.amazon import schemas
from webapp.amazon.ack_payload import build_acknowledgement_payload
from webapp.amazon.client import SpApiClient
from webapp.amazon.errors import SpApiError, SpApiUncertain
from webapp.amazon.models import OutboxMessage, OutboxState
from webapp.amazon.operations import OPERATIONS
from webapp.audit.services import record as audit
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.invoices.models import Invoice
from webapp.orders.models import Acknowledgement, AckState, PurchaseOrder
from webapp.shipments.models import Shipment
from webapp.vendors.models import Vendor

log = logging.getLogger(__name__)

# kind -> (operation, subject type)
KINDS = {
    "acknowledgement": ("submitAcknowledgement", "acknowledgement"),
    "invoice": ("submitInvoices", "invoice"),
    "shipment_confirmation": ("SubmitShipmentConfirmations", "shipment"),
}
# How long a claim may last before the sweep declares the sender dead: the client's worst case.
SENDING_LEASE = timedelta(minutes=5)
RETRY_DELAYS = (30, 120, 600, 1800)  # seconds, for sends Amazon certainly did not process
PERMANENT_STATUSES = frozenset({400, 403, 404, 413, 415})


class OutboxError(ValueError):
    """An outbox action is not allowed in the message's current state."""


def submit_to_amazon(vendor_id: int, kind: str, subject_id: int, payload: dict, *,
                     idempotency_key: str, created_by_id: int | None = None) -> OutboxMessage:
    """Queue `payload` for Amazon in the caller's transaction; the same key returns the first.

    The payload is validated against Amazon's model now, so a bad body fails the user's
    action instead of failing later in a worker.
    """
    if kind not in KINDS:
        raise OutboxError(f"unknown outbox kind {kind!r}")
    operation = OPERATIONS[KINDS[kind][0]]
    schemas.validate_request_body(operation.model, operation.path, "post", payload)
    existing = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        vendor_id=vendor_id, kind=kind, subject_type=KINDS[kind][1], subject_id=subject_id,
        payload=payload, idempotency_key=idempotency_key, state=OutboxState.PENDING.value,
        attempts=0, created_by_id=created_by_id, next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message


def queue_acknowledgement(ack: Acknowledgement, *, created_by_id: int | None = None
                          ) -> OutboxMessage:
    """Put an acknowledgement in the outbox (same transaction) and mark its PO pending."""
    message = submit_to_amazon(ack.vendor_id, "acknowledgement", ack.id,
                               build_acknowledgement_payload(ack),
                               idempotency_key=f"ack:{ack.id}", created_by_id=created_by_id)
    ack.outbox_id = message.id
    ack.state = AckState.PENDING.value
    po = db.session.get(PurchaseOrder, ack.purchase_order_id)
    po.ack_state = AckState.PENDING.value
    return message


# -- sending ---------------------------------------------------------------------------------


def claim(message_id: int) -> bool:
    """Atomically move a due message from pending to sending; True if this worker got it."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id,
               OutboxMessage.state == OutboxState.PENDING.value,
               OutboxMessage.next_attempt_at <= now)
        .values(state=OutboxState.SENDING.value, attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + SENDING_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def send_message(message_id: int, *, client: SpApiClient | None = None,
                 poll_attempts: int = 3) -> str:
    """Send one pending message once; then poll its transaction a little. Return the state."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return "missing"
    own = client is None
    # Build the client before claiming: missing credentials must not strand a claimed row.
    client = client or SpApiClient.for_vendor(db.session.get(Vendor, message.vendor_id))
    try:
        if not claim(message_id):
            return db.session.get(OutboxMessage, message_id).state
        message = db.session.get(OutboxMessage, message_id)
        operation = KINDS[message.kind][0]
        try:
            data = client.call(operation, body=message.payload)
        except schemas.SchemaError as exc:  # never sent: the body no longer fits the model
            _finish(message, OutboxState.FAILED, errors=[{"code": "InvalidInput",
                                                          "message": str(exc)[:500]}],
                    error=str(exc))
            return message.state
        except SpApiUncertain as exc:
            _mark_unknown(message, f"{exc}")
            return message.state
        except SpApiError as exc:
            if exc.status in PERMANENT_STATUSES:
                errors = [{"code": exc.code, "message": exc.message}]
                _finish(message, OutboxState.FAILED, errors=errors, error=str(exc))
            else:  # throttled or unreachable: Amazon certainly did not take it
                _back_to_pending(message, str(exc))
            return message.state
        transaction_id = ((data or {}).get("payload") or {}).get("transactionId")
        if not transaction_id:
            _mark_unknown(message, "Amazon accepted the request but sent no transactionId")
            return message.state
        message.transaction_id = str(transaction_id)[:128]
        message.state = OutboxState.SUBMITTED.value
        message.submitted_at = utcnow()
        message.last_error = None
        db.session.commit()
        for _ in range(poll_attempts):
            if poll_transaction(message.id, client=client) != OutboxState.SUBMITTED.value:
                break
        return db.session.get(OutboxMessage, message_id).state
    finally:
        if own:
            client.close()


def poll_transaction(message_id: int, *, client: SpApiClient | None = None) -> str:
    """Ask getTransaction about a submitted message; record Success/Failure. Return the state."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.state != OutboxState.SUBMITTED.value:
        return message.state if message else "missing"
    own = client is None
    client = client or SpApiClient.for_vendor(db.session.get(Vendor, message.vendor_id))
    try:
        data = client.call("getTransaction", path_params={"transactionId": message.transaction_id})
    except SpApiError as exc:
        message.last_error = str(exc)[:2000]
        db.session.commit()
        return message.state
    finally:
        if own:
            client.close()
    status = (((data or {}).get("payload") or {}).get("transactionStatus") or {})
    if status.get("status") == "Success":
        _finish(message, OutboxState.SUCCEEDED)
    elif status.get("status") == "Failure":
        _finish(message, OutboxState.FAILED, errors=status.get("errors") or [],
                error="Amazon reported the transaction failed")
    return message.state


def _back_to_pending(message: OutboxMessage, error: str) -> None:
    delay = RETRY_DELAYS[min(message.attempts - 1, len(RETRY_DELAYS) - 1)]
    message.state = OutboxState.PENDING.value
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    message.last_error = error[:2000]
    db.session.commit()


def _mark_unknown(message: OutboxMessage, error: str) -> None:
    message.state = OutboxState.UNKNOWN.value
    message.last_error = error[:2000]
    raise_event(message.vendor_id, "outbox.unknown", f"outbox:{message.id}:{message.attempts}",
                purchase_order_id=_po_id(message),
                payload={"outbox_id": message.id, "kind": message.kind, "error": error[:500]})
    db.session.commit()


def _finish(message: OutboxMessage, state: OutboxState, *, errors: list | None = None,
            error: str | None = None) -> None:
    """Record the final outcome on the message and its subject, in one commit."""
    message.state = state.value
    message.completed_at = utcnow()
    message.errors = errors
    message.last_error = error
    ok = state is OutboxState.SUCCEEDED
    _record_on_subject(message, ok)
    if not ok:
        raise_event(message.vendor_id, f"{message.subject_type}.failed",
                    f"outbox:{message.id}:{message.transaction_id or message.attempts}",
                    purchase_order_id=_po_id(message),
                    payload={"outbox_id": message.id, "kind": message.kind,
                             "transaction_id": message.transaction_id,
                             "errors": errors or [], **_subject_details(message)})
    db.session.commit()


def _subject_details(message: OutboxMessage) -> dict:
    """What a failure alert names and links to: the invoice or the shipment."""
    if message.subject_type == "invoice":
        invoice = db.session.get(Invoice, message.subject_id)
        return {"invoice_id": message.subject_id,
                "invoice_number": invoice.invoice_number if invoice else None}
    if message.subject_type == "shipment":
        shipment = db.session.get(Shipment, message.subject_id)
        return {"shipment_id": message.subject_id,
                "shipment_identifier": shipment.shipment_identifier if shipment else None}
    return {}


def _po_id(message: OutboxMessage) -> int | None:
    if message.subject_type == "acknowledgement":
        ack = db.session.get(Acknowledgement, message.subject_id)
        return ack.purchase_order_id if ack else None
    if message.subject_type == "invoice":
        invoice = db.session.get(Invoice, message.subject_id)
        return invoice.purchase_order_id if invoice else None
    if message.subject_type == "shipment":
        shipment = db.session.get(Shipment, message.subject_id)
        return shipment.items[0].line.purchase_order_id if shipment and shipment.items else None
    return None


def _record_on_subject(message: OutboxMessage, ok: bool) -> None:
    if message.subject_type == "acknowledgement":
        ack = db.session.get(Acknowledgement, message.subject_id)
        if ack is not None:
            ack.state = (AckState.ACCEPTED if ok else AckState.FAILED).value
            po = db.session.get(PurchaseOrder, ack.purchase_order_id)
            # Only the newest acknowledgement of a PO speaks for the PO.
            newest = db.session.scalar(select(Acknowledgement.id).where(
                Acknowledgement.purchase_order_id == po.id).order_by(Acknowledgement.id.desc()))
            if newest == ack.id:
                po.ack_state = ack.state
    elif message.subject_type == "invoice":
        invoice = db.session.get(Invoice, message.subject_id)
        # Only the invoice's current submission speaks for it (a retried one replaced it).
        if invoice is not None and invoice.outbox_id in (None, message.id):
            invoice.status = "accepted" if ok else "failed"
            invoice.errors = None if ok else (message.errors or [])
            invoice.completed_at = message.completed_at
    elif message.subject_type == "shipment":
        shipment = db.session.get(Shipment, message.subject_id)
        # Only the shipment's newest ASN speaks for it (an older failed one must not).
        if shipment is not None and shipment.outbox_id in (None, message.id):
            shipment.status = "submitted" if ok else "failed"


# -- recovery --------------------------------------------------------------------------------


def sweep(now=None) -> dict:
    """Find due pending messages and senders that died mid-send; return what was found."""
    now = now or utcnow()
    stale = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.state == OutboxState.SENDING.value,
        OutboxMessage.next_attempt_at < now)).all()
    for message in stale:
        # Conditional, so a sender finishing right now is not overwritten.
        done = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id,
                   OutboxMessage.state == OutboxState.SENDING.value)
            .values(state=OutboxState.UNKNOWN.value,
                    last_error="the sender stopped mid-send; Amazon may or may not have it")
            .execution_options(synchronize_session=False)).rowcount
        if done:
            raise_event(message.vendor_id, "outbox.unknown",
                        f"outbox:{message.id}:{message.attempts}",
                        purchase_order_id=_po_id(message),
                        payload={"outbox_id": message.id, "kind": message.kind})
    db.session.commit()
    due = list(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.state == OutboxState.PENDING.value,
        OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id)))
    submitted = list(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.state == OutboxState.SUBMITTED.value).order_by(OutboxMessage.id)))
    unknown = list(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.state == OutboxState.UNKNOWN.value).order_by(OutboxMessage.id)))
    return {"stale": len(stale), "due": due, "submitted": submitted, "unknown": unknown}


def resolve_unknown(message_id: int, *, client: SpApiClient | None = None) -> str:
    """Settle an `unknown` acknowledgement from Amazon's view of its PO; others need a user."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.state != OutboxState.UNKNOWN.value:
        return message.state if message else "missing"
    if message.kind != "acknowledgement":
        return message.state
    number = message.payload["acknowledgements"][0]["purchaseOrderNumber"]
    own = client is None
    client = client or SpApiClient.for_vendor(db.session.get(Vendor, message.vendor_id))
    try:
        data = client.call("getPurchaseOrder", path_params={"purchaseOrderNumber": number})
    except SpApiError as exc:
        message.last_error = f"could not check Amazon: {exc}"[:2000]
        db.session.commit()
        return message.state
    finally:
        if own:
            client.close()
    state = ((data or {}).get("payload") or {}).get("purchaseOrderState")
    if state in ("Acknowledged", "Closed"):
        # Amazon has an acknowledgement for this PO: ours arrived; sending again would double it.
        _finish(message, OutboxState.SUCCEEDED)
        message.last_error = f"resolved from Amazon's PO state {state}"
        db.session.commit()
    return message.state


def retry_message(message_id: int, *, user_id: int | None, actor: str = "user") -> OutboxMessage:
    """Send a failed or unknown message again, on a user's explicit decision (audited)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxError("no such outbox message")
    if message.state not in (OutboxState.FAILED.value, OutboxState.UNKNOWN.value):
        raise OutboxError(f"a {message.state} message cannot be retried")
    previous = message.state
    message.state = OutboxState.PENDING.value
    message.next_attempt_at = utcnow()
    message.transaction_id = None
    message.completed_at = None
    audit("outbox.retry", actor=actor, actor_user_id=user_id, vendor_id=message.vendor_id,
          target_type="outbox_message", target_id=message.id, details={"was": previous})
    if message.subject_type == "acknowledgement":
        ack = db.session.get(Acknowledgement, message.subject_id)
        if ack is not None:
            ack.state = AckState.PENDING.value
            db.session.get(PurchaseOrder, ack.purchase_order_id).ack_state = ack.state
    elif message.subject_type == "invoice":
        invoice = db.session.get(Invoice, message.subject_id)
        if invoice is not None and invoice.outbox_id == message.id:
            invoice.status, invoice.errors, invoice.completed_at = "pending", None, None
    elif message.subject_type == "shipment":
        shipment = db.session.get(Shipment, message.subject_id)
        if shipment is not None and shipment.outbox_id == message.id:
            shipment.status = "pending"
    return message


def request_send(message_id: int) -> str:
    """Ask a worker to send a message now (call after the commit); the sweep is the backstop."""
    from worker.queues import enqueue

    message = db.session.get(OutboxMessage, message_id)
    job = enqueue("outbox", "worker.jobs.send_outbox_message", message_id,
                  job_id=f"outbox-send-{message_id}-{message.attempts}")
    return job.id
