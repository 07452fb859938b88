"""Request bodies are counted as they arrive and never read past their route's limit.

Defends the disk, memory and workers against oversized bodies: a declared `Content-Length` over the limit is
refused before a byte of the body is read, and a body without one (`Transfer-Encoding: chunked`) is cut off at the
first chunk that crosses the limit, so the app (form parsers, upload spooling) never sees more than the limit and
nothing is stored. The answer is a 413 in the API's error shape, and the connection is closed so the rest of the
body is not read either.

Limits: the routes that take files allow the largest form they accept (the files at `PORTAL_MAX_UPLOAD_MB` each
plus room for the form around them); every other body (JSON API, sign-in) is small. The pages' uploads all arrive
at one address (`/_upload`), so there the limit is the one the upload handler named in the request declares with
`upload_form_limit` (one file when it declares none).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reflex_base.constants import Endpoint
from reflex_base.registry import RegistrationContext
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_app.api.errors import error_body
from portal_app.api.v1_documents import MULTIPART_OVERHEAD
from portal_app.services import documents
from portal_app.services.config import branding
from portal_app.services.errors import ErrorCode
from portal_app.services.rate_cards import MAX_IMPORT_BYTES
from portal_app.services.requests.opening import MAX_ATTACHMENTS
from portal_app.services.shipment_import import MAX_IMPORT_BYTES as SHIPMENT_IMPORT_BYTES

KB = 1024
JSON_LIMIT = 1024 * KB  # the largest JSON the API takes (a help article, a bulk action on 500 shipments) is far less
SIGN_IN_LIMIT = 16 * KB  # email, password, one-time code and the page to return to


def one_file_form() -> int:
    return documents.max_upload_bytes() + MULTIPART_OVERHEAD


def message_form() -> int:
    """A request message with its largest allowed set of attachments."""
    return documents.max_upload_bytes() * MAX_ATTACHMENTS + MULTIPART_OVERHEAD


def rate_import_form() -> int:
    return MAX_IMPORT_BYTES + MULTIPART_OVERHEAD


def shipment_import_form() -> int:
    return SHIPMENT_IMPORT_BYTES + MULTIPART_OVERHEAD


def logo_form() -> int:
    return branding.MAX_LOGO_BYTES + MULTIPART_OVERHEAD


FORM_LIMIT_ATTRIBUTE = "_upload_form_limit"
Handler = TypeVar("Handler", bound=Callable)


def upload_form_limit(limit: Callable[[], int]) -> Callable[[Handler], Handler]:
    """Declare on a page upload handler (innermost decorator) the largest `/_upload` form it takes."""

    def declare(handler: Handler) -> Handler:
        setattr(handler, FORM_LIMIT_ATTRIBUTE, limit)
        return handler

    return declare


def page_upload_form(headers: Headers) -> int:
    """The limit the upload handler named in ``reflex-event-handler`` declared; one file for any other name (the
    upload gate refuses names that are not upload handlers)."""
    entry = RegistrationContext.get().event_handlers.get(headers.get("reflex-event-handler", ""))
    declared = getattr(getattr(getattr(entry, "handler", None), "fn", None), FORM_LIMIT_ATTRIBUTE, one_file_form)
    return declared()


@dataclass(frozen=True)
class BodyLimit:
    method: str
    path: re.Pattern[str]
    max_bytes: Callable[[Headers], int]


ROUTE_LIMITS: tuple[BodyLimit, ...] = (
    # The pages' uploads (documents, request messages with attachments, rate-card and shipment imports, logo) all
    # go here.
    BodyLimit("POST", re.compile(rf"^{re.escape(str(Endpoint.UPLOAD))}/?$"), page_upload_form),
    BodyLimit("POST", re.compile(r"^/api/v1/shipments/[^/]+/documents$"), lambda _: one_file_form()),
    BodyLimit("POST", re.compile(r"^/api/v1/requests/[^/]+/messages$"), lambda _: message_form()),
    BodyLimit("POST", re.compile(r"^/api/v1/rate-cards/import$"), lambda _: rate_import_form()),
    BodyLimit("POST", re.compile(r"^/api/v1/shipments/import$"), lambda _: shipment_import_form()),
    BodyLimit("POST", re.compile(r"^/api/auth/(login|logout)$"), lambda _: SIGN_IN_LIMIT),
)


def body_limit_for(method: str, path: str, headers: Headers | None = None) -> int:
    """The most body bytes ``method path`` may send (``headers`` name the handler of a page upload)."""
    for rule in ROUTE_LIMITS:
        if rule.method == method.upper() and rule.path.match(path):
            return rule.max_bytes(headers or Headers())
    return JSON_LIMIT


class RequestBodyTooLarge(HTTPException):
    """Raised to the app when it asks for body bytes past the limit; the layer answers 413 in its place."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def too_large(limit: int) -> JSONResponse:
    mb = limit / (1024 * 1024)
    size = f"{mb:.0f} MB" if mb >= 1 else f"{limit // KB} KB"
    return JSONResponse(
        error_body(ErrorCode.TOO_LARGE,
                   f"The request is larger than the {size} this address accepts, so it was not read "
                   "and nothing was stored. Send smaller files (or fewer at once) and try again."),
        status_code=413,
        headers={"Connection": "close"},  # the server stops reading the rest of the body
    )


class RequestBodyLimit:
    """ASGI layer: counts body bytes per request against `body_limit_for` (see the module docstring)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str, Headers], int] = body_limit_for) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_for(scope["method"], scope["path"], headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return

        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise RequestBodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise RequestBodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # whatever the app answers to a body it never got whole, the 413 below is the answer
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await too_large(limit)(scope, receive, send)
