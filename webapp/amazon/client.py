"""A small SP-API client on httpx: LWA tokens, shared rate limits, retries, paging, windows."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import logging
import random
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.fernet import MultiFernet
from flask import current_app

from webapp.amazon import schemas
from webapp.crypto import cipher, decrypt
from webapp.redis_conn import get_redis

log = logging.getLogger(__name__)

REGION_ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL
# The sandbox's default account, used in development when a vendor has no credentials yet.
SANDBOX_CREDENTIALS = ("sandbox-client-id", "sandbox-client-secret", "sandbox-refresh-token")
MAX_WINDOW = timedelta(days=7)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A POST answered 500 (or cut off after sending) may have been processed: never resent blindly.
POST_RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Operation:
    """One SP-API operation: where it lives, which model describes it and its usage plan."""

    name: str
    method: str
    path: str  # the model's path template
    model: str
    rate: float  # requests per second
    burst: int
    repeatable: bool = False  # a POST whose accidental repeat harms nothing (createReport)


OPERATIONS = {
    op.name: op
    for op in (
        Operation("getPurchaseOrders", "GET", "/vendor/orders/v1/purchaseOrders",
                  "vendorOrders.json", 10, 10),
        Operation("getPurchaseOrder", "GET",
                  "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}",
                  "vendorOrders.json", 10, 10),
        Operation("submitAcknowledgement", "POST", "/vendor/orders/v1/acknowledgements",
                  "vendorOrders.json", 10, 10),
        Operation("getPurchaseOrdersStatus", "GET", "/vendor/orders/v1/purchaseOrdersStatus",
                  "vendorOrders.json", 10, 10),
        Operation("getTransaction", "GET", "/vendor/transactions/v1/transactions/{transactionId}",
                  "vendorTransactionStatus.json", 10, 20),
        Operation("submitInvoices", "POST", "/vendor/payments/v1/invoices",
                  "vendorInvoices.json", 10, 10),
        Operation("SubmitShipmentConfirmations", "POST",
                  "/vendor/shipping/v1/shipmentConfirmations", "vendorShipments.json", 10, 10),
        # Reports API usage plans from reports_2021-06-30.json.
        Operation("createReport", "POST", "/reports/2021-06-30/reports",
                  "reports_2021-06-30.json", 0.0167, 15, repeatable=True),
        Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}",
                  "reports_2021-06-30.json", 2, 15),
        Operation("getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}",
                  "reports_2021-06-30.json", 0.0167, 15),
    )
}


class SpApiError(Exception):
    """Amazon (or the way to it) refused or failed a call; `status` 0 means no HTTP answer."""

    def __init__(self, status: int, code: str, message: str, operation: str):
        self.status, self.code, self.message, self.operation = status, code, message, operation
        super().__init__(f"{operation}: HTTP {status} {code}: {message}")


class SpApiMalformedResponse(SpApiError):
    """Amazon answered with a body that is not the JSON the model promises."""


class SpApiUncertain(SpApiError):
    """A submission may or may not have reached Amazon (500, timeout after sending)."""


class SpApiNotConfigured(SpApiError):
    """The vendor has no SP-API credentials (and no sandbox default applies)."""


@dataclass(frozen=True)
class Credentials:
    """LWA app credentials and a selling partner's refresh token."""

    client_id: str
    client_secret: str
    refresh_token: str
    region: str = "na"

    @property
    def account_key(self) -> str:
        """A stable, non-secret name for this authorisation (rate limits and token cache)."""
        digest = hashlib.sha256(f"{self.client_id}\0{self.refresh_token}".encode()).hexdigest()
        return digest[:24]

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(client_id={self.client_id!r}, region={self.region!r})"


# Stay a little under Amazon's plan (rate x 0.9, burst - 1): network jitter bunches requests up
# on the way, and Amazon's bucket, not ours, decides.
RATE_SAFETY = 0.9
# A token bucket per key, refilled by Redis's own clock so all workers agree. Callers reserve a
# token even when the bucket is empty and sleep the returned delay: one round trip per call,
# and waiting callers are served in order instead of stampeding.
_BUCKET_SCRIPT = """
local plan = tonumber(redis.call('HGET', KEYS[1], 'rate')) or tonumber(ARGV[1])
local rate = plan * tonumber(ARGV[3])
local burst = math.max(1, tonumber(ARGV[2]) - 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts'))
if tokens == nil or ts == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class RateLimiter:
    """Token buckets per (account, operation), shared by every worker through Redis."""

    def __init__(self, redis_client, enabled: bool = True):
        self.redis = redis_client
        self.enabled = enabled
        self._script = redis_client.register_script(_BUCKET_SCRIPT) if enabled else None
        self._known_rates: dict[str, float] = {}

    @staticmethod
    def key(account: str, operation: Operation) -> str:
        return f"acorn:spapi:bucket:{account}:{operation.name}"

    def acquire(self, account: str, operation: Operation) -> float:
        """Take one token, sleeping until it is ours; return the time slept."""
        if not self.enabled:
            return 0.0
        wait = float(self._script(keys=[self.key(account, operation)],
                                  args=[operation.rate, operation.burst, RATE_SAFETY]))
        if wait > 0:
            time.sleep(wait)
        return wait

    def observe_limit(self, account: str, operation: Operation, header: str | None) -> None:
        """Adopt the rate Amazon says applies (`x-amzn-RateLimit-Limit`)."""
        if not self.enabled or not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        key = self.key(account, operation)
        if rate > 0 and self._known_rates.get(key) != rate:
            self.redis.hset(key, "rate", repr(rate))
            self._known_rates[key] = rate


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


def resolve_endpoints(config, region: str) -> tuple[str, str]:
    """Return (API endpoint, LWA token URL): overrides, else sandbox in development, else Amazon."""
    endpoint, token_url = config.get("SPAPI_ENDPOINT"), config.get("SPAPI_TOKEN_URL")
    if config.get("ENV_NAME") == "production":
        default_endpoint, default_token = REGION_ENDPOINTS[region], LWA_TOKEN_URL
    else:
        default_endpoint = f"http://127.0.0.1:{config.get('SANDBOX_PORT', 5055)}"
        default_token = None
    endpoint = (endpoint or default_endpoint).rstrip("/")
    return endpoint, token_url or default_token or f"{endpoint}/auth/o2/token"


def vendor_credentials(vendor) -> Credentials:
    """Decrypt a vendor's SP-API credentials; the sandbox default outside production."""
    if vendor.spapi_client_id and vendor.spapi_client_secret_enc and vendor.spapi_refresh_token_enc:
        return Credentials(vendor.spapi_client_id, decrypt(vendor.spapi_client_secret_enc),
                           decrypt(vendor.spapi_refresh_token_enc), vendor.spapi_region or "na")
    if current_app.config.get("ENV_NAME") == "production":
        raise SpApiNotConfigured(0, "NotConfigured",
                                 f"vendor {vendor.id} has no SP-API credentials", "lwa")
    return Credentials(*SANDBOX_CREDENTIALS, region=vendor.spapi_region or "na")


def has_credentials(vendor) -> bool:
    """Tell whether a vendor can be synced (own credentials, or the sandbox in development)."""
    if vendor.spapi_client_id and vendor.spapi_refresh_token_enc:
        return True
    return current_app.config.get("ENV_NAME") != "production"


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
