"""Language and time zone of the current request: the user's choice, else the browser's."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user


def select_locale() -> str:
    """Pick English or Simplified Chinese for this request (English outside requests)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    choice = request.cookies.get("lang")
    if choice in current_app.config["LANGUAGES"]:
        return choice
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-SG"])
    return "zh_Hans" if best and best.startswith("zh") else "en"


def select_timezone() -> str:
    """Show times in the signed-in user's vendor time zone (UTC when signed out)."""
    if not has_request_context():
        return "UTC"
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.vendor.timezone
    return "UTC"
