"""The one way ACORN sends e-mail: SMTP in production, console or memory elsewhere.

    from webapp.mail import send_mail
    send_mail("li@acme.cn", "Subject", "Plain-text body")

MAIL_BACKEND picks the backend: "smtp" (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD,
STARTTLS), "console" (prints the message and keeps it for the /dev/outbox page; development
only) or "memory" (kept in `outbox(app)` for tests).
"""

from __future__ import annotations

import smtplib
import ssl
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from flask import Flask, current_app

from webapp.db_types import utcnow

OUTBOX_SIZE = 50


@dataclass(frozen=True)
class SentMail:
    """A message as the console and memory backends keep it."""

    to: str
    subject: str
    body: str
    sent_at: datetime = field(default_factory=utcnow)


def outbox(app: Flask | None = None) -> deque[SentMail]:
    """Messages kept by the console/memory backends, oldest first (bounded)."""
    app = app or current_app._get_current_object()
    return app.extensions.setdefault("acorn.mail.outbox", deque(maxlen=OUTBOX_SIZE))


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message through the configured backend."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(to, subject, body)
        return
    if backend not in ("console", "memory"):
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")
    if current_app.config["ENV_NAME"] == "production":
        raise RuntimeError("the console and memory mail backends are not for production")
    outbox().append(SentMail(to=to, subject=subject, body=body))
    if backend == "console":
        print(f"--- mail to {to}: {subject}\n{body}\n---", flush=True)  # noqa: T201


def _send_smtp(to: str, subject: str, body: str) -> None:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
        smtp.starttls(context=ssl.create_default_context())
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
        smtp.send_message(message)


def init_mail(app: Flask) -> None:
    """Outside production, serve the console/memory outbox at /dev/outbox."""
    if app.config["ENV_NAME"] == "production" or app.config["MAIL_BACKEND"] == "smtp":
        return
    from flask import Blueprint, g, render_template

    dev_bp = Blueprint("dev", __name__, url_prefix="/dev")

    @dev_bp.get("/outbox")
    def dev_outbox():
        """Show the messages the development mail backend kept (newest first)."""
        g.private_page = True  # invite links are secrets
        return render_template("dev/outbox.html", messages=list(reversed(outbox())))

    app.register_blueprint(dev_bp)
