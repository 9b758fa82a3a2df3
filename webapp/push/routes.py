"""Alert pages: the Notifications section of Settings, device subscription, and the inbox."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.auth.access import require_permission
from webapp.auth.principal import signed_in_user
from webapp.extensions import db
from webapp.push import services
from webapp.push.kinds import CATEGORIES
from webapp.push.vapid import vapid_keys

bp = Blueprint("push", __name__)


@bp.get("/settings/notifications")
@require_permission("account.manage")
def settings():
    """Show alert devices, the alert kinds switched on, quiet hours and the test button."""
    prefs = services.preferences_for(current_user.id)
    return render_template(
        "push/settings.html", prefs=prefs, devices=services.list_devices(signed_in_user()),
        categories=[c for c in CATEGORIES.values()
                    if c.name != "test" and c.allows(current_user.role)],
        vapid_public_key=vapid_keys().public_key,
    )


@bp.post("/settings/notifications")
@require_permission("account.manage")
def save_settings():
    """Save which alerts the user wants, the deadline reminders and quiet hours."""
    form = request.form
    try:
        hours = [int(h) for h in form.get("deadline_hours", "").replace(" ", "").split(",") if h]
        services.save_preferences(
            signed_in_user(), enabled=set(form.getlist("enabled")), deadline_hours=hours,
            quiet_start=services.parse_clock(form.get("quiet_start")),
            quiet_end=services.parse_clock(form.get("quiet_end")))
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc) if isinstance(exc, services.PushError)
              else _("Deadline reminders are whole hours, like 6, 1."), "error")
        return redirect(url_for(".settings"))
    db.session.commit()
    flash(_("Alert settings saved."), "info")
    return redirect(url_for(".settings"))


@bp.post("/settings/notifications/devices")
@require_permission("account.manage")
def add_device():
    """Store this browser's push subscription (JSON from app.js, CSRF token in a header)."""
    body = request.get_json(silent=True) or {}
    try:
        device = services.subscribe(signed_in_user(), body.get("subscription"),
                                    label=body.get("label"),
                                    user_agent=request.headers.get("User-Agent"))
    except services.PushError as exc:
        db.session.rollback()
        return jsonify(error={"code": "invalid", "message": str(exc)}), 422
    db.session.commit()
    return jsonify(id=device.id, label=device.label), 201


@bp.post("/settings/notifications/devices/<int:device_id>/delete")
@require_permission("account.manage")
def remove_device(device_id: int):
    """Stop alerts to one of the user's devices."""
    if not services.remove_device(signed_in_user(), device_id=device_id):
        return redirect(url_for(".settings"))  # already gone, or someone else's: say nothing
    db.session.commit()
    flash(_("Device removed. It gets no more alerts."), "info")
    return redirect(url_for(".settings"))


@bp.post("/settings/notifications/test")
@require_permission("account.manage")
def send_test():
    """Push a test alert to every device of the user, through the normal queue."""
    ids = services.send_test_notification(signed_in_user())
    if ids:
        flash(_("Test notification sent to %(n)d device(s).", n=len(ids)), "info")
    else:
        flash(_("No device gets alerts yet; the test is in your alert list."), "info")
    return redirect(url_for(".settings"))


@bp.get("/alerts")
@require_permission("account.manage")
def inbox():
    """List the user's recent alerts (also for users who turned push off)."""
    return render_template("push/inbox.html", alerts=services.recent_alerts(signed_in_user()),
                           unread=services.unread_count(signed_in_user()))


@bp.post("/alerts/read")
@require_permission("account.manage")
def mark_read():
    """Mark every alert read."""
    services.mark_all_read(signed_in_user())
    db.session.commit()
    return redirect(url_for(".inbox"))
