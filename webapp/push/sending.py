"""One push request: the payload, pywebpush with timeout and TTL, and what the answer means."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from flask import current_app
from pywebpush import WebPushException, webpush

from webapp.db_types import utcnow
from webapp.push.models import Alert, DeliveryState
from webapp.push.vapid import vapid_claims, vapid_keys

# Push services accept at least 4096 bytes of payload; the body is cut well below that.
MAX_BODY_CHARS = 600


@dataclass(frozen=True)
class Outcome:
    """What one push request came to."""

    state: DeliveryState
    status_code: int | None = None
    retry_after: float | None = None  # seconds, from a 429's Retry-After
    error: str | None = None


class PushSession(requests.Session):
    """A requests session that reads proxy settings from the environment once per origin.

    requests re-reads every environment variable for proxies on each request, which costs
    more than the message's encryption; the answer only changes with the origin.
    """

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert)
        return dict(self._settings[key])


def alert_payload(alert: Alert) -> dict:
    """Return what the service worker receives for `alert` (also used by the browser test)."""
    data = dict(alert.data or {})
    return {
        "id": alert.id, "kind": alert.kind, "title": alert.title,
        "body": alert.body[:MAX_BODY_CHARS], "url": alert.url,
        "tag": alert.topic or f"alert-{alert.id}", "urgency": alert.urgency,
        "timestamp": int(alert.created_at.timestamp() * 1000),
        "po_number": data.get("po_number"), "deadline": data.get("deadline"),
        "warehouse": data.get("warehouse"), "actions": data.get("actions", []),
    }


def parse_retry_after(value: str | None) -> float | None:
    """Read Retry-After as seconds (RFC 9110: delay seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def classify_response(status: int, retry_after: str | None = None) -> Outcome:
    """Map a push service's answer to what happens to the delivery."""
    if status in (200, 201, 202):
        return Outcome(DeliveryState.SENT, status)
    if status in (404, 410):
        return Outcome(DeliveryState.GONE, status, error="subscription expired or unsubscribed")
    if status == 429:
        return Outcome(DeliveryState.PENDING, status, parse_retry_after(retry_after),
                       "rate limited by the push service")
    if status >= 500:
        return Outcome(DeliveryState.PENDING, status, error=f"push service error {status}")
    # 413 (payload too large), 400, 401, 403: sending the same request again cannot help.
    return Outcome(DeliveryState.FAILED, status, error=f"refused by the push service ({status})")


def _never_reached(exc: requests.RequestException) -> bool:
    """Tell whether the request certainly never reached the push service."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = str(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        s in text for s in ("NewConnectionError", "Connection refused", "Failed to resolve",
                            "Name or service not known"))


def send_push(subscription_info: dict, payload: bytes, *, ttl: int, urgency: str,
              topic: str | None, session: requests.Session | None = None,
              timeout: float | None = None) -> Outcome:
    """Send one encrypted message and classify the answer; never raises for HTTP trouble."""
    if ttl <= 0:
        raise ValueError("TTL must be positive: 0 means an offline device never gets it")
    headers = {"Urgency": urgency}
    if topic:
        headers["Topic"] = topic
    try:
        response = webpush(
            subscription_info, data=payload, vapid_private_key=vapid_keys().signer,
            vapid_claims=vapid_claims(),  # fresh per call: webpush writes aud/exp into it
            ttl=ttl, headers=headers, requests_session=session,
            timeout=timeout or current_app.config["PUSH_TIMEOUT_SECONDS"],
        )
        return classify_response(response.status_code)
    except WebPushException as exc:
        if exc.response is None:
            return Outcome(DeliveryState.FAILED, error=str(exc)[:300])
        return classify_response(exc.response.status_code, exc.response.headers.get("Retry-After"))
    except requests.RequestException as exc:
        if _never_reached(exc):
            return Outcome(DeliveryState.PENDING, error=f"cannot connect: {type(exc).__name__}")
        # A read timeout or a dropped connection: the service may have the message already.
        return Outcome(DeliveryState.IN_DOUBT, error=f"no answer: {type(exc).__name__}")
