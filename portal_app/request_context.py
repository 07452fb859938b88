"""The id of the HTTP request or page event being handled, for log lines and the error id shown to people.

:class:`RequestIdMiddleware` gives every HTTP request an id: the caller's ``X-Request-ID`` when it is a short safe
token (letters, digits, ``.``, ``_``, ``-``; 8 to 64 characters), else eight new hex digits. The id is answered in
the ``X-Request-ID`` response header, kept in ``scope["state"]["request_id"]`` and in a context variable that the
log formatter (:mod:`portal_app.logs`) reads, so every log line written while the request runs carries it. A page
event (``ui.session.page_event``) sets an event id the same way; when the event fails unexpectedly that id is the
error id on the person's screen.
"""

from __future__ import annotations

import contextvars
import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("portal_request_id", default=None)
event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("portal_event_id", default=None)


def new_id() -> str:
    """Eight hex digits: short enough to read out on the phone, random enough not to repeat in a log."""
    return secrets.token_hex(4).upper()


def accepted_id(value: str | None) -> str | None:
    """The caller's id when it is a short safe token; None otherwise (then the server makes one)."""
    if value is None:
        return None
    value = value.strip()
    return value if SAFE_ID.match(value) else None


def current_id() -> str | None:
    """The id of what is being handled now: the page event's, else the HTTP request's."""
    return event_id.get() or request_id.get()


class RequestIdMiddleware:
    """Gives every HTTP request an id (see the module text); websockets pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = [v.decode("latin-1") for k, v in scope.get("headers") or () if k == b"x-request-id"]
        rid = (accepted_id(incoming[0]) if len(incoming) == 1 else None) or new_id()
        scope.setdefault("state", {})["request_id"] = rid
        request_id.set(rid)  # left set on the way out: the app's 500 handler runs outside this layer

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if HEADER not in headers:
                    headers.append(HEADER, rid)
            await send(message)

        await self.app(scope, receive, send_with_id)
