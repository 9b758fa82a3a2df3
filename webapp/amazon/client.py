"""A small SP-API client on httpx: LWA tokens, shared rate limits, retries, paging, windows."""

from __future__ import annotations

import functools
import gzip
import json
import logging
import random
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.fernet import MultiFernet
from flask import current_app

from webapp.amazon import schemas
from webapp.amazon.accounts import Credentials, resolve_endpoints, vendor_credentials
from webapp.amazon.errors import SpApiError, SpApiMalformedResponse, SpApiUncertain
from webapp.amazon.operations import OPERATIONS, Operation
from webapp.amazon.rate_limit import RateLimiter
from webapp.crypto import cipher
from webapp.redis_conn import get_redis

log = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=7)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A POST answered 500 (or cut off after sending) may have been processed: never resent blindly.
POST_RETRY_STATUSES = frozenset({429, 503})


def isoformat(moment: datetime) -> str:
    """Format an aware time as Amazon's ISO 8601 UTC (`2026-01-02T03:04:05Z`)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; attach a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(start: datetime, end: datetime, size: timedelta = MAX_WINDOW):
    """Split [start, end) into consecutive windows of at most `size` (Amazon's 7-day limit)."""
    while start < end:
        stop = min(start + size, end)
        yield start, stop
        start = stop


class SpApiClient:
    """Call SP-API operations for one selling partner authorisation."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoint: str,
        token_url: str,
        redis_client,
        timeout: float = 20.0,
        rate_limiting: bool = True,
        max_attempts: int = 8,
        backoff_base: float = 0.2,
        backoff_cap: float = 10.0,
        validate_responses: bool = False,
        cipher: MultiFernet | None = None,
    ):
        self.credentials = credentials
        # Encrypts the cached access token; held here so the client works outside a request.
        self.cipher = cipher or cipher(current_app.config)
        self.endpoint = endpoint.rstrip("/")
        self.token_url = token_url
        self.redis = redis_client
        self.limiter = RateLimiter(redis_client, enabled=rate_limiting)
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.validate_responses = validate_responses
        self.http = httpx.Client(timeout=httpx.Timeout(timeout), verify=_ssl_context(), headers={
            "user-agent": "ACORN/0.1 (Language=Python/3.11; Platform=Linux)",
        })
        self.stats = {"calls": 0, "retries": 0, "throttled": 0, "slept": 0.0}

    @classmethod
    def for_vendor(cls, vendor, app=None) -> SpApiClient:
        """Build a client for a vendor from the app's configuration."""
        app = app or current_app._get_current_object()
        creds = vendor_credentials(vendor)
        endpoint, token_url = resolve_endpoints(app.config, creds.region)
        return cls(
            creds,
            endpoint=endpoint,
            token_url=token_url,
            redis_client=get_redis(app),
            timeout=app.config.get("SPAPI_TIMEOUT_SECONDS", 20.0),
            rate_limiting=app.config.get("SPAPI_RATE_LIMITING", True),
            max_attempts=app.config.get("SPAPI_MAX_ATTEMPTS", 8),
            backoff_base=app.config.get("SPAPI_BACKOFF_BASE_SECONDS", 0.2),
            validate_responses=app.config.get("SPAPI_VALIDATE_RESPONSES", app.testing),
            cipher=cipher(app.config),
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- Login with Amazon ------------------------------------------------------------------

    @property
    def _token_key(self) -> str:
        return f"acorn:spapi:lwa:{self.credentials.account_key}"

    def access_token(self) -> str:
        """Return a valid LWA access token, shared by all workers through Redis (encrypted)."""
        cached = self.redis.get(self._token_key)
        if cached:
            try:
                return self.cipher.decrypt(bytes(cached)).decode()
            except Exception:  # noqa: BLE001 - key rotated or garbage: fetch a new token
                log.info("discarding an unreadable cached LWA token")
        data = self._send_with_retries(
            "lwa", "POST", self.token_url,
            data={"grant_type": "refresh_token", "refresh_token": self.credentials.refresh_token,
                  "client_id": self.credentials.client_id,
                  "client_secret": self.credentials.client_secret},
            retry_statuses=RETRY_STATUSES, retry_uncertain=True,
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise SpApiMalformedResponse(200, "MalformedResponse", "no access_token", "lwa")
        expires_in = int(data.get("expires_in") or 3600)
        # Refresh a minute early so a token never expires in flight.
        self.redis.set(self._token_key, self.cipher.encrypt(token.encode()),
                       ex=max(expires_in - 60, 1))
        return token

    def forget_token(self) -> None:
        self.redis.delete(self._token_key)

    # -- Calls ------------------------------------------------------------------------------

    def call(self, operation_name: str, *, path_params: dict | None = None,
             params: dict | None = None, body: Any = None) -> Any:
        """Call one operation and return its decoded JSON (Decimal for JSON numbers)."""
        op = OPERATIONS[operation_name]
        if body is not None:
            # Nothing leaves ACORN that its model would reject.
            schemas.validate_request_body(op.model, op.path, op.method.lower(), body)
        path = op.path.format(**{k: quote(str(v), safe="") for k, v in (path_params or {}).items()})
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        is_post = op.method == "POST" and not op.repeatable
        status, data = self._send_with_retries(
            op.name, op.method, f"{self.endpoint}{path}", params=query, json_body=body,
            operation=op, retry_statuses=POST_RETRY_STATUSES if is_post else RETRY_STATUSES,
            retry_uncertain=not is_post, with_status=True,
        )
        if self.validate_responses:
            try:
                schemas.validate_response(op.model, op.path, op.method.lower(), status, data)
            except schemas.SchemaError as exc:
                raise SpApiMalformedResponse(status, "SchemaMismatch", str(exc), op.name) from exc
        return data

    def pages(self, operation_name: str, params: dict, list_key: str) -> Iterator[list[dict]]:
        """Yield each page's list (`payload[list_key]`), following `nextToken` to the end."""
        params = dict(params)
        while True:
            data = self.call(operation_name, params=params)
            payload = data.get("payload") if isinstance(data, dict) else None
            if not isinstance(payload, dict):
                raise SpApiMalformedResponse(200, "MalformedResponse", "no payload object",
                                             operation_name)
            items = payload.get(list_key) or []
            if not isinstance(items, list):
                raise SpApiMalformedResponse(200, "MalformedResponse", f"{list_key} not a list",
                                             operation_name)
            yield items
            token = (payload.get("pagination") or {}).get("nextToken")
            if not token:
                return
            # Amazon: with nextToken, the other filters must be sent again unchanged.
            params = {**params, "nextToken": token}

    def download_document(self, url: str, compression: str | None = None) -> Any:
        """Fetch a report document from its (pre-signed) URL, gunzip if needed, decode JSON."""
        raw = self._send_with_retries("reportDocument", "GET", url, raw=True,
                                      retry_statuses=RETRY_STATUSES, retry_uncertain=True)
        if compression == "GZIP" or raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise SpApiMalformedResponse(200, "MalformedDocument", str(exc),
                                             "reportDocument") from exc
        try:
            return json.loads(raw, parse_float=Decimal)
        except ValueError as exc:
            raise SpApiMalformedResponse(200, "MalformedDocument", str(exc),
                                         "reportDocument") from exc

    # -- Transport --------------------------------------------------------------------------

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** attempt))
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), self.backoff_cap))
            except ValueError:
                pass
        return delay

    def _send_with_retries(self, name, method, url, *, params=None, json_body=None, data=None,
                           operation: Operation | None = None, retry_statuses=RETRY_STATUSES,
                           retry_uncertain=True, with_status=False, raw=False):
        """Send one request with rate limiting and retries; return decoded JSON (or bytes)."""
        account = self.credentials.account_key
        last_error: SpApiError | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self.stats["retries"] += 1
                pause = self._backoff(attempt, getattr(last_error, "retry_after", None))
                self.stats["slept"] += pause
                time.sleep(pause)
            headers = {}
            if operation is not None:
                self.stats["slept"] += self.limiter.acquire(account, operation)
                headers["x-amz-access-token"] = self.access_token()
                headers["x-amz-date"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            self.stats["calls"] += 1
            try:
                response = self.http.request(method, url, params=params, json=json_body,
                                             data=data, headers=headers)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                error_cls = SpApiUncertain if sent and not retry_uncertain else SpApiError
                last_error = error_cls(0, type(exc).__name__, str(exc) or "network error", name)
                if sent and not retry_uncertain:
                    raise last_error from exc
                continue
            if operation is not None:
                self.limiter.observe_limit(account, operation,
                                           response.headers.get("x-amzn-RateLimit-Limit"))
            status = response.status_code
            if status < 300:
                if raw:
                    return response.content
                try:
                    decoded = json.loads(response.content, parse_float=Decimal)
                except ValueError as exc:
                    last_error = SpApiMalformedResponse(status, "MalformedResponse",
                                                        f"not JSON: {exc}", name)
                    if not retry_uncertain:  # a submission's answer is lost: do not resend
                        raise SpApiUncertain(status, "MalformedResponse",
                                             f"not JSON: {exc}", name) from exc
                    continue
                return (status, decoded) if with_status else decoded
            code, message = _error_of(response)
            if status == 429:
                self.stats["throttled"] += 1
            if status in retry_statuses:
                last_error = SpApiError(status, code, message, name)
                last_error.retry_after = response.headers.get("retry-after")
                continue
            if status == 403 and operation is not None:
                self.forget_token()  # a revoked or expired token must not be reused
            if status >= 500 and method == "POST":
                raise SpApiUncertain(status, code, message, name)
            raise SpApiError(status, code, message, name)
        assert last_error is not None
        raise last_error


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process: building one costs more than a sandbox call."""
    return ssl.create_default_context()


def _query_value(value: Any) -> str:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """Read Amazon's first error (code, message); a 429 may come with no body at all."""
    try:
        body = response.json()
    except ValueError:
        return (f"HTTP{response.status_code}", response.reason_phrase or "no body")
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("code", "")), str(errors[0].get("message", ""))
        if "error" in body:  # LWA's OAuth-style errors
            return str(body["error"]), str(body.get("error_description", ""))
    return (f"HTTP{response.status_code}", response.reason_phrase or "")
