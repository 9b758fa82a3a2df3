"""Thin RQ jobs: take ids, call the services, return JSON-able summaries."""

from __future__ import annotations

import logging

from rq import get_current_job

from webapp.amazon import dispatch, outbox
from webapp.amazon.sync_state import parse_time

log = logging.getLogger(__name__)


def sync_vendor(vendor_id: int, feeds: list[str], since: str | None = None) -> list[dict]:
    """Sync the named feeds (orders, status, reports) of one vendor."""
    job = get_current_job()
    dispatch.mark_started(vendor_id, feeds, job.id if job else None)
    results = dispatch.run_feeds(vendor_id, feeds, since=parse_time(since))
    for result in results:
        log.info("vendor %s %s", vendor_id, result.summary())
    return [r.as_dict() for r in results]


def enqueue_vendor_syncs(feeds: list[str]) -> list[str]:
    """Request the named feeds for every vendor that can be synced (periodic)."""
    return [dispatch.request_sync(vendor_id, feeds)
            for vendor_id in dispatch.syncable_vendor_ids()]


def send_outbox_message(message_id: int) -> str:
    """Send one outbox message to Amazon (no-op unless it is pending and due)."""
    state = outbox.send_message(message_id)
    _watch(message_id, state)
    return state


def _watch(message_id: int, state: str) -> None:
    """After Amazon accepted an acknowledgement, let the watchdog compare Amazon's view."""
    from webapp.extensions import db
    from webapp.orders import watchdog

    message = db.session.get(outbox.OutboxMessage, message_id)
    if state == "succeeded" and message is not None and message.kind == "acknowledgement":
        watchdog.verify_acknowledgement(message.subject_id)


def sweep_outbox() -> dict:
    """Send due messages, poll submitted ones, settle unknown ones from Amazon's state."""
    found = outbox.sweep()
    sent = {m: outbox.send_message(m) for m in found["due"]}
    polled = {m: outbox.poll_transaction(m) for m in found["submitted"]}
    for message_id, state in {**sent, **polled}.items():
        _watch(message_id, state)
    resolved = {m: outbox.resolve_unknown(m) for m in found["unknown"]}
    return {"stale": found["stale"], "sent": sent, "polled": polled, "resolved": resolved}
