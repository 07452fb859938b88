"""What happens when a page's code fails unexpectedly: an error id in the log and on the person's screen.

Reflex's default answer to an exception in an event handler is a toast that falls back to the browser's
``window.alert`` (this app draws no toasts), with no way to find the failure in the log. Here the log gets the
traceback under a short random error id, and the tab gets ``ProblemState.show(<id>)``: the product's own banner
(``components/problem_banner.py``) says what happened, that it may not have been saved, what to do next, and the id
to quote. Errors the browser reports (a script error, a failed render) are logged under an id too; they never
alert either.

No ``from __future__ import annotations`` here: Reflex checks the handlers' annotations as real types.
"""

import logging
import re
import secrets
import time

from reflex_base.event import EventSpec
from reflex_base.event.context import EventContext

from portal_app.components.problem_banner import DATABASE, ERROR_ID, ProblemState
from portal_app.db import database_error_text, database_unavailable

log = logging.getLogger(__name__)

# A failure while showing the banner must not queue another banner, and so on: one banner per tab per moment.
BANNER_EVERY_SECONDS = 2.0
_MAX_TRACKED = 10_000
_last_banner: dict[str, float] = {}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MAX_REPORT_CHARS = 2000


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


def on_backend_exception(exception: Exception) -> EventSpec | None:
    """Reflex's ``backend_exception_handler``: runs in the failed event's context, after the handler raised."""
    error_id = error_id_for(exception)
    database_down = database_unavailable(exception)
    if database_down:  # the cause is outside the code: one line with the driver's words, no traceback
        log.warning("A page action failed: the database did not answer [error %s]: %s", error_id,
                    database_error_text(exception),
                    extra={"error_id": error_id, "event_id": error_id})
    else:
        log.error("A page action failed [error %s]", error_id, exc_info=(type(exception), exception,
                                                                         exception.__traceback__),
                  extra={"error_id": error_id, "event_id": error_id})
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
