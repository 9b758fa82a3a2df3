"""Core API endpoints; features import their own endpoint modules here."""

from __future__ import annotations

from flask import g, jsonify
from flask_login import current_user

from webapp.api import api_bp
from webapp.auth.access import permissions_of, require_permission


@api_bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of ACORN's JSON API: each feature contributes its paths."""
    from webapp.dashboards.api import DASHBOARD_OPENAPI_PATHS
    from webapp.invoices.api import INVOICE_PHOTO_OPENAPI_PATHS
    from webapp.orders.openapi import document

    doc = document()
    doc["info"]["title"] = "ACORN API"
    doc["paths"].update(DASHBOARD_OPENAPI_PATHS)
    doc["paths"].update(INVOICE_PHOTO_OPENAPI_PATHS)
    return jsonify(doc)


@api_bp.get("/me")
@require_permission("account.manage")
def me():
    """Describe the caller's user, vendor and role (the token's, or the session's)."""
    token = g.get("api_token")
    role = token.role if token is not None else current_user.role
    return jsonify(
        user={"id": current_user.id, "email": current_user.email},
        vendor={"id": current_user.vendor_id, "name": current_user.vendor.name,
                "timezone": current_user.vendor.timezone},
        token={"id": token.id, "name": token.name, "role": token.role} if token else None,
        permissions=sorted(permissions_of(role)),
    )


from webapp.dashboards import api as _dashboards_api  # noqa: E402,F401 - /api/v1/dashboards (issue 8)
from webapp.invoices import api as _invoice_photos_api  # noqa: E402,F401 - /api/v1/invoices/photos (issue 7)
from webapp.orders import api as _orders_api  # noqa: E402,F401 - /api/v1/purchase-orders (issue 5)
from webapp.push import api as _push_api  # noqa: E402,F401 - /api/v1/push/... (issue 6)
