"""Amazon-style error answers: what the sandbox raises when a request breaks a rule."""

from __future__ import annotations


class ApiError(Exception):
    """An Amazon-style error answer: HTTP status plus one ErrorList entry."""

    def __init__(self, status: int, code: str, message: str, details: str = ""):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict:
        """Return Amazon's `{"errors": [...]}` shape."""
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def invalid_input(message: str, details: str = "") -> ApiError:
    """Return a 400 InvalidInput error, Amazon's answer to a malformed request."""
    return ApiError(400, "InvalidInput", message, details)
