"""How an instant, a day and an amount read for one person: one rule, applied everywhere (pages, notices, PDFs).

- **Times at a place** (a milestone at a port, the arrival at the destination) are shown in that place's zone,
  with the zone's name: "15 Dec 2026 10:00 CET". :func:`at_place` takes the place's IANA zone.
- **Every other time** (when something was written, sent, changed) is shown in the reader's own zone (their
  account's time zone): :func:`when`.
- **Inputs** take the zone printed beside the field (the person's own, or the place's where the form says so).
- Dates, numbers and money follow the reader's language (their account's locale) through Babel; money has its
  currency's ISO 4217 decimals ("JPY 1,235", never "JPY 1,235.00"), and its ISO code.

The reader is the verified principal of the page event being handled (:func:`reading_as`, set by
``ui/session.page_event``); outside an event (notices written for someone else, exports, PDFs) callers pass the
zone and locale: a PDF is written for the principal who downloads it (:func:`reader_of`). Spreadsheets keep times
machine-readable: ISO 8601 with the offset of the reader's zone, the zone named in the column's header
(``services/spreadsheets.py``). Stored texts that others read later (a customer update, an email) name the place's zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

DEFAULT_ZONE = "UTC"
DEFAULT_LOCALE = "en"
_DATE = "dd MMM y"
_TIME = "dd MMM y HH:mm"


class Reader(NamedTuple):
    """Whose eyes a text is for: their zone (IANA name) and language. (A plain tuple, not a record the API
    serves.)"""

    timezone: str = DEFAULT_ZONE
    locale: str = DEFAULT_LOCALE


_DEFAULT_READER = Reader()
_reader: ContextVar[Reader | None] = ContextVar("reader", default=None)


@contextmanager
def reading_as(reader: Reader) -> Iterator[None]:
    """Within this block, :func:`when`, :func:`day` and :func:`money` write for ``reader``."""
    token = _reader.set(reader)
    try:
        yield
    finally:
        _reader.reset(token)


def reader_of(principal: object) -> Reader:
    """The reader a principal is (its account's ``timezone`` and ``locale``)."""
    return Reader(getattr(principal, "timezone", None) or DEFAULT_ZONE, getattr(principal, "locale", None)
                  or DEFAULT_LOCALE)


def read_for(reader: Reader) -> None:
    """From here on in this event's context, write for ``reader`` (a page event sets its principal's)."""
    _reader.set(reader)


def current() -> Reader:
    return _reader.get() or _DEFAULT_READER


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or UTC for an unknown or empty name."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def _locale(name: str | None) -> Locale:
    try:
        return Locale.parse(name or DEFAULT_LOCALE)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _in_zone(value: datetime, tz: str | None, locale: str | None) -> str:
    local = _aware(value).astimezone(zone(tz))
    text = format_datetime(local, _TIME, locale=_locale(locale))
    return f"{text} {local.strftime('%Z')}"


def when(value: datetime | None, reader: Reader | None = None) -> str:
    """An instant in the reader's zone and language, with the zone's abbreviation: "15 Dec 2026 10:00 CET"."""
    if value is None:
        return "—"
    r = reader or current()
    return _in_zone(value, r.timezone, r.locale)


def utc(value: datetime | None) -> str:
    """An instant in UTC, in English, for messages about a value someone typed in another zone (converted: a
    time typed as 10:00 in Amsterdam reads 09:00 UTC, never "10:00 UTC")."""
    return "—" if value is None else _in_zone(value, DEFAULT_ZONE, DEFAULT_LOCALE)


def at_place(value: datetime | None, place_zone: str | None, reader: Reader | None = None) -> str:
    """A time at a place (a port, an airport) in that place's zone, in the reader's language."""
    if value is None:
        return "—"
    return _in_zone(value, place_zone, (reader or current()).locale)


def day(value: date | datetime | None, reader: Reader | None = None, *, place_zone: str | None = None) -> str:
    """A calendar day in the reader's language; an instant's day is taken in ``place_zone`` or the reader's zone."""
    if value is None:
        return "—"
    r = reader or current()
    if isinstance(value, datetime):
        value = _aware(value).astimezone(zone(place_zone or r.timezone)).date()
    return format_date(value, _DATE, locale=_locale(r.locale))


def money(amount: Decimal | int | float, currency: str, reader: Reader | None = None) -> str:
    """An amount with its ISO currency code, in the currency's decimals (ISO 4217) and the reader's language:
    "USD 1,234.50", "JPY 1,235", German "1.234,50 EUR". The code, not a sign: "$" is also CAD, AUD, SGD..."""
    locale = _locale((reader or current()).locale)
    pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace("¤", "¤¤")
    if pattern.startswith("¤¤") and not pattern.startswith(("¤¤ ", "¤¤\xa0")):
        pattern = "¤¤ " + pattern[2:]
    text = format_currency(Decimal(str(amount)), currency, format=pattern, locale=locale, currency_digits=True)
    return text.replace("\xa0", " ")


def amount(value: Decimal | int | float, currency: str, reader: Reader | None = None) -> str:
    """An amount in the currency's decimals (ISO 4217) and the reader's language, without the code, for a column
    under a heading that names the currency: "1,234.50", German "1.234,50", "1,235" for JPY."""
    return format_currency(Decimal(str(value)), currency, format="#,##0.00", currency_digits=True,
                           locale=_locale((reader or current()).locale))


def number(value: Decimal | int | float, reader: Reader | None = None) -> str:
    return format_decimal(value, locale=_locale((reader or current()).locale))
