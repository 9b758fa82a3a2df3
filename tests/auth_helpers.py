"""Test helpers for signed-in users, shared by every feature's tests.

    from tests.auth_helpers import sign_in

    def test_inbox(client):
        user = sign_in(client, role="manager")          # new vendor + enrolled user, signed in
        assert client.get("/orders").status_code == 200

    def test_two_vendors(app):
        a = sign_in(app.test_client(), role="admin")
        b = sign_in(app.test_client(), vendor=make_vendor("Other Co"))

`sign_in` goes through the real pages (password, then a TOTP code computed with pyotp), so the
session is a real server-side one. For POSTs, `csrf_token(client)` reads a token from a page;
`post(client, url, data)` adds it for you.
"""

from __future__ import annotations

import itertools
import re
import time

import pyotp
from sqlalchemy import update

from webapp.auth import passwords
from webapp.auth.models import User
from webapp.crypto import encrypt
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.vendors.models import Vendor
from webapp.vendors.services import create_vendor, get_vendor_by_name

PASSWORD = "plum-orchard-7-lantern"
_counter = itertools.count(1)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_vendor(name: str = "Acme Trading", *, domain: str | None = None,
                timezone: str = "Asia/Shanghai") -> Vendor:
    """Return the vendor called `name`, creating it (domain: derived from the name) if needed."""
    vendor = get_vendor_by_name(name)
    if vendor is None:
        slug = re.sub(r"[^a-z0-9]", "", name.lower()) or "vendor"
        n = next(_counter)
        vendor = create_vendor(name, domains=[domain or f"{slug}.cn"],
                               vendor_codes=[f"{slug[:8].upper()}{n}"[:16]], timezone=timezone)
        db.session.commit()
    return vendor


def make_user(vendor: Vendor | None = None, *, role: str = "manager", email: str | None = None,
              password: str = PASSWORD) -> tuple[User, str]:
    """Create an active user with a confirmed authenticator; return (user, TOTP secret)."""
    vendor = vendor or make_vendor()
    email = email or f"user{next(_counter)}@{vendor.domains[0].domain}"
    secret = pyotp.random_base32(32)
    user = User(vendor_id=vendor.id, email=email, role=role,
                password_hash=passwords.hash_password(password), password_changed_at=utcnow(),
                totp_secret_enc=encrypt(secret), mfa_enrolled_at=utcnow())
    db.session.add(user)
    db.session.commit()
    user.totp_secret = secret  # for tests only: not a column
    return user, secret


def totp_code(secret: str, steps: int = 0) -> str:
    """The TOTP code of `secret` now (or `steps` time steps away)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def csrf_token(client, path: str = "/login") -> str:
    """Read a CSRF token from a page of `client`'s session."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client, url: str, data: dict | None = None, *, token_from: str = "/login",  # noqa: S107
         **kw):
    """POST a form with a valid CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, token_from)},
                       **kw)


def sign_in(client, *, role: str = "manager", vendor: Vendor | None = None,
            user: User | None = None, secret: str | None = None,
            password: str = PASSWORD) -> User:
    """Sign `client` in through the real pages; create vendor and user unless given."""
    if user is None:
        user, secret = make_user(vendor, role=role, password=password)
    secret = secret or user.totp_secret
    # Let a test sign the same user in again within one 30-second step (replay guard).
    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    db.session.commit()
    response = post(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    response = post(client, "/login/code", {"code": totp_code(secret)}, token_from="/login/code")
    assert response.status_code == 302 and "/login" not in response.location, response.location
    user.totp_secret = secret
    return user


def sign_out(client) -> None:
    """Sign `client` out through the real form."""
    post(client, "/logout", token_from="/logout")


def dump_database() -> str:
    """Every row of every table, every column, as text (like a plain SQL dump would show)."""
    lines = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).all():
            cells = []
            for value in row:
                if isinstance(value, bytes | memoryview):
                    value = bytes(value)
                    cells.append(value.decode("latin-1"))  # raw bytes, as a dump would hold them
                else:
                    cells.append(str(value))
            lines.append(f"{table.name}: " + " | ".join(cells))
    return "\n".join(lines)
