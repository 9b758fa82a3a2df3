"""All periodic work, listed as data in one place (see worker/scheduler.py for how it runs)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Periodic:
    """A job to enqueue every `interval` seconds on `queue`."""

    name: str
    func: str  # dotted path, resolved by the worker
    interval: int
    queue: str
    kwargs: dict = field(default_factory=dict)
    timeout: int | None = None


PERIODIC: list[Periodic] = [
    # Feature issues add their periodic work here (sync, outbox, deadline alerts, ...).
    # Web push (issue 6): new events and near deadlines -> alerts -> deliveries; also re-queues
    # deliveries whose job was lost and marks sends cut off by a dying worker as in doubt.
    Periodic("push-scan", "worker.push_jobs.scan", 30, "notify", timeout=300),
    # Stock below the weeks-of-cover threshold and last week's OTIF below target, from the
    # dashboard figures; each event's dedupe key makes a figure alert once however often this runs.
    Periodic("dashboard-alerts", "worker.push_jobs.dashboard_alerts", 3600, "notify",
             timeout=600),
    # Amazon connector (issue 4): POs then their status every 5 minutes, reports daily, and
    # the outbox sweep (send due, poll transactions, settle senders that died) every minute.
    Periodic("amazon-orders-status", "worker.jobs.enqueue_vendor_syncs", 300, "sync",
             kwargs={"feeds": ["orders", "status"]}, timeout=120),
    Periodic("amazon-reports", "worker.jobs.enqueue_vendor_syncs", 24 * 3600, "sync",
             kwargs={"feeds": ["reports"]}, timeout=120),
    Periodic("amazon-outbox", "worker.jobs.sweep_outbox", 60, "outbox", timeout=300),
    # Shipments (issue 11): a ship date passed without an ASN -> reminder event; receipts
    # synced from Amazon settle sent shipments as received or short.
    Periodic("shipments-check", "worker.shipment_jobs.check_shipments", 300, "sync",
             timeout=120),
    # Invoice photos (issue 7): OCR jobs lost while Redis was down are queued again.
    Periodic("invoice-photos-requeue", "webapp.invoices.photos.requeue_stuck_photos", 60,
             "media", timeout=120),
    # ... and reads left "running" by a worker that died are queued again (three tries).
    Periodic("invoice-photos-interrupted", "worker.media_jobs.requeue_interrupted_reads", 60,
             "media", timeout=120),
]
