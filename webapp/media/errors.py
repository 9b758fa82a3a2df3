"""Why an upload was refused: a stable code, an HTTP status and a message for people."""

from __future__ import annotations


class UploadRefused(Exception):
    """The upload is not a usable image or PDF (415 unless a subclass says otherwise)."""

    status = 415

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UploadTooLarge(UploadRefused):
    """The upload exceeds a byte, pixel, page-count or page-size limit (413)."""

    status = 413
