"""Errors services raise; the API and the pages turn them into the product's error shape.

Every message says what broke and what to do next; ``saved`` says whether anything was stored.
"""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, saved: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.saved = saved
        if code:
            self.code = code

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "saved": self.saved}}


class NotAuthenticated(ServiceError):
    status_code = 401
    code = "not_authenticated"


class PermissionDenied(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    """Also used for records of another company: not found and not yours look the same."""

    status_code = 404
    code = "not_found"


class ValidationFailed(ServiceError):
    status_code = 422
    code = "invalid_input"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class RateLimited(ServiceError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class FormInvalid(ValidationFailed):
    """Several fields of a form are wrong: ``fields`` maps each field to what is wrong with it, in plain words.

    The API adds ``fields`` to the error body, so a client can show each message beside its field.
    """

    code = "invalid_form"

    def __init__(self, message: str, fields: dict[str, str], *, code: str | None = None, saved: bool = False) -> None:
        super().__init__(message, code=code, saved=saved)
        self.fields = dict(fields)

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["fields"] = dict(self.fields)
        return body
