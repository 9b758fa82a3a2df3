"""Tell a developer how to sign in to the demo vendor: an invite link until the admin enrols."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from webapp.auth.models import Role, User
from webapp.auth.services import invite_user
from webapp.extensions import db
from webapp.vendors.services import get_vendor_by_name


def describe_demo_access(email: str, vendor_name: str, base_url: str | None = None) -> str:
    """Describe the demo account; invite it (single-use link) while it has no account yet."""
    vendor = get_vendor_by_name(vendor_name)
    if vendor is None:
        return "No demo vendor: run `flask --app webapp demo` first."
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return (f"Demo account: {user.email} ({user.role}) of {vendor.name}. "
                "Sign in with the password and authenticator you set up.")
    if base_url:
        current_app.config["PUBLIC_URL"] = base_url
    _invite, link = invite_user(vendor, email, Role.ADMIN.value)
    db.session.commit()
    return "\n".join([
        f"Demo account: {email} (admin) of {vendor.name}, not set up yet.",
        f"  1. Open {link}",
        "  2. Choose a password (12+ characters).",
        "  3. Scan the QR code with an authenticator app (or type the secret shown under it)",
        "     and enter its 6-digit code; keep the recovery codes it shows.",
    ])
