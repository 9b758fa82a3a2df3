"""What the service worker needs from the server: a per-user cache key and the page's time.

Signed-in pages carry `X-Acorn-Cache-Key`, an opaque key derived from the user id and the
secret key. The service worker keeps pages in one cache per key, so a phone shared by two
users never shows one user's cached orders to the other; the first page of a new user drops
every other user's cache. Each page also states when it was rendered (`rendered_at`): a page
later shown from the cache says "offline, as of HH:MM" in the vendor's time zone.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request
from flask_login import current_user

from webapp.db_types import utcnow

CACHE_KEY_HEADER = "X-Acorn-Cache-Key"


def cache_key(user_id: int) -> str:
    """The opaque service-worker cache key of a user (stable, not guessable)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"sw-pages:{user_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _add_cache_key(response):
    if (request.method == "GET" and response.mimetype == "text/html"
            and getattr(current_user, "is_authenticated", False)):
        response.headers[CACHE_KEY_HEADER] = cache_key(current_user.id)
    return response


def init_pwa(app: Flask) -> None:
    """Register the cache-key header and the `rendered_at` template global."""
    app.after_request(_add_cache_key)
    app.jinja_env.globals["rendered_at"] = utcnow
