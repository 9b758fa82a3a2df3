"""Tell a developer how to sign in to the demo vendor."""

from __future__ import annotations

from sqlalchemy import select

from webapp.auth.models import User
from webapp.extensions import db


def describe_demo_access(email: str, base_url: str | None = None) -> str:
    """Describe the demo account and how to finish its sign-in set-up."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        return "No demo account: run `flask --app webapp demo` first."
    return f"Demo account: {user.email} ({user.role}) of {user.vendor.name}"
