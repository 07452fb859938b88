"""What happens when a page's code fails unexpectedly: an error id in the log and on the person's screen.

Reflex's default answer to an exception in an event handler is a toast that falls back to the browser's
``window.alert`` (this app draws no toasts), with no way to find the failure in the log. Here the log gets the
traceback under a short random error id, and the tab gets ``ProblemState.show(<id>)``: the product's own banner
(``components/problem_banner.py``) says what happened, that it may not have been saved, what to do next, and the id
to quote; the id, the handler's name and the exception's class are kept for the tower's System page
(``services/error_log.py``). Errors the browser reports (a script error, a failed render) are logged under an id
too; they never alert either.

No ``from __future__ import annotations`` here: Reflex checks the handlers' annotations as real types.
"""

import asyncio
import logging
import os
import re
import secrets
import time
from pathlib import Path

from reflex_base.event import EventSpec
from reflex_base.event.context import EventContext

from portal_app.components.problem_banner import DATABASE, ERROR_ID, ProblemState
from portal_app.db import database_error_text, database_unavailable
from portal_app.services import error_log

log = logging.getLogger(__name__)

# A failure while showing the banner must not queue another banner, and so on: one banner per tab per moment.
BANNER_EVERY_SECONDS = 2.0
_MAX_TRACKED = 10_000
_last_banner: dict[str, float] = {}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MAX_REPORT_CHARS = 2000
UNNAMED_HANDLER = "page event"  # a failure outside the app's own handlers (the framework's)
APP_DIR = str(Path(__file__).parent.parent) + os.sep  # portal_app/, as the frames of its code name their files


def new_error_id() -> str:
    """Eight hex digits: short enough to read out on the phone, random enough not to repeat in a log."""
    return secrets.token_hex(4).upper()


def error_id_for(exception: BaseException) -> str:
    """The failed page event's own id (``ui.session.page_event`` puts it on the exception, and log lines written
    while the event ran carry it as ``event_id``), else a new one."""
    event = getattr(exception, "portal_event_id", None)
    return event if isinstance(event, str) and ERROR_ID.match(event) else new_error_id()


def _banner_due(token: str) -> bool:
    now = time.monotonic()
    if now - _last_banner.get(token, float("-inf")) < BANNER_EVERY_SECONDS:
        return False
    if len(_last_banner) >= _MAX_TRACKED:
        _last_banner.clear()
    _last_banner[token] = now
    return True


def handler_name(exception: BaseException) -> str:
    """The failed handler as ``State.method``: the name ``page_event`` put on the exception, else the outermost
    frame of the app's own code that belongs to an object (a public page's handler, which is not a ``page_event``).
    Names only, never a value."""
    named = getattr(exception, "portal_handler", None)
    if isinstance(named, str) and named:
        return named
    tb = exception.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.startswith(APP_DIR) and "self" in frame.f_locals:
            return f"{type(frame.f_locals['self']).__name__}.{frame.f_code.co_name}"
        tb = tb.tb_next
    return UNNAMED_HANDLER


def _keep_quietly(handler: str, error_id: str, error_type: str) -> None:
    """Add the failure to the recent errors off the event loop (a database write must not hold up every tab of this
    worker); outside a loop (a test, a script) at once."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        error_log.keep("page", handler, error_id, error_type)
        return
    loop.run_in_executor(None, error_log.keep, "page", handler, error_id, error_type)


def on_backend_exception(exception: Exception) -> EventSpec | None:
    """Reflex's ``backend_exception_handler``: runs in the failed event's context, after the handler raised."""
    error_id = error_id_for(exception)
    database_down = database_unavailable(exception)
    if database_down:  # the cause is outside the code: one line with the driver's words, no traceback
        log.warning("A page action failed: the database did not answer [error %s]: %s", error_id,
                    database_error_text(exception),
                    extra={"error_id": error_id, "event_id": error_id})
    else:  # kept for the System page (not when the database is what failed: it could not keep it)
        log.error("A page action failed [error %s]", error_id, exc_info=(type(exception), exception,
                                                                         exception.__traceback__),
                  extra={"error_id": error_id, "event_id": error_id})
        _keep_quietly(handler_name(exception), error_id, type(exception).__name__)
    try:
        token = EventContext.get().token
    except LookupError:
        return None
    if not (token and _banner_due(token)):
        return None
    return ProblemState.show(error_id, DATABASE) if database_down else ProblemState.show(error_id)


def on_frontend_exception(exception: Exception) -> None:
    """Reflex's ``frontend_exception_handler``: the browser's report is text it wrote, so it is logged on one line,
    shortened, with control characters replaced."""
    report = _CONTROL.sub(" | ", str(exception))[:MAX_REPORT_CHARS]
    error_id = new_error_id()
    log.warning("The browser reported an error [error %s]: %s", error_id, report, extra={"error_id": error_id})
