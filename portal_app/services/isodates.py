"""Dates and times as the product takes them from people and programs: ISO 8601 calendar dates (``YYYY-MM-DD``)
and date-times with a time zone offset, within the years a record can meaningfully hold.

The standard parsers are more forgiving than that: ``date.fromisoformat`` also reads ``20261130`` and week dates,
and pydantic reads a bare number as seconds since 1970 (so ``as_of=0`` meant 1 January 1970). Every date or time
a caller types goes through here (the API's input types in :mod:`portal_app.services.inputs` and the filters of the
list pages), so all of them accept the same forms and refuse the rest with the same message.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TypeVar

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
DATE_FORM = "YYYY-MM-DD, for example 2026-11-30"
DATETIME_FORM = "YYYY-MM-DDTHH:MM[:SS] with a time zone, for example 2026-11-30T14:00:00Z or 2026-11-30T16:00+02:00"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_Day = TypeVar("_Day", bound=date)  # a date, or a datetime (which is a date too)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def in_range(value: _Day) -> _Day:
    """``value`` when it lies between :data:`EARLIEST` and :data:`LATEST`; else ValueError."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{value.isoformat()} is outside the years {EARLIEST.year}-{LATEST.year}")
    return value


def parse_date(text: str) -> date:
    """A calendar date written ``YYYY-MM-DD``; ValueError (with a message a person can act on) for anything else."""
    if not isinstance(text, str) or not _DATE.fullmatch(text.strip()):
        raise ValueError(f"{_shown(str(text))} is not a date: use {DATE_FORM}")
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a day of the calendar: use {DATE_FORM}") from None
    return in_range(value)


def parse_datetime(text: str) -> datetime:
    """A date and time with its zone offset (``Z`` or ``±HH:MM``); a time without a zone is refused, because
    nobody can tell which hour it means."""
    if not isinstance(text, str) or not _DATETIME.fullmatch(text.strip()):
        raise ValueError(f"{_shown(str(text))} is not a date and time: use {DATETIME_FORM}")
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a valid date and time: use {DATETIME_FORM}") from None
    return in_range(value)
