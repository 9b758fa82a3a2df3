"""Optional error reporting to Sentry (or a compatible service): only when SENTRY_DSN is set."""

from __future__ import annotations

from flask import Flask


def init_error_reporting(app: Flask) -> bool:
    """Initialise sentry-sdk from SENTRY_DSN; return whether reporting is on."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("ENV_NAME"),
        integrations=[FlaskIntegration(), RqIntegration()],
        traces_sample_rate=app.config.get("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        send_default_pii=False,  # no e-mail addresses, cookies or IPs leave the server
    )
    return True
