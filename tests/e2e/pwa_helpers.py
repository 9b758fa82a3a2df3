"""Helpers for the PWA browser tests: demo data, a signed-in browser, axe-core from npm."""

from __future__ import annotations

import subprocess
from pathlib import Path

from webapp.auth.models import User
from webapp.auth.sessions import start_session
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def seed(pos: int = 30):
    """Seed the demo vendor (POs, receipts, stock, sales); return the seed result."""
    from webapp.demo.seed import seed_demo

    return seed_demo(pos=pos)


def add_user(vendor_id: int, email: str, role: str = "admin", locale: str | None = None) -> User:
    """Create an active user of `vendor_id` (no password needed: sessions are opened directly)."""
    user = User(vendor_id=vendor_id, email=email, role=role, locale=locale)
    db.session.add(user)
    db.session.commit()
    return user


def sign_in_context(app, context, base: str, user: User) -> None:
    """Give `context` a live server-side session of `user` (the cookie the login page sets)."""
    sid = start_session(user, ip="127.0.0.1", user_agent="e2e")
    db.session.commit()
    value = app.session_interface.get_signing_serializer(app).dumps({"sid": sid})
    context.add_cookies([{"name": app.config.get("SESSION_COOKIE_NAME", "session"),
                          "value": value, "url": base}])


def axe_source() -> str:
    """axe-core's script, installed from package-lock.json with npm on first use."""
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True,  # noqa: S607
                       capture_output=True, timeout=600)
    return AXE.read_text(encoding="utf-8")
