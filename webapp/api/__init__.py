"""The JSON API at /api/v1, authenticated by `Authorization: Bearer <token>` or a session.

Add endpoints from any feature:

    from webapp.api import api_bp, api_error
    from webapp.auth.access import require_permission

    @api_bp.get("/purchase-orders")
    @require_permission("po.view")
    def list_purchase_orders(): ...

`current_user` is the token's user; the role checked is the token's (never above the user's).
Errors are JSON: {"error": {"code": "not_found", "message": "..."}} with a stable `code`.
Bearer-token requests need no CSRF token; requests authenticated by the browser session (the
app's own JavaScript) must send `X-CSRFToken` on writes, or get 400 `csrf_failed`.
Blueprint routes must be added before `create_app` registers the blueprint: import your module
in `webapp.api.routes` (below) or register yours before.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

ERROR_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 500: "server_error",
}


def api_error(status: int, message: str, code: str | None = None, **extra):
    """Return a JSON error response with a stable `code`."""
    body = {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": message,
                      **extra}}
    return jsonify(body), status


def _json_http_error(exc: HTTPException):
    """Answer every HTTP error under /api/ as JSON; elsewhere keep Flask's pages."""
    if not request.path.startswith("/api/"):
        return exc
    return api_error(exc.code or 500, exc.description or exc.name)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _csrf_for_session_writes():
    """Require X-CSRFToken on writes authenticated by the session cookie (never for tokens)."""
    from flask import g
    from flask_login import current_user
    from flask_wtf.csrf import CSRFError

    from webapp.extensions import csrf

    if request.method in SAFE_METHODS or not getattr(current_user, "is_authenticated", False):
        return None
    if g.get("api_token") is not None:
        return None
    try:
        csrf.protect()
    except CSRFError as exc:
        return api_error(400, exc.description, "csrf_failed")
    return None


api_bp.before_request(_csrf_for_session_writes)


def init_api(app: Flask) -> None:
    """Register the API blueprint (CSRF only for session writes) with JSON errors."""
    from webapp.api import routes  # noqa: F401 - attaches the endpoints
    from webapp.extensions import csrf

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_error_handler(HTTPException, _json_http_error)
