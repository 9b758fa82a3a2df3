"""Observability: request ids, JSON logs, Prometheus metrics and optional error reporting."""

from __future__ import annotations

from flask import Flask


def init_observability(app: Flask) -> None:
    """Install request ids, logging, metrics and (with SENTRY_DSN) error reporting on `app`."""
    from webapp.observability import errors, logs, metrics, request_ids

    errors.init_error_reporting(app)
    if app.config.get("LOG_FORMAT") == "json":  # text: leave logging as Flask and RQ set it up
        logs.configure_logging("json", app.config.get("LOG_LEVEL", "INFO"))
    request_ids.init_request_ids(app)
    metrics.init_metrics(app)
