"""A local Web Push service on 127.0.0.1 for tests and the bench.

It hands out subscriptions (an endpoint plus the browser-side P-256 key and auth secret it
keeps), decrypts every message it receives (RFC 8291 aes128gcm, via http_ece) and checks the
VAPID JWT (RFC 8292: ES256 signature with the `k` key, `aud` = this origin, `exp` within 24 h,
a `sub` contact). Its answers can be switched: 201, 404, 410, 413, 429 with Retry-After, 503,
or hang until released.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Answer:
    """How the service answers a request."""

    status: int = 201
    retry_after: str | None = None
    hang: bool = False


@dataclass
class Received:
    """One request as the service saw it."""

    token: str
    status: int
    headers: dict
    at: float
    payload: dict | None = None  # decrypted JSON, when decryption worked
    claims: dict | None = None  # the verified VAPID claims
    error: str | None = None


@dataclass
class _Device:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes


@dataclass
class PushService:
    """The service: `with PushService() as service:` starts and stops it."""

    verify: bool = True
    expected_vapid_key: str | None = None  # the app server's public key, when known
    answer: Answer = field(default_factory=Answer)
    requests: list[Received] = field(default_factory=list)
    delay: float = 0.0  # seconds before each answer: a push service across the internet

    def __post_init__(self) -> None:
        self._devices: dict[str, _Device] = {}
        self._per_token: dict[str, list[Answer]] = {}
        self._hang_after: int | None = None
        self._hang_from: int | None = None
        self._taken = 0  # requests answered or being answered (counted before decrypting)
        self.held = 0  # requests being held right now
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.hanging = threading.Event()  # set while a request is held
        self.server: ThreadingHTTPServer | None = None

    # --- control ------------------------------------------------------------------------

    def __enter__(self) -> PushService:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> PushService:
        service = self

        class Handler(_Handler):
            owner = service

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def new_subscription(self) -> dict:
        """Make a browser-side key pair and return what `PushSubscription.toJSON()` gives."""
        key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        token = secrets.token_urlsafe(12)
        self._devices[token] = _Device(key, auth)
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}/push/{token}", "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def set_answer(self, status: int = 201, *, retry_after: str | None = None,
                   hang: bool = False) -> None:
        """Answer every request like this from now on."""
        self.answer = Answer(status, retry_after, hang)

    def script(self, endpoint: str, *answers: Answer) -> None:
        """Answer the next requests to `endpoint` with `answers`, in order, then as usual."""
        self._per_token[endpoint.rsplit("/", 1)[-1]] = list(answers)

    def hang_after(self, count: int | None) -> None:
        """Hang (after decrypting) the request that comes when `count` were already taken."""
        self._hang_after = count

    def hang_from(self, count: int | None) -> None:
        """Hang every request that comes when `count` were already taken (all senders stall)."""
        self._hang_from = count

    def delivered(self, status: int = 201) -> list[Received]:
        """Requests answered with `status` whose message decrypted and verified."""
        return [r for r in self.requests if r.status == status and r.payload is not None]

    def count_by_device_and_alert(self) -> dict[tuple[str, int], int]:
        """How often each (device, alert id) reached the service, whatever it answered."""
        counts: dict[tuple[str, int], int] = {}
        for r in self.requests:
            if r.payload is not None:
                key = (r.token, r.payload.get("id"))
                counts[key] = counts.get(key, 0) + 1
        return counts

    # --- checks -------------------------------------------------------------------------

    def check_vapid(self, authorization: str) -> dict:
        """Verify the `vapid t=..., k=...` header; return the JWT claims."""
        if not authorization.lower().startswith("vapid "):
            raise ValueError("Authorization is not a vapid scheme")
        parts = dict(p.strip().split("=", 1) for p in authorization[6:].split(","))
        token, key = parts["t"], parts["k"]
        if self.expected_vapid_key and key != self.expected_vapid_key:
            raise ValueError("signed with an unexpected application server key")
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        if header.get("alg") != "ES256":
            raise ValueError(f"JWT alg is {header.get('alg')}, not ES256")
        signature = b64url_decode(signature_b64)
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                   int.from_bytes(signature[32:], "big"))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        try:
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise ValueError("VAPID signature does not verify") from exc
        claims = json.loads(b64url_decode(claims_b64))
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud is {claims.get('aud')!r}, not {self.origin!r}")
        now = time.time()
        if not (now < claims.get("exp", 0) <= now + 24 * 3600):
            raise ValueError("exp is not within the next 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("sub must be a mailto: or https: contact")
        return claims

    def decrypt(self, token: str, body: bytes) -> dict:
        """Decrypt an aes128gcm message with the device's keys; return its JSON."""
        device = self._devices[token]
        plain = http_ece.decrypt(body, private_key=device.private_key,
                                 auth_secret=device.auth, version="aes128gcm")
        return json.loads(plain)

    def _next_answer(self, token: str) -> Answer:
        with self._lock:
            self._taken += 1
            scripted = self._per_token.get(token)
            if scripted:
                return scripted.pop(0)
            if self._hang_after is not None and len(self.requests) >= self._hang_after:
                self._hang_after = None
                return Answer(201, hang=True)
            if self._hang_from is not None and self._taken > self._hang_from:
                return Answer(201, hang=True)
            return self.answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real push service
    owner: PushService

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """`GET /_stats`: how many requests arrived (for the bench, which runs us as a process)."""
        body = json.dumps({"requests": len(self.owner.requests)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        service = self.owner
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = self.path.rsplit("/", 1)[-1]
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = Received(token, 0, headers, time.time())
        answer = service._next_answer(token)
        status = answer.status
        if token not in service._devices and service.verify:
            status, record.error = 404, "unknown subscription"
        elif service.verify:
            try:
                if headers.get("content-encoding") != "aes128gcm":
                    raise ValueError("Content-Encoding is not aes128gcm")
                if int(headers.get("ttl", "0")) <= 0:
                    raise ValueError("TTL missing or 0")
                record.claims = service.check_vapid(headers.get("authorization", ""))
                record.payload = service.decrypt(token, body)
            except Exception as exc:  # noqa: BLE001 - report any refusal as 400
                status, record.error = 400, f"{type(exc).__name__}: {exc}"
        else:
            record.payload = {"id": None}
        record.status = status
        held = answer.hang and record.error is None
        with service._lock:
            service.requests.append(record)
            service.held += held
        if service.delay:
            time.sleep(service.delay)
        if held:
            service.hanging.set()
            service.release.wait(120)
            with service._lock:
                service.held -= 1
        self.send_response(status)
        if answer.retry_after and status == 429:
            self.send_header("Retry-After", answer.retry_after)
        if status == 201:
            self.send_header("Location", f"{service.origin}/message/{secrets.token_hex(6)}")
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve_forever() -> None:
    """Run a counting (not decrypting) service in this process; print its origin, stop on EOF.

    PUSH_SERVICE_DELAY_MS delays every answer, as a real push service 50-200 ms away would.
    """
    import os
    import sys

    delay = float(os.environ.get("PUSH_SERVICE_DELAY_MS", "0")) / 1000
    service = PushService(verify=False, delay=delay).start()
    print(service.origin, flush=True)
    sys.stdin.read()
    service.stop()


# --- test data helpers (shared by tests/test_push_*.py and the bench) -----------------------

def make_vendor(name: str = "Acme Supplies", domain: str = "acme.example",
                code: str = "ACME1", timezone: str = "Asia/Shanghai"):
    """Create a vendor (committed)."""
    from webapp.extensions import db
    from webapp.vendors.services import create_vendor

    vendor = create_vendor(name, domains=[domain], vendor_codes=[code], timezone=timezone)
    db.session.commit()
    return vendor


def make_user(vendor, email: str, role: str = "manager", locale: str | None = None):
    """Create an active user of `vendor` (committed)."""
    from webapp.auth.models import User
    from webapp.extensions import db

    user = User(vendor_id=vendor.id, email=email, role=role, locale=locale, active=True)
    db.session.add(user)
    db.session.commit()
    return user


def make_po(vendor, number: str, *, due_in_hours: float = 20, warehouse: str = "PHX7"):
    """Create an unanswered PO of `vendor` due in `due_in_hours` (committed)."""
    from datetime import timedelta

    from webapp.db_types import utcnow
    from webapp.extensions import db
    from webapp.orders.models import PurchaseOrder

    now = utcnow()
    po = PurchaseOrder(vendor_id=vendor.id, po_number=number, ordered_at=now,
                       ack_due_at=now + timedelta(hours=due_in_hours),
                       ship_to_party_id=warehouse)
    db.session.add(po)
    db.session.commit()
    return po


def add_device(user, service: PushService, label: str = "Phone"):
    """Subscribe a new device of `service` for `user` (committed); return it."""
    from webapp.extensions import db
    from webapp.push.services import subscribe

    device = subscribe(user, service.new_subscription(), label=label)
    db.session.commit()
    return device


if __name__ == "__main__":
    serve_forever()
