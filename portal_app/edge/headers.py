"""Security headers on every HTTP response: pages, API answers, downloads, errors and refusals alike.

Defends against script injection (a Content-Security-Policy that runs only the app's own files and the exact
inline scripts of the page being served), clickjacking (`frame-ancestors 'none'` and `X-Frame-Options: DENY`),
MIME sniffing (`nosniff`), leaking page addresses (shipment references) to other sites (`Referrer-Policy`),
powerful browser features nobody needs (`Permissions-Policy`), cross-window attacks (`Cross-Origin-Opener-Policy`)
and other sites embedding our responses (`Cross-Origin-Resource-Policy`); with an https `PORTAL_PUBLIC_URL`,
HSTS keeps browsers on HTTPS.

The pages are Reflex's prerendered HTML: each carries a few inline scripts fixed at build time (theme, scroll
restoration, the router's context and module imports, React's streaming markers). A page's policy lists the
SHA-256 hashes of the inline scripts of the HTML being sent that are also in the compiled build on disk, so only
the build's own scripts run: were a response ever to carry a script that is not in the build (text reflected
from a request, say), it would not be listed and the browser would not run it. Every other script must be a file
of our own origin. Two allowances were measured as necessary in Chromium against the built pages:

- 'unsafe-eval': a client action that a page handler sends back (Reflex's `rx.clear_selected_files` after every
  upload, `rx.call_script`: the sign-in and sign-out form submit, canned-reply insertion, a new rate card's
  address) reaches the browser as text and Reflex runs it with `eval`;
- style-src 'unsafe-inline': Emotion writes each component's CSS into `<style>` elements at run time.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_app.settings import settings

log = logging.getLogger(__name__)

# Inline <script> elements (no src attribute); the browser hashes their text with newlines normalised.
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)

PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# FastAPI's interactive API description (/api/docs) is the one page that loads code from elsewhere: Swagger UI
# from the jsDelivr CDN, its icon from FastAPI's site.
API_DOCS_PATH = "/api/docs"
API_DOCS_SOURCES = {
    "script-src": "https://cdn.jsdelivr.net",
    "style-src": "https://cdn.jsdelivr.net",
    "img-src": "https://fastapi.tiangolo.com",
}
# Anything that is not a page (JSON, files) never needs to load or run anything.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock", "usb", "xr-spatial-tracking",
))
HSTS = "max-age=31536000; includeSubDomains"


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """CSP source expressions (`'sha256-...'`) for every inline script of ``html``, in order, without repeats."""
    return _hashes(html)


@lru_cache(maxsize=128)
def _hashes(html: bytes) -> tuple[str, ...]:
    found = []
    for match in INLINE_SCRIPT.finditer(html):
        text = match.group(1).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        found.append("'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'")
    return tuple(dict.fromkeys(found))


def built_script_hashes() -> frozenset[str]:
    """Hashes of every inline script of the compiled pages (Reflex's static build, fixed while the server runs)."""
    global _built
    if not _built:  # not cached while empty: the build may not be on disk yet
        _built = _scan_build()
    return _built


_built: frozenset[str] = frozenset()


def _scan_build() -> frozenset[str]:
    from reflex.utils import prerequisites
    from reflex_base import constants

    static = prerequisites.get_web_dir() / constants.Dirs.STATIC
    found: set[str] = set()
    for page in static.rglob("*.html") if static.is_dir() else ():
        found.update(inline_script_hashes(page.read_bytes()))
    return frozenset(found)


def trusted_hashes(html_hashes: Iterable[str], path: str, built: frozenset[str]) -> tuple[str, ...]:
    """The page's inline scripts that may run: those of the build; on FastAPI's API description page, its own
    (generated by FastAPI from fixed values, not from the request)."""
    if path == API_DOCS_PATH:
        return tuple(html_hashes)
    return tuple(h for h in html_hashes if h in built)


def page_policy(script_hashes: Iterable[str] = (), *, path: str = "/", https: bool = False) -> str:
    directives = dict(PAGE_POLICY)
    if path == API_DOCS_PATH:
        for name, source in API_DOCS_SOURCES.items():
            directives[name] += " " + source
    directives["script-src"] = " ".join([directives["script-src"], *script_hashes])
    policy = "; ".join(f"{name} {value}" for name, value in directives.items())
    return policy + ("; upgrade-insecure-requests" if https else "")


def common_headers(https: bool) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def _page_hashes(body: bytes, encoding: str) -> tuple[str, ...]:
    """The page's inline script hashes; pages are sent as they are or gzip-compressed (Reflex's build)."""
    if encoding in ("", "identity"):
        return inline_script_hashes(body)
    if encoding == "gzip":
        return inline_script_hashes(gzip.decompress(body))
    log.warning("a page compressed as %r cannot be hashed; its inline scripts will not run", encoding)
    return ()


class SecurityHeaders:
    """ASGI layer: adds the headers above to every HTTP response (an HTML page is held until it is whole, to hash
    its inline scripts; pages are small static files)."""

    def __init__(self, app: ASGIApp, *, https: bool | None = None,
                 built_hashes: Callable[[], frozenset[str]] = built_script_hashes) -> None:
        self.app = app
        self.https = settings.https if https is None else https
        self.headers = common_headers(self.https)
        self.built_hashes = built_hashes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A page must come as body messages to be hashed, not as a file the server sends by itself.
        extensions = {k: v for k, v in (scope.get("extensions") or {}).items() if k != "http.response.pathsend"}
        scope = {**scope, "extensions": extensions}
        held: Message | None = None
        body = bytearray()

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if message["status"] == 304:
                    pass  # the browser keeps the policy it stored with the page; this one would replace it
                elif headers.get("content-type", "").startswith("text/html"):
                    held = message
                    return
                else:
                    headers["Content-Security-Policy"] = NOT_A_PAGE_POLICY
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                start, held = held, None
                headers = MutableHeaders(scope=start)
                hashes = trusted_hashes(_page_hashes(bytes(body), headers.get("content-encoding", "").strip().lower()),
                                        scope["path"], self.built_hashes())
                headers["Content-Security-Policy"] = page_policy(hashes, path=scope["path"], https=self.https)
                await send(start)
                message = {"type": "http.response.body", "body": bytes(body)}
            await send(message)

        await self.app(scope, receive, send_with_headers)
