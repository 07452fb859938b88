"""Only the installation's own origins may act with a signed-in browser session.

Defends against cross-site request forgery (a page elsewhere, another port of the same host included, posting a
form or opening the page websocket with the visitor's cookie) and login CSRF (a page signing the visitor into the
attacker's account, or out of their own). The allowed origins are `settings.allowed_origins`: the origin of
`PORTAL_PUBLIC_URL`, plus `PORTAL_ALLOWED_ORIGINS`. CORS answers use the same list (`rxconfig.py`).

A state-changing request (any method but GET, HEAD, OPTIONS, TRACE) that carries the session cookie, or goes to
sign-in or sign-out, must prove where it comes from:

- an `Origin` header must be one of the allowed origins (`Origin: null`, sent by sandboxed and privacy-stripped
  contexts, never is);
- without `Origin`, the origin of the `Referer` must be;
- with neither, only a request a browser cannot send across origins without a CORS preflight passes: one whose
  Content-Type is not a form, multipart or text/plain type (JSON from a program). A form post or an empty body
  without Origin or Referer is refused.

Requests with an `Authorization: Bearer` header (API keys) are not checked: a cross-site page cannot add that header
without a preflight, which CORS refuses, and the cookie plays no part in them (the API ignores the cookie when a key
is sent). Other schemes are checked like any cookie request: a browser adds cached Basic credentials (a proxy's
password prompt) to a cross-site form post by itself. The page websocket (`/_event`) is refused
when its handshake names a foreign origin; Reflex's socket server checks the same list.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from portal_app.api.errors import error_body
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.services.errors import ErrorCode
from portal_app.settings import settings, web_origin

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SIGN_IN_OUT_PATHS = frozenset({"/api/auth/login", "/api/auth/logout"})
# Content types a cross-site page may send without a CORS preflight (the Fetch standard's safelist).
SIMPLE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
POLICY_VIOLATION = 1008  # websocket close code: the handshake is refused with HTTP 403


def origin_of(url: str) -> str | None:
    """The origin of a URL such as a Referer, or None when it has none (not http(s), malformed)."""
    try:
        return web_origin(url, "Referer")
    except ValueError:
        return None


def carries_api_key(headers: Headers) -> bool:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(value.strip())


def needs_origin_proof(method: str, path: str, headers: Headers) -> bool:
    """A browser could send this with the visitor's session: it changes something and rides on the cookie, or it
    signs someone in or out. API-key requests never do."""
    if method.upper() in SAFE_METHODS or carries_api_key(headers):
        return False
    if path in SIGN_IN_OUT_PATHS:
        return True
    return SESSION_COOKIE in cookie_parser(headers.get("cookie", ""))


def comes_from_allowed_origin(headers: Headers, allowed: Iterable[str]) -> bool:
    """Whether the request shows it comes from one of the allowed origins (see the module docstring)."""
    allowed = frozenset(allowed)
    origin = headers.get("origin")
    if origin is not None:
        return origin in allowed
    referer = headers.get("referer")
    if referer is not None:
        return origin_of(referer) in allowed
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return bool(content_type) and content_type not in SIMPLE_CONTENT_TYPES


class RequestOriginCheck:
    """ASGI layer: refuses state-changing cookie requests and page websockets from foreign origins (403)."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] | None = None) -> None:
        self.app = app
        self.allowed = frozenset(settings.allowed_origins if allowed_origins is None else allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = Headers(scope=scope).get("origin")
            if origin is not None and origin not in self.allowed:
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
                return
        elif scope["type"] == "http":
            headers = Headers(scope=scope)
            if needs_origin_proof(scope["method"], scope["path"], headers) and \
                    not comes_from_allowed_origin(headers, self.allowed):
                refusal = JSONResponse(error_body(
                    ErrorCode.ORIGIN_REFUSED,
                    "This request did not come from the portal's own pages, so it was refused and nothing was "
                    "changed. Open the portal at its own address and try again; programs should send an API key "
                    "(Authorization: Bearer ...).",
                ), status_code=403)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
