"""Errors services raise; the API and the pages turn them into the product's error shape.

Every message says what broke and what to do next; ``saved`` says whether anything was stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code the product answers with (the `code` of `{"error": {...}}`). Code branches on these,
    never on message text; messages are for people (and, later, translation)."""

    ACCOUNT_INACTIVE = "account_inactive"
    ACCOUNT_LOCKED = "account_locked"
    ADMIN_ONLY = "admin_only"
    ALREADY_ERASED = "already_erased"
    API_KEY_EXPIRED = "api_key_expired"
    API_KEY_NEEDS_SIGN_IN = "api_key_needs_sign_in"
    API_KEY_READ_ONLY = "api_key_read_only"
    API_KEY_REVOKED = "api_key_revoked"
    ARTICLE_NOT_FOUND = "article_not_found"
    BAD_REQUEST = "bad_request"
    CLOSED = "closed"
    CLOSEOUT_INCOMPLETE = "closeout_incomplete"
    COMPANY_INACTIVE = "company_inactive"
    CONFLICT = "conflict"
    CONTEXT_TOO_LARGE = "context_too_large"
    CURRENT_SESSION = "current_session"
    DATABASE_UNAVAILABLE = "database_unavailable"
    DUPLICATE_CODE = "duplicate_code"
    DUPLICATE_NAME = "duplicate_name"
    DUPLICATE_NUMBER = "duplicate_number"
    DUPLICATE_POLICY = "duplicate_policy"
    DUPLICATE_REQUIREMENT = "duplicate_requirement"
    EDIT_CONFLICT = "edit_conflict"
    EINVOICE_INCOMPLETE = "einvoice_incomplete"
    EINVOICE_NOT_ISSUED = "einvoice_not_issued"
    EMAIL_IN_USE = "email_in_use"
    FALLBACK_POLICY = "fallback_policy"
    FORBIDDEN = "forbidden"
    HELP_EDITORS_ONLY = "help_editors_only"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IMPORT_REFUSED = "import_refused"
    INTERNAL_ERROR = "internal_error"
    INVALID_COLOUR = "invalid_colour"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_EMAIL = "invalid_email"
    INVALID_EVENTS = "invalid_events"
    INVALID_FORM = "invalid_form"
    INVALID_INPUT = "invalid_input"
    INVALID_LOCALE = "invalid_locale"
    INVALID_LOGO = "invalid_logo"
    INVALID_NAME = "invalid_name"
    INVALID_OTP = "invalid_otp"
    INVALID_PHONE = "invalid_phone"
    INVALID_ROLE = "invalid_role"
    INVALID_TIMEZONE = "invalid_timezone"
    INVALID_URL = "invalid_url"
    LAST_ADMIN = "last_admin"
    LOGO_TOO_LARGE = "logo_too_large"
    LOW_CONTRAST = "low_contrast"
    MERGED = "merged"
    MFA_ALREADY_ENABLED = "mfa_already_enabled"
    MFA_ENROLMENT_REQUIRED = "mfa_enrolment_required"
    MFA_EXPIRED = "mfa_expired"
    MFA_NOT_ENABLED = "mfa_not_enabled"
    MFA_NOT_STARTED = "mfa_not_started"
    MFA_REQUIRED = "mfa_required"
    NOT_AN_UPLOAD = "not_an_upload"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_DELIVERED = "not_delivered"
    NOT_DONE = "not_done"
    NOT_FOUND = "not_found"
    OPTION_CLOSED = "option_closed"
    OPTION_EXPIRED = "option_expired"
    ORIGIN_REFUSED = "origin_refused"
    PAGE_NOT_YOURS = "page_not_yours"
    RATE_LIMITED = "rate_limited"
    REOPEN_WINDOW = "reopen_window"
    SAME_PASSWORD = "same_password"
    SCHEMA_UNAVAILABLE = "schema_unavailable"
    SECRET_KEY_MISSING = "secret_key_missing"
    SELF_CHANGE = "self_change"
    SIGNATURE_INVALID = "signature_invalid"
    SIGN_IN_LIMITED = "sign_in_limited"
    SLUG_TAKEN = "slug_taken"
    SSO_ACCOUNT_LINKED = "sso_account_linked"
    SSO_DENIED = "sso_denied"
    SSO_DOMAIN_TAKEN = "sso_domain_taken"
    SSO_EMAIL_UNVERIFIED = "sso_email_unverified"
    SSO_KEY_MISSING = "sso_key_missing"
    SSO_NOT_CONFIGURED = "sso_not_configured"
    SSO_PROVIDER_UNREACHABLE = "sso_provider_unreachable"
    SSO_REQUIRED = "sso_required"
    SSO_STATE_INVALID = "sso_state_invalid"
    SSO_TOKEN_INVALID = "sso_token_invalid"
    SSO_TOO_MANY = "sso_too_many"
    SSO_UNAVAILABLE = "sso_unavailable"
    SSO_USERINFO_MISMATCH = "sso_userinfo_mismatch"
    SSO_WRONG_COMPANY = "sso_wrong_company"
    STAFF_ONLY = "staff_only"
    STORAGE_FULL = "storage_full"
    STORAGE_UNWRITABLE = "storage_unwritable"
    SUBSCRIPTION_UNKNOWN = "subscription_unknown"
    TOO_LARGE = "too_large"
    TOO_MANY_WEBHOOKS = "too_many_webhooks"
    UNKNOWN_EVENT_KIND = "unknown_event_kind"
    UPLOAD_CONFLICT = "upload_conflict"
    VERSION_CONFLICT = "version_conflict"
    WEAK_PASSWORD = "weak_password"
    WRONG_CURRENT_PASSWORD = "wrong_current_password"


