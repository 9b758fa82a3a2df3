"""Who may do what: every permission check in ACORN goes through this module.

Use it on every view:

    from webapp.auth.access import require_permission

    @bp.post("/orders/<int:po_id>/acknowledge")
    @require_permission("po.acknowledge")
    def acknowledge(po_id): ...

`require_permission` signs the visitor in first (HTML: redirect to /login; JSON API: 401), then
answers 403 when the role lacks the permission. In the JSON API the role is the API token's,
which is never higher than its user's. `has_permission("invoice.submit")` is the same check for
templates (also a Jinja global) and services. Add a permission by adding one line to PERMISSIONS.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, g
from flask_login import current_user

from webapp.auth.models import Role

ADMIN, MANAGER, FINANCE, VIEWER = Role.ADMIN, Role.MANAGER, Role.FINANCE, Role.VIEWER
EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    # Reading vendor data: every role.
    "po.view": EVERYONE,
    "invoice.view": EVERYONE,
    "shipment.view": EVERYONE,
    "dashboard.view": EVERYONE,
    "account.manage": EVERYONE,  # one's own password, factors, sessions, tokens, language
    # Changing vendor data.
    "po.acknowledge": frozenset({ADMIN, MANAGER}),
    "invoice.submit": frozenset({ADMIN, MANAGER, FINANCE}),
    "shipment.submit": frozenset({ADMIN, MANAGER}),
    "payment.view": frozenset({ADMIN, FINANCE}),
    "payment.manage": frozenset({ADMIN, FINANCE}),
    # Running the vendor's account.
    "users.manage": frozenset({ADMIN}),
    "settings.manage": frozenset({ADMIN}),
    "audit.view": frozenset({ADMIN}),
}


def permissions_of(role: str) -> frozenset[str]:
    """Return the permissions a role has."""
    return frozenset(p for p, roles in PERMISSIONS.items() if role in roles)


def grantable_roles(role: str) -> list[str]:
    """Roles whose permissions are all within `role`'s (for API tokens: never higher)."""
    mine = permissions_of(role)
    return [r.value for r in Role if permissions_of(r.value) <= mine]


def acting_role() -> str | None:
    """The role of this request: the API token's in the JSON API, else the signed-in user's."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    token = g.get("api_token")
    return token.role if token is not None else current_user.role


def has_permission(permission: str) -> bool:
    """Tell whether the current request may do `permission`."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}: add it to webapp.auth.access")
    role = acting_role()
    if role is None or role not in PERMISSIONS[permission]:
        return False
    # A token never outranks its user, even after the user was moved to a lower role.
    return g.get("api_token") is None or current_user.role in PERMISSIONS[permission]


def require_permission(permission: str) -> Callable:
    """Decorate a view: sign-in required, then 403 unless the role has `permission`."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}: add it to webapp.auth.access")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not getattr(current_user, "is_authenticated", False):
                return current_app.login_manager.unauthorized()
            if not has_permission(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # lets tests list what each view demands
        return wrapped

    return decorator
