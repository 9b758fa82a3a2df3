"""Who is signed in, as every page reads it: the columns pages use, from one plain row.

Every browser request loads its session, user and vendor. As ORM objects that load cost more
than many a page's own query; as a Core row with these read-only views it is a third of that.
`current_user` is a `SignedInUser` for a session cookie (an ORM `User` for an API token or
the sign-in request itself, which read the same). Code that changes the user or vendor, or
reads what is not here (secrets, relationships), asks for the ORM object: `signed_in_user()`,
`signed_in_vendor()`. The views are frozen, so a write to one fails loudly instead of being
lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_login import current_user

from webapp.extensions import db


@dataclass(frozen=True, slots=True)
class VendorSettings:
    """The signed-in user's vendor: what pages read on every request."""

    id: int
    name: str
    timezone: str
    currency: str
    ack_deadline_hours: int
    otif_target_percent: Decimal
    otif_grace_days: int
    weeks_of_cover_threshold: Decimal
    return_rate_threshold_percent: Decimal
    dual_control_reject_above: Decimal | None


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """The user of a browser session, for Flask-Login (`current_user`) and the pages."""

    id: int
    vendor_id: int
    email: str
    display_name: str | None
    role: str
    active: bool
    locale: str | None
    mfa_enrolled_at: datetime | None
    vendor: VendorSettings

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


def signed_in_user():
    """The signed-in `User` as an ORM object, to change it or read its secrets."""
    from webapp.auth.models import User

    user = current_user._get_current_object()
    return db.session.get(User, user.id) if isinstance(user, SignedInUser) else user


def signed_in_vendor():
    """The signed-in user's `Vendor` as an ORM object, to change it or follow relationships."""
    from webapp.vendors.models import Vendor

    return db.session.get(Vendor, current_user.vendor_id)
