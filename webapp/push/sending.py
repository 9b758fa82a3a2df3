"""One push request: the payload, pywebpush with timeout and TTL, and what the answer means.

Requests go out through pywebpush's asyncio API on aiohttp: one event loop per batch keeps
several requests in flight without threads (no interpreter-lock hand-offs between them), and
an aiohttp request costs less than half the CPU of a `requests` one (docs/benchmarks.md).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
from pywebpush import WebPushException, webpush_async

from webapp.db_types import utcnow
from webapp.push.models import Alert, DeliveryState

# Push services accept at least 4096 bytes of payload; the body is cut well below that.
MAX_BODY_CHARS = 600


@dataclass(frozen=True)
class Outcome:
    """What one push request came to."""

    state: DeliveryState
    status_code: int | None = None
    retry_after: float | None = None  # seconds, from a 429's Retry-After
    error: str | None = None


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), if any.

    Read once per push service: aiohttp's own `trust_env` re-reads the environment and the
    netrc file on every request. Push services authenticate with VAPID, never with netrc.
    """
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class PushSessions:
    """One aiohttp session per push service origin, each with its proxy read once."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], aiohttp.ClientSession] = {}

    def for_endpoint(self, endpoint: str) -> aiohttp.ClientSession:
        parts = urlsplit(endpoint)
        key = (parts.scheme, parts.netloc)
        session = self._sessions.get(key)
        if session is None:
            session = aiohttp.ClientSession(trust_env=False, proxy=proxy_for(endpoint))
            self._sessions[key] = session
        return session

    async def __aenter__(self) -> PushSessions:
        return self

    async def __aexit__(self, *exc) -> None:
        for session in self._sessions.values():
            await session.close()


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


def send_push(subscription_info: dict, payload: bytes, *, ttl: int, urgency: str,
              topic: str | None, signer, claims: dict, session: aiohttp.ClientSession,
              timeout: float) -> Coroutine[None, None, Outcome]:
    """Return the sending of one encrypted message, to await; a TTL of 0 is refused at once.

    `claims` must be a fresh dict for each call: pywebpush writes `aud` and `exp` into it.
    """
    if ttl <= 0:
        raise ValueError("TTL must be positive: 0 means an offline device never gets it")
    return _send(subscription_info, payload, ttl=ttl, urgency=urgency, topic=topic,
                 signer=signer, claims=claims, session=session, timeout=timeout)


async def _send(subscription_info: dict, payload: bytes, *, ttl: int, urgency: str,
                topic: str | None, signer, claims: dict, session: aiohttp.ClientSession,
                timeout: float) -> Outcome:
    """Send one message and classify the answer; never raises for HTTP trouble."""
    headers = {"Urgency": urgency}
    if topic:
        headers["Topic"] = topic
    try:
        response = await webpush_async(
            subscription_info, data=payload, vapid_private_key=signer, vapid_claims=claims,
            ttl=ttl, headers=headers, aiohttp_session=session,
            # Like requests' timeout: for the connection and for each read; a cap on the whole.
            timeout=aiohttp.ClientTimeout(total=3 * timeout, connect=timeout, sock_read=timeout),
        )
        return classify_response(response.status)
    except WebPushException as exc:
        if exc.response is None:
            return Outcome(DeliveryState.FAILED, error=str(exc)[:300])
        return classify_response(exc.response.status, exc.response.headers.get("Retry-After"))
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        # The connection was never made: the service cannot have the message.
        return Outcome(DeliveryState.PENDING, error=f"cannot connect: {type(exc).__name__}")
    except (TimeoutError, aiohttp.ClientError) as exc:
        # A read timeout or a dropped connection: the service may have the message already.
        return Outcome(DeliveryState.IN_DOUBT, error=f"no answer: {type(exc).__name__}")
