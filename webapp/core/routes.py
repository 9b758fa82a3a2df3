"""App-wide pages: the start page, health, the service worker, manifest and offline page."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from webapp.core.health import health_report

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    """Show the start page; signed-in users go straight to their orders."""
    if current_user.is_authenticated:
        return redirect(url_for("orders.inbox"))
    return render_template("core/index.html")


@bp.get("/healthz")
def healthz():
    """Report database, Redis and worker health as JSON: 200 when all fine, 503 otherwise."""
    report, healthy = health_report()
    response = jsonify(report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root so its scope is the whole app."""
    response = send_from_directory(current_app.static_folder, "sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    response.mimetype = "text/javascript"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the web app manifest."""
    response = send_from_directory(current_app.static_folder, "manifest.webmanifest", max_age=3600)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline")
def offline():
    """Render the page the service worker shows when a page cannot be loaded."""
    return render_template("core/offline.html")
