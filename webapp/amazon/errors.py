"""What can go wrong calling SP-API, as exceptions the sync, outbox and pages tell apart."""

from __future__ import annotations


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
