"""Push endpoints of the JSON API (/api/v1/push/...), for token-authenticated clients."""

from __future__ import annotations

from flask import jsonify, request

from webapp.api import api_bp, api_error
from webapp.auth.access import require_permission
from webapp.auth.principal import signed_in_user
from webapp.extensions import db
from webapp.push import services
from webapp.push.vapid import vapid_keys


def _device_json(device) -> dict:
    return {"id": device.id, "label": device.label, "endpoint": device.endpoint,
            "created_at": device.created_at.isoformat(),
            "last_success_at": device.last_success_at and device.last_success_at.isoformat()}


@api_bp.get("/push/vapid-public-key")
def vapid_public_key():
    """Return the application server key browsers subscribe with (public by nature)."""
    return jsonify(publicKey=vapid_keys().public_key)


@api_bp.post("/push/subscriptions")
@require_permission("account.manage")
def create_subscription():
    """Store a `PushSubscription.toJSON()` (plus an optional "label") as a device."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "expected a JSON object")
    subscription = body.get("subscription", body)
    try:
        device = services.subscribe(signed_in_user(), subscription, label=body.get("label"),
                                    user_agent=request.headers.get("User-Agent"))
    except services.PushError as exc:
        db.session.rollback()
        return api_error(422, str(exc))
    db.session.commit()
    return jsonify(_device_json(device)), 201


@api_bp.get("/push/subscriptions")
@require_permission("account.manage")
def list_subscriptions():
    """List the user's devices."""
    return jsonify(subscriptions=[_device_json(d) for d in services.list_devices(signed_in_user())])


@api_bp.delete("/push/subscriptions/<int:device_id>")
@require_permission("account.manage")
def delete_subscription(device_id: int):
    """Remove one of the user's devices."""
    if not services.remove_device(signed_in_user(), device_id=device_id):
        return api_error(404, "no such device")
    db.session.commit()
    return "", 204


@api_bp.get("/push/alerts")
@require_permission("account.manage")
def list_alerts():
    """List the user's recent alerts, newest first."""
    return jsonify(alerts=[{
        "id": a.id, "kind": a.kind, "title": a.title, "body": a.body, "url": a.url,
        "created_at": a.created_at.isoformat(), "read": a.read_at is not None,
    } for a in services.recent_alerts(signed_in_user())])
