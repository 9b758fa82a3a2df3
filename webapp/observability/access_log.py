"""gunicorn logger writing the access log (and its own messages) as JSON lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from gunicorn.glogging import Logger

from webapp.observability.logs import JsonFormatter


class JsonGunicornLogger(Logger):
    """One JSON object per request: method, path, status, duration, bytes and request id."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict
                or self.cfg.syslog):
            return
        lower = {name.lower(): value for name, value in (resp.headers or [])}
        entry = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "type": "access",
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(str(resp.status).split()[0]) if resp.status else None,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": lower.get("x-request-id"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - a log line must never break a response
            logging.getLogger(__name__).exception("could not write the access log")
