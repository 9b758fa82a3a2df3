"""Security headers on every response, and the per-client rate limiter."""

from __future__ import annotations

from flask import Flask, abort, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from webapp.embedded_redis import EmbeddedRedis

# No inline script or style anywhere; the QR code is an SVG data: image.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

limiter = Limiter(key_func=get_remote_address, in_memory_fallback_enabled=True,
                  key_prefix="acorn:limit")


def failed_auth_step(_response) -> bool:
    """Flask-Limiter `deduct_when`: count only sign-in steps that failed (set by the view)."""
    return bool(g.get("auth_failed"))


def init_security(app: Flask) -> None:
    """Install the headers hook and the rate limiter on `app`."""
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        url = app.config.get("REDIS_URL")
        if not url:  # development: the embedded server, started on first use by get_redis()
            url = EmbeddedRedis(app.config["INSTANCE_DIR"]).url
        app.config["RATELIMIT_STORAGE_URI"] = url.replace("unix://", "redis+unix://", 1)
    hops = app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:  # behind a reverse proxy: the client address is in X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    limiter.init_app(app)
    # First of all before_request hooks, so Flask-Login and Flask-WTF start from a clean `g`.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)


def drop_idle_limit_check(app: Flask, rate_limiter: Limiter | None = None) -> None:
    """Take Flask-Limiter's per-request check out of `app` while no page-wide limit exists.

    Flask-Limiter checks default, application and blueprint limits in a before_request hook
    that runs for every request: about a tenth of a small page's instructions. ACORN sets none
    of those; its only limits are the sign-in steps' (`client_limit` in webapp/auth/routes.py),
    which their decorator checks itself. Call once every blueprint is registered.
    """
    rate_limiter = rate_limiter or limiter
    manager = rate_limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits:
        return  # some page-wide limit exists: every request must be checked
    hooks = app.before_request_funcs.get(None, [])
    if rate_limiter._check_request_limit in hooks:
        hooks.remove(rate_limiter._check_request_limit)


# Per-request values kept on `g`. A request pushed inside an already active app context (tests,
# scripts) shares that context's `g`, so a user or CSRF token must not leak into the next one.
REQUEST_SCOPED = ("_login_user", "csrf_token", "api_token", "user_session", "private_page",
                  "auth_failed", "dashboard_synced", "dashboard_latest_weeks", "orders_badge")


def _fresh_request_state() -> None:
    for key in REQUEST_SCOPED:
        g.pop(key, None)


def _refuse_nul_characters() -> None:
    """Refuse input holding NUL characters: no text column may store them (PostgreSQL raises).

    In the path they cannot name anything that exists (404); in the query, form or JSON body
    they are malformed input (400). One check here instead of one per field.
    """
    if any("\x00" in str(v) for v in (request.view_args or {}).values()):
        abort(404)
    if request.query_string and b"%00" in request.query_string.lower():
        abort(400, description="Input must not contain NUL characters.")
    if any("\x00" in value for value in request.form.values()):
        abort(400, description="Input must not contain NUL characters.")
    if request.is_json and (b"\\u0000" in request.get_data() or b"\x00" in request.get_data()):
        abort(400, description="Input must not contain NUL characters.")


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(self), geolocation=(), microphone=()"
    if request.is_secure or _production():
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if _private_page():
        # Signed-in pages (and sign-in steps) must never be cached by the browser or the SW.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
        headers.add("Vary", "Cookie")
    return response


def _production() -> bool:
    from flask import current_app

    return current_app.config.get("ENV_NAME") == "production"


def _private_page() -> bool:
    if request.path.startswith("/static/") or request.path in ("/sw.js", "/manifest.webmanifest"):
        return False
    if g.get("private_page") or request.path.startswith("/api/"):
        return True
    return bool(getattr(current_user, "is_authenticated", False))
