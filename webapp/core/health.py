"""Health of the parts ACORN stands on: database, Redis, and the workers' heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import text

from webapp.extensions import db
from webapp.redis_conn import get_redis

# ACORN's workers heartbeat at least every 45 s (worker/main.py); beyond this one counts as gone.
HEARTBEAT_STALE_SECONDS = 180
# A sorted set {worker name: unix time of its last heartbeat}, rebuilt by the next beat after
# Redis loses its data, unlike RQ's own worker registry, which is written only at start-up.
HEARTBEATS_KEY = "acorn:worker-heartbeats"


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
    """Report the newest worker heartbeat; fine when one is recent."""
    now = now or datetime.now(UTC)
    try:
        r = get_redis()
        cutoff = now.timestamp() - HEARTBEAT_STALE_SECONDS
        beats = r.zrange(HEARTBEATS_KEY, 0, -1, withscores=True)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__, "last_heartbeat": None, "alive": 0}
    newest = max((score for _, score in beats), default=None)
    last = datetime.fromtimestamp(newest, UTC) if newest is not None else None
    return {
        "ok": newest is not None and newest >= cutoff,
        "last_heartbeat": last.isoformat() if last else None,
        "alive": sum(1 for _, score in beats if score >= cutoff),
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
