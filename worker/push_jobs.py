"""Push jobs: alert scan, delivery batches, dashboard alerts (all on queue "notify")."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from webapp.dashboards import alerts as dashboard_alerts_
from webapp.db_types import utcnow
from webapp.push import delivery, services
from worker.queues import NOTIFY, get_queue


def scan() -> dict:
    """Turn new events and near deadlines into alerts and queue their deliveries."""
    now = utcnow()
    in_doubt = services.recover_stale_claims(now)
    services.detect_failing_syncs(now)
    from_events = services.alerts_from_events(now)
    from_deadlines = services.alerts_from_deadlines(now)
    fresh = services.dispatch_due_alerts(now)
    # Deliveries whose job was lost (worker killed before it claimed them) go out again.
    fresh_ids = set(fresh)
    lost = [i for i in services.overdue_pending_deliveries(now) if i not in fresh_ids]
    jobs = delivery.queue_deliveries(fresh + lost)
    return {"alerts": from_events + from_deadlines, "deliveries": len(fresh), "requeued": len(lost),
            "in_doubt": in_doubt, "jobs": jobs}


def deliver(delivery_ids: list[int]) -> dict:
    """Send one batch of deliveries; schedule the ones to retry (429, 5xx) for their time."""
    report = delivery.deliver_batch(delivery_ids)
    by_second: dict[int, list[int]] = {}
    for delivery_id, when in report.retry_at.items():
        # RQ keeps whole seconds (rounding down): round up so no retry runs before its time.
        by_second.setdefault(math.ceil(when.timestamp()), []).append(delivery_id)
    queue = get_queue(NOTIFY)
    for second, ids in sorted(by_second.items()):
        queue.enqueue_at(datetime.fromtimestamp(second, UTC), "worker.push_jobs.deliver", ids,
                         result_ttl=3600, failure_ttl=7 * 24 * 3600)
    return {"counts": report.counts, "retries": len(report.retry_at)}


def dashboard_alerts() -> dict:
    """Raise low-stock and OTIF-below-target events; the next scan turns them into alerts."""
    return dashboard_alerts_.raise_dashboard_alerts()
