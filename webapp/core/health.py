"""Health of the parts ACORN stands on: database, Redis, and the workers' heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from rq import Worker
from sqlalchemy import text

from webapp.extensions import db
from webapp.redis_conn import get_redis

# RQ workers heartbeat about every 60 s by default; beyond this a worker counts as gone.
HEARTBEAT_STALE_SECONDS = 180


def check_database() -> dict:
    """Run a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def check_redis() -> dict:
    """Ping Redis."""
    try:
        get_redis().ping()
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def check_workers(now: datetime | None = None) -> dict:
    """Report the newest RQ worker heartbeat; fine when one is recent."""
    now = now or datetime.now(UTC)
    try:
        workers = Worker.all(connection=get_redis())
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__, "last_heartbeat": None, "count": 0}
    beats = [w.last_heartbeat for w in workers if w.last_heartbeat]
    last = max(beats).replace(tzinfo=UTC) if beats else None
    fresh = last is not None and (now - last).total_seconds() < HEARTBEAT_STALE_SECONDS
    return {
        "ok": fresh,
        "last_heartbeat": last.isoformat() if last else None,
        "count": len(workers),
    }


def health_report() -> tuple[dict, bool]:
    """Return the health document and whether everything is fine."""
    checks = {"database": check_database(), "redis": check_redis()}
    checks["worker"] = (
        check_workers() if checks["redis"]["ok"] else {"ok": False, "last_heartbeat": None}
    )
    healthy = all(c["ok"] for c in checks.values())
    return {"status": "ok" if healthy else "degraded", "version": current_app.config.get(
        "VERSION", "0.1.0"), **checks}, healthy
