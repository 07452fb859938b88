"""The gate in front of Reflex's ``POST /_upload``: an upload acts only as the session of its own request.

Reflex's upload endpoint takes the tab to act on from the ``reflex-client-token`` header and runs the handler with
that tab's stored state, whose cookie is the tab's websocket's. Anyone who learned a signed-in tab's token could
upload as that user without any cookie of their own. This ASGI middleware decides before a byte of the body is read:

1. the ``reflex-event-handler`` header must name an upload handler of the product (anything else: 400), so no
   request reaches Reflex's endpoint for a handler that would not check who is calling;
2. the request's own ``portal_session`` cookie must be a live session (otherwise 401);
3. that session must be the one the tab belongs to (``auth/tab_sessions.py``; otherwise 401): another user's
   cookie with a victim's token is refused, and an unknown token never gets a page state built for it;
4. no upload of another session may be running for the same tab (otherwise 409).

Then it records the principal for the tab while the request runs (``auth/upload_principals.py``); the handler
takes it from there (``SessionState._authorize_upload``), never from the websocket. Refusals use the API's error
shape ``{"error": {"code", "message", "saved"}}``.
"""

from __future__ import annotations

import asyncio

from reflex_base.constants import Endpoint
from reflex_base.event import resolve_upload_handler_param
from reflex_base.registry import RegistrationContext
from reflex_base.utils.exceptions import UploadTypeError, UploadValueError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from portal_app.api.errors import error_body
from portal_app.auth import tab_sessions, upload_principals
from portal_app.auth.principal import Principal
from portal_app.auth.sessions import resolve_session
from portal_app.db import session_scope
from portal_app.services.errors import ErrorCode
from portal_app.ui.session import token_from_cookie_header

UPLOAD_PATH = "/" + str(Endpoint.UPLOAD).strip("/")
NOTHING_STORED = "nothing was stored"

_handler_names: tuple[int, frozenset[str]] | None = None


def upload_handler_names() -> frozenset[str]:
    """Full names of every registered event handler that takes uploaded files (``list[rx.UploadFile]``)."""
    global _handler_names
    registered = RegistrationContext.get().event_handlers
    if _handler_names is None or _handler_names[0] != len(registered):
        names = set()
        for name, entry in registered.items():
            try:
                resolve_upload_handler_param(entry.handler)
            except (UploadValueError, UploadTypeError):
                continue
            names.add(name)
        _handler_names = (len(registered), frozenset(names))
    return _handler_names[1]


def _resolve(cookie_token: str | None) -> Principal | None:
    with session_scope() as db:
        return resolve_session(db, cookie_token)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    await JSONResponse(error_body(code, message), status_code=status)(scope, receive, send)


class UploadGate:
    """ASGI middleware for ``POST /_upload``; every other request passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        tab = headers.get("reflex-client-token")
        if not tab_sessions.plausible_token(tab) or headers.get("reflex-event-handler") not in upload_handler_names():
            await _refuse(scope, receive, send, 400, ErrorCode.NOT_AN_UPLOAD,
                          f"This request is not an upload from a page of the portal, so {NOTHING_STORED}. "
                          "Upload from the page itself, or use the API: POST /api/v1/shipments/{reference}/documents.")
            return
        cookie = token_from_cookie_header(headers.get("cookie", ""))
        principal = await asyncio.to_thread(_resolve, cookie) if cookie else None
        if principal is None:
            await _refuse(scope, receive, send, 401, ErrorCode.NOT_AUTHENTICATED,
                          f"You are not signed in, or your session has ended, so {NOTHING_STORED}. "
                          "Sign in again, then upload the file again.")
            return
        if await tab_sessions.bound_session(tab) != principal.session_id:
            await _refuse(scope, receive, send, 401, ErrorCode.PAGE_NOT_YOURS,
                          f"This page was opened under another sign-in or has expired, so {NOTHING_STORED}. "
                          "Reload the page, then upload the file again.")
            return
        if not upload_principals.claim(tab, principal):
            await _refuse(scope, receive, send, 409, ErrorCode.UPLOAD_CONFLICT,
                          f"Another upload from this page is running under a different sign-in, so {NOTHING_STORED}. "
                          "Reload the page, then upload the file again.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            upload_principals.release(tab)
