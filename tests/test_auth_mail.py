"""The mail adapter: SMTP with STARTTLS, console/memory outbox, a dev outbox outside production."""

from __future__ import annotations

import pytest

from tests.auth_helpers import make_vendor
from webapp import mail
from webapp.auth import services


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.calls = [("connect", host, port)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user))

    def send_message(self, message):
        FakeSMTP.sent.append((self.calls, message))


def test_smtp_backend_uses_starttls_and_login(app, monkeypatch):
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="mail.acme.cn", SMTP_USER="acorn",
                      SMTP_PASSWORD="pw")
    mail.send_mail("li@acme.cn", "Hello", "Body")
    calls, message = FakeSMTP.sent[-1]
    assert calls == [("connect", "mail.acme.cn", 587), ("starttls",), ("login", "acorn")]
    assert message["To"] == "li@acme.cn" and message["Subject"] == "Hello"


def test_console_and_memory_refused_in_production(app):
    app.config["ENV_NAME"] = "production"
    try:
        with pytest.raises(RuntimeError):
            mail.send_mail("li@acme.cn", "x", "y")
    finally:
        app.config["ENV_NAME"] = "test"


def test_dev_outbox_shows_the_invite_link(app, client):
    vendor = make_vendor("Acme Trading", domain="acme.cn")
    _invite, link = services.invite_user(vendor, "li@acme.cn", "viewer")
    page = client.get("/dev/outbox")
    assert page.status_code == 200 and link in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]


def test_no_dev_outbox_in_production():
    from flask import Flask

    for env, backend, served in (("production", "console", False), ("development", "smtp", False),
                                 ("development", "console", True)):
        app = Flask(__name__)
        app.config.update(ENV_NAME=env, MAIL_BACKEND=backend)
        mail.init_mail(app)
        assert ("dev.dev_outbox" in app.view_functions) is served, (env, backend)
