"""A PO's history: audit entries, events and the outbox outcome, newest first, in one query."""

from __future__ import annotations

from datetime import timedelta

from tests.auth_helpers import make_user
from tests.orders_helpers import add_po
from webapp.amazon.models import OutboxMessage
from webapp.db_types import utcnow
from webapp.events.services import raise_event
from webapp.extensions import db
from webapp.orders import detail, services


def test_history_merges_audit_events_and_completed_outbox_messages(app):
    user, _ = make_user()
    po = add_po(user.vendor_id)
    other = add_po(user.vendor_id, "OTHER001")
    outcome = services.accept_all(po, user=user)
    services.accept_all(other, user=user)  # another PO's entries stay out
    raise_event(po.vendor_id, "ack.failed", f"ack:{po.id}", purchase_order_id=po.id,
                payload={"why": "test"})
    db.session.commit()
    kinds = [e.kind for e in detail.history(po)]
    assert "po.acknowledge" in kinds and "ack.failed" in kinds and "po.ordered" in kinds
    assert not any(k.startswith("outbox.") for k in kinds)  # not completed yet
    message = db.session.get(OutboxMessage, outcome.to_send[0])
    message.state, message.completed_at = "failed", utcnow() + timedelta(minutes=1)
    message.errors = [{"code": "InvalidInput", "message": "bad"}]
    db.session.commit()
    entries = detail.history(po)
    assert entries[0].kind == "outbox.failed" and entries[0].who == "Amazon"
    assert entries[0].details == {"errors": [{"code": "InvalidInput", "message": "bad"}]}
    audit = next(e for e in entries if e.kind == "po.acknowledge")
    assert audit.who == user.email and audit.details["lines"]
    event = next(e for e in entries if e.kind == "ack.failed")
    assert event.who is None and event.details == {"why": "test"}
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert sum(e.kind == "po.acknowledge" for e in entries) == 1
