"""`Idempotency-Key` for API writes: the first request owns the key, repeats replay its answer.

The key row is inserted and committed before the work starts, so the unique constraint lets one
request through; the others wait for its stored answer and replay it byte for byte. The work
and the stored answer commit in one transaction, so a crash leaves neither (the key is free).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from webapp.api import api_error
from webapp.api.models import IdempotencyKey
from webapp.db_types import utcnow
from webapp.extensions import db

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
WAIT_SECONDS = 20  # how long a repeat waits for the first request's answer
# A key whose first request never finished (its process died) is free again after this.
ABANDONED_AFTER = timedelta(minutes=2)


def _body_hash() -> str:
    """Hash the body; a form is parsed before views run (raw body gone): hash what it held."""
    digest = hashlib.sha256(request.get_data(cache=True))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name, value in sorted((n or "", v or "") for n, v in request.form.items(multi=True)):
            field = f"\0field\0{len(name)}:{name}{len(value)}:{value}"
            digest.update(field.encode(errors="surrogatepass"))
        for name, upload in request.files.items(multi=True):  # in order: pages are ordered
            part = f"\0file\0{len(name or '')}:{name}\0{upload.filename}\0"
            digest.update(part.encode(errors="surrogatepass"))
            upload.stream.seek(0)
            for chunk in iter(lambda s=upload.stream: s.read(1 << 16), b""):
                digest.update(chunk)
            upload.stream.seek(0)
    return digest.hexdigest()


def _claim(key: str, digest: str) -> IdempotencyKey | None:
    """Insert the key row; None when another request holds the key."""
    row = IdempotencyKey(vendor_id=current_user.vendor_id, key=key, user_id=current_user.id,
                         method=request.method, path=request.path[:300], request_hash=digest)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return row


def _existing(key: str) -> IdempotencyKey | None:
    db.session.rollback()  # a fresh snapshot: see what the other request committed
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.vendor_id == current_user.vendor_id, IdempotencyKey.key == key))


def _replay(row: IdempotencyKey):
    response = jsonify(row.response_body)
    response.status_code = row.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _wait_for_first(key: str, digest: str):
    """Wait for the request owning `key`, then replay its answer (or explain why not)."""
    deadline = time.monotonic() + current_app.config.get("IDEMPOTENCY_WAIT_SECONDS",
                                                         WAIT_SECONDS)
    while True:
        row = _existing(key)
        if row is None:
            return None  # the first request failed and freed the key: try to claim it
        if row.request_hash != digest or row.path != request.path[:300]:
            return api_error(422, "This Idempotency-Key was used with another request.",
                             "idempotency_key_reused")
        if row.status_code is not None:
            return _replay(row)
        if utcnow() - row.created_at > ABANDONED_AFTER:
            db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id,
                                                            IdempotencyKey.status_code.is_(None)))
            db.session.commit()
            return None
        if time.monotonic() > deadline:
            return api_error(409, "A request with this Idempotency-Key is still running; "
                             "try again shortly.", "idempotency_key_in_use")
        time.sleep(0.05)


def _release(row_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
    db.session.commit()


def idempotent(view: Callable) -> Callable:
    """Decorate a write: the view returns (body, status, after_commit) and never commits."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = (request.headers.get(HEADER) or "").strip()
        if not key:
            return api_error(400, f"Send an {HEADER} header with every write.",
                             "idempotency_key_required")
        if len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return api_error(400, f"The {HEADER} must be 1-{MAX_KEY_LENGTH} printable "
                             "characters.", "idempotency_key_invalid")
        digest = _body_hash()
        for _ in range(3):
            row = _claim(key, digest)
            if row is not None:
                break
            answer = _wait_for_first(key, digest)
            if answer is not None:
                return answer
        else:
            return api_error(409, "Could not take the Idempotency-Key; try again.",
                             "idempotency_key_in_use")
        row_id = row.id
        try:
            body, status, after = view(*args, **kwargs)
        except HTTPException as exc:
            _release(row_id)
            if exc.code and exc.code < 500:
                return api_error(exc.code, exc.description or exc.name)
            raise
        except Exception:
            _release(row_id)
            raise
        if status >= 500:
            _release(row_id)
            return jsonify(body), status
        row = db.session.get(IdempotencyKey, row_id)
        row.status_code, row.response_body, row.completed_at = status, body, utcnow()
        db.session.commit()
        if after is not None:
            after()
        return jsonify(body), status

    return wrapped
