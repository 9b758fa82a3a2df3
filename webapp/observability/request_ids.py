"""Request ids: taken from X-Request-ID or generated, echoed, put on logs and enqueued jobs."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-ID"
# Accept a proxy's id only if it is short and plain: it ends up in logs and response headers.
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

# The id of the work in progress outside a request (a job carrying its request's id).
current_job_request_id: ContextVar[str | None] = ContextVar("acorn_request_id", default=None)


def new_request_id() -> str:
    """Return a fresh random request id."""
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the current request, or of the request that enqueued the running job."""
    if has_request_context():
        rid = g.get("request_id")
        if rid:
            return rid
    return current_job_request_id.get()


def init_request_ids(app: Flask) -> None:
    """Give every request an id (first of all hooks) and echo it in the response."""
    app.before_request_funcs.setdefault(None, []).insert(0, _assign)
    app.after_request(_echo)


def _assign() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _VALID.match(incoming) else new_request_id()


def _echo(response):
    rid = g.get("request_id")
    if rid:
        response.headers[HEADER] = rid
    return response
