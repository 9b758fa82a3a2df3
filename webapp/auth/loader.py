"""Flask-Login wiring: who is signed in comes from a server-side session or an API token.

Browser requests carry a random session id in the (signed) Flask session cookie; it is looked
up by hash in `user_sessions`, so logout, password and factor changes end it server-side. The
JSON API (/api/v1) takes `Authorization: Bearer <token>` or, for the app's own pages, the same
session cookie; a session-authenticated write must carry `X-CSRFToken` (see webapp.api).
"""

from __future__ import annotations

from flask import g, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l

from webapp.auth import sessions, tokens
from webapp.auth.models import User
from webapp.auth.principal import SignedInUser
from webapp.extensions import login_manager

SESSION_KEY = "sid"

# Phones switch between Wi-Fi and cellular: no IP/agent pinning ("strong" protection).
login_manager.session_protection = None
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


def is_api_request() -> bool:
    """Tell whether this request is for the JSON API."""
    return request.path.startswith("/api/")


@login_manager.request_loader
def load_user_from_request(_request) -> User | SignedInUser | None:
    """Load the user of this request: a Bearer token (API only), else the session cookie."""
    header = request.headers.get("Authorization", "") if is_api_request() else ""
    if header:
        # A presented token decides alone: a bad token never falls back to the cookie.
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = tokens.authenticate_token(raw.strip())
        if token is None:
            return None
        g.api_token = token
        return token.user
    row = sessions.load_session(session.get(SESSION_KEY))
    if row is None:
        if SESSION_KEY in session:
            session.pop(SESSION_KEY)  # expired or revoked: forget it
        return None
    g.user_session = row
    return row.user


@login_manager.unauthorized_handler
def unauthorized():
    """Answer 401 JSON in the API; send browsers to the sign-in page."""
    if is_api_request():
        body = {"error": {"code": "unauthenticated",
                          "message": "Sign in, or send a valid API token: "
                                     "Authorization: Bearer <token>"}}
        return jsonify(body), 401
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET"
                            else None))


def current_session():
    """The UserSession row of this browser request (None in the API or signed out).

    The request loaded a read-only `LiveSession`; this is the ORM row, to change it
    (re-authentication, sign-out), loaded on the few pages that do.
    """
    from flask_login import current_user

    from webapp.auth.models import UserSession
    from webapp.extensions import db

    if not getattr(current_user, "is_authenticated", False):
        return None
    live = g.get("user_session")
    return db.session.get(UserSession, live.id) if live is not None else None
