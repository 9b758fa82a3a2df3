"""Core API endpoints; features import their own endpoint modules here."""

from __future__ import annotations

from flask import g, jsonify
from flask_login import current_user

from webapp.api import api_bp
from webapp.auth.access import permissions_of, require_permission


@api_bp.get("/me")
@require_permission("account.manage")
def me():
    """Describe the token's user, vendor and role."""
    token = g.api_token
    return jsonify(
        user={"id": current_user.id, "email": current_user.email},
        vendor={"id": current_user.vendor_id, "name": current_user.vendor.name,
                "timezone": current_user.vendor.timezone},
        token={"id": token.id, "name": token.name, "role": token.role},
        permissions=sorted(permissions_of(token.role)),
    )


from webapp.push import api as _push_api  # noqa: E402,F401 - /api/v1/push/... (issue 6)
