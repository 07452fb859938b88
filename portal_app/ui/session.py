"""The Reflex side of authentication: every page state inherits from SessionState.

The principal is rebuilt from the HttpOnly session cookie on the server, on page load and in every handler; it is
never taken from an event argument or the URL and never stored in a browser-visible var.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import reflex as rx
from reflex_base.event.context import EventContext

from portal_app import metrics, request_context
from portal_app.auth import principal_epoch
from portal_app.auth.permissions import ROLE_LABELS, Permission
from portal_app.auth.principal import Principal
from portal_app.auth.redirects import enrolment_path
from portal_app.auth.sessions import SESSION_COOKIE, recent_principal, remember_principal, resolve_session
from portal_app.auth.upload_principals import uploading_principal
from portal_app.db import session_scope
from portal_app.services import display
from portal_app.services.config import branding
from portal_app.services.errors import ServiceError
from portal_app.ui import routes

AREA_PERMISSION = {"portal": Permission.USE_PORTAL, "tower": Permission.USE_TOWER}


def _hidden_nav(principal: Principal) -> list[str]:
    return [route for route, permission in routes.NAV_PERMISSION.items() if not principal.can(permission)]
Handler = TypeVar("Handler", bound=Callable[..., Awaitable])
Result = TypeVar("Result")


def token_from_cookie_header(header: str) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value.strip('"')
    return None


def _load_branding() -> branding.Branding:
    def load() -> branding.Branding:
        with session_scope() as db:
            return branding.current(db)

    return branding.cached(load)


def _resolve(token: str | None) -> Principal | None:
    with session_scope() as db:
        return resolve_session(db, token)


async def run_db(fn: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """Run a service call with its own database session in a worker thread (keeps the event loop free)."""

    def call() -> Result:
        with session_scope() as db:
            return fn(db, *args, **kwargs)

    return await asyncio.to_thread(call)


@contextlib.contextmanager
def _observed(name: str) -> Iterator[None]:
    """Times a page event body under ``name`` and gives it an event id for log lines; an unexpected failure carries
    that id and the handler's name to the app's error handler (``ui.page_errors``), which shows the id as the error
    id and keeps both in the recent errors (``services/error_log.py``)."""
    event = request_context.new_id()
    token = request_context.event_id.set(event)
    start = time.perf_counter()
    failed = False
    try:
        yield
    except Exception as exc:
        failed = True
        with contextlib.suppress(AttributeError, TypeError):
            exc.portal_event_id = event  # type: ignore[attr-defined]
            exc.portal_handler = name  # type: ignore[attr-defined]
        raise
    finally:
        with contextlib.suppress(ValueError):  # a streamed handler may be resumed in another context
            request_context.event_id.reset(token)
        metrics.observe_event(name, time.perf_counter() - start, failed)


def page_event(area: str | None = None, *, upload: bool = False) -> Callable[[Handler], Callable[..., Awaitable]]:
    """The one way to write a page event handler.

    The decorated method takes the verified principal as its first argument after ``self``:

        @page_event()
        async def apply_filters(self, principal: Principal, form: dict) -> None:
            self.rows = await run_db(svc.list_things, principal, ...)

    Before the body runs, the principal is rebuilt from the cookie and checked against the area (``area``, else
    the state's ``AREA``); an upload handler (``upload=True``) takes the principal of the upload's own request. A
    caller who may not be there is refused (anonymous: sent to sign-in and back) and the body never runs. A
    ``ServiceError`` from the body goes to ``self._service_refused`` (by default its message to ``error`` and its
    field messages to ``field_errors``); anything unexpected goes to the app's error handler, which logs it under
    an id and shows the problem banner.

    The browser sees (and may send) only the arguments after ``principal``: the handler's signature is rewritten,
    and a payload naming any other argument is refused. A handler that yields (to show progress before it ends)
    is wrapped the same way and its updates pass through.
    """

    def decorate(fn: Handler) -> Callable[..., Awaitable]:
        params = list(inspect.signature(fn).parameters.values())
        if len(params) < 2 or params[1].name != "principal":
            raise TypeError(f"{fn.__qualname__}: a page event takes (self, principal, ...)")
        visible = inspect.Signature([params[0], *params[2:]])
        name = fn.__qualname__  # the metrics label: a class and method name, nothing the browser sent

        @functools.wraps(fn)
        async def handler(self: SessionState, *args: Any, **kwargs: Any) -> Any:
            bound = visible.bind(self, *args, **kwargs)  # TypeError for any argument the handler does not take
            where = area or self.AREA
            principal = await (self._authorize_upload(where) if upload else self._authorize(where))
            if principal is None:
                return self._refused()
            display.read_for(display.Reader(principal.timezone, principal.locale))  # times, dates, money
            with _observed(name):
                try:
                    return await fn(self, principal, *bound.args[1:], **bound.kwargs)
                except ServiceError as exc:
                    return self._service_refused(exc)

        @functools.wraps(fn)
        async def stream(self: SessionState, *args: Any, **kwargs: Any) -> Any:
            """The same for a handler that yields (shows progress before its end): each yield passes through."""
            bound = visible.bind(self, *args, **kwargs)
            where = area or self.AREA
            principal = await (self._authorize_upload(where) if upload else self._authorize(where))
            if principal is None:
                yield self._refused()
                return
            display.read_for(display.Reader(principal.timezone, principal.locale))
            with _observed(name):
                try:
                    async for update in fn(self, principal, *bound.args[1:], **bound.kwargs):
                        yield update
                except ServiceError as exc:
                    yield self._service_refused(exc)

        wrapped = stream if inspect.isasyncgenfunction(fn) else handler
        wrapped.__signature__ = visible  # type: ignore[attr-defined]
        wrapped.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "principal"}
        return wrapped

    return decorate


class SessionState(rx.State):
    """Who is signed in, for display only. Authorisation always re-reads the cookie on the server."""

    auth_status: str = "checking"  # checking | ok | anonymous | forbidden | enrol (two-factor set-up comes first)
    # Only the two-factor set-up pages answer someone who must set it up before anything else (auth/mfa.py).
    ENROLMENT_PAGE: ClassVar[bool] = False
    user_name: str = ""
    user_email: str = ""
    role_label: str = ""
    company_name: str = ""
    is_staff: bool = False
    # Menu entries this person may not open (routes.NAV_PERMISSION); all of them until the session is known.
    nav_hidden: list[str] = list(routes.NAV_PERMISSION)
    # The installation's branding for the header (AppSetting "branding"; public, the same for everyone).
    brand_name: str = branding.DEFAULT_NAME
    brand_accent: str = branding.DEFAULT_ACCENT
    brand_logo: str = ""
    # The session this tab's page state belongs to (its id; None: nobody). Backend-only. ui/page_binding.py sets
    # it and wipes the whole state tree of the tab when the connection's session is another one or has ended.
    _tab_session: int | None = None
    _enrolment: str = ""  # where someone who must set up two-factor sign-in first is sent

    async def _principal(self) -> Principal | None:
        token = token_from_cookie_header(self.router.headers.cookie)
        epoch = await principal_epoch.current()  # read first: a change after it makes what is looked up stale
        principal = recent_principal(token, epoch)
        if principal is None:
            principal = await asyncio.to_thread(_resolve, token)
            if principal is not None and token:
                remember_principal(token, principal, epoch)
        return replace(principal, address=self.router.session.client_ip) if principal is not None else None

    async def _load_branding(self) -> None:
        brand = branding.fresh_cached() or await asyncio.to_thread(_load_branding)
        self._show(brand_name=brand.product_name, brand_accent=brand.accent_color, brand_logo=brand.logo_url)

    async def _authorize(self, area: str) -> Principal | None:
        """The verified principal if it may use ``area`` ("portal" or "tower"); otherwise None and a status set."""
        return await self._admit(await self._principal(), area)

    async def _authorize_upload(self, area: str) -> Principal | None:
        """``_authorize`` for upload handlers: the principal of the HTTP request that carried the files.

        An upload arrives by ``POST /_upload`` and runs as an event of the tab its ``reflex-client-token`` header
        names, with that tab's stored router data: the websocket's cookie, not the request's. So the principal
        comes from the upload gate's record of the request's own session (``auth/upload_principals.py``), and
        only while this page belongs to that same session. Otherwise None, and nothing on the page changes: the
        caller returns before reading or storing anything.
        """
        principal = await self._upload_principal()
        if principal is None:
            return None
        return await self._admit(principal, area)

    async def _upload_principal(self) -> Principal | None:
        try:
            tab = EventContext.get().token
        except LookupError:  # not running as an event at all
            return None
        principal = uploading_principal(tab)
        if principal is None or principal.session_id is None or principal.session_id != self._tab_session:
            return None
        return principal

    async def _admit(self, principal: Principal | None, area: str) -> Principal | None:
        await self._load_branding()
        if principal is None:
            self._show(auth_status="anonymous", user_name="", user_email="", role_label="", company_name="",
                       is_staff=False, nav_hidden=list(routes.NAV_PERMISSION))
            return None
        allowed = principal.can(AREA_PERMISSION[area])
        enrol_first = allowed and principal.mfa_enrolment_required and not self.ENROLMENT_PAGE
        self._show(
            user_name=principal.full_name,
            user_email=principal.email,
            role_label=ROLE_LABELS[principal.role],
            company_name=principal.company_name,
            is_staff=principal.is_staff,
            nav_hidden=_hidden_nav(principal),
            auth_status="enrol" if enrol_first else "ok" if allowed else "forbidden",
        )
        if enrol_first:
            self._enrolment = enrolment_path(principal)
            return None
        return principal if allowed else None

    async def _identify(self) -> Principal | None:
        """For pages anyone may open (the help centre): the verified principal or None, with the header's fields
        set (``auth_status`` ``ok`` or ``anonymous``); nobody is redirected or refused."""
        principal = await self._principal()
        await self._load_branding()
        if principal is not None and principal.mfa_enrolment_required:
            principal = None  # until the second factor is set up, nothing beyond what anyone may read
        if principal is None:
            self._show(auth_status="anonymous", user_name="", user_email="", role_label="", company_name="",
                       is_staff=False, nav_hidden=list(routes.NAV_PERMISSION))
            return None
        self._show(user_name=principal.full_name, user_email=principal.email, role_label=ROLE_LABELS[principal.role],
                   company_name=principal.company_name, is_staff=principal.is_staff,
                   nav_hidden=_hidden_nav(principal), auth_status="ok")
        return principal

    def _show(self, **values: str | bool | list[str]) -> None:
        """Assign only what changed: every assignment is sent to the browser with the event's answer."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _service_refused(self, exc: ServiceError) -> Any:
        """What a page event shows when a service refused: the message in the page's ``error`` and each field's
        message in ``field_errors`` (for pages that have them). A page with other places overrides this."""
        fields = type(self).get_fields()
        if "error" in fields:
            self.error = exc.message  # type: ignore[attr-defined]
        if "field_errors" in fields:
            self.field_errors = dict(exc.fields)  # type: ignore[attr-defined]
        return None

    def _refused(self):  # noqa: ANN202
        """What a handler returns when _authorize gave None: anonymous users go to sign-in and come back."""
        if self.auth_status == "anonymous":
            url = self.router.url
            target = url.path + (f"?{url.query}" if url.query else "")
            return rx.redirect(f"/login?next={quote(target, safe='')}")
        if self.auth_status == "enrol" and self._enrolment:
            return rx.redirect(self._enrolment)
        return None


class HomeRedirectState(SessionState):
    """The site root sends each user to their area: staff to the tower, everyone else to the portal."""

    async def go_home(self):  # noqa: ANN201
        principal = await self._principal()
        return rx.redirect("/tower" if principal is not None and principal.is_staff else "/portal")


def last_path_segment(path: str) -> str:
    """The record key at the end of a detail page's URL (/portal/shipments/SH0000123 -> SH0000123).

    It only names which record to show; the service decides whether the user may see it.
    """
    return path.rstrip("/").rsplit("/", 1)[-1]