class ServiceError(Exception):
    """``fields`` maps a form field to what is wrong with it, in plain words, when the error is about fields."""

    status_code = 400
    code = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, *, code: ErrorCode | None = None, saved: bool = False,
                 fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.saved = saved
        self.fields: dict[str, str] = dict(fields or {})
        if code:
            self.code = code

    def to_dict(self) -> dict:
        body: dict = {"code": str(self.code), "message": self.message, "saved": self.saved}
        if self.fields:
            body["fields"] = dict(self.fields)
        return {"error": body}


class NotAuthenticated(ServiceError):
    status_code = 401
    code = ErrorCode.NOT_AUTHENTICATED


class PermissionDenied(ServiceError):
    status_code = 403
    code = ErrorCode.FORBIDDEN


class NotFound(ServiceError):
    """Also used for records of another company: not found and not yours look the same."""

    status_code = 404
    code = ErrorCode.NOT_FOUND


class ValidationFailed(ServiceError):
    status_code = 422
    code = ErrorCode.INVALID_INPUT


class FileRefused(ValidationFailed):
    """An import refused whole: ``report.problems`` lists every bad row (the error's ``problems``); nothing was
    imported. Subclasses say where the first problem is (``first_place``)."""

    code = ErrorCode.IMPORT_REFUSED

    def __init__(self, report: Any, first_place: str) -> None:
        shown = report.problems[0]
        more = f" and {len(report.problems) - 1} more problems" if len(report.problems) > 1 else ""
        super().__init__(f"The file was refused: {first_place}: {shown.problem}{more}. Fix the rows in the report "
                         "and import the whole file again. Nothing was imported.")
        self.report = report

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["problems"] = [p.__dict__ for p in self.report.problems]
        return body


class Conflict(ServiceError):
    status_code = 409
    code = ErrorCode.CONFLICT


class StorageUnavailable(ServiceError):
    """The private files directory cannot take the file (full, or not writable): 507 Insufficient Storage. Nothing
    was stored; the same upload can be sent again once the directory has room."""

    status_code = 507
    code = ErrorCode.STORAGE_FULL


class RateLimited(ServiceError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after_seconds: int, code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class FormInvalid(ValidationFailed):
    """Several fields of a form are wrong: ``fields`` maps each field to what is wrong with it, in plain words.

    The API adds ``fields`` to the error body, so a client can show each message beside its field.
    """

    code = ErrorCode.INVALID_FORM

    def __init__(self, message: str, fields: Mapping[str, str], *, code: ErrorCode | None = None,
                 saved: bool = False) -> None:
        super().__init__(message, code=code, saved=saved, fields=fields)
