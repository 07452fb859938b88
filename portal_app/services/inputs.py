"""The shapes of the values the product takes, declared once: every API route and request model uses them, and the
pages parse their forms into the same models (``parse``), so a value is checked one way wherever it comes from.

Every integer a caller sends (a record id, a page, a version, a count) is bounded, so nothing reaches the database
that it cannot hold (an unbounded id once became SQLite's ``OverflowError`` and a 500); dates are ISO calendar
dates and date-times carry their zone (see :mod:`portal_app.services.isodates`); JSON bodies (:class:`Body`) take
each value in its declared type. A value outside its shape is a 422 in the API's error shape before any service
runs. These aliases work the same in a path, in a query string and inside a body model::

    def get_task(task_id: Id, page: PageNo = 1, since: IsoDate | None = None): ...

    class TaskInput(Body, frozen=True):  # services/tasks.py: the API's body, and what the task forms parse into
        assignee_id: Id | None = None

Domain rules (at most 120 transit days, a ready date not in the past) stay in the services, which say why.
``tests/api/test_api_inputs.py`` walks the OpenAPI description and fails for any integer or number without both bounds;
``tests/api/test_api_fuzz.py`` fuzzes every operation against its description.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from portal_app.services import isodates
from portal_app.services.errors import FormInvalid
from portal_app.services.numbers import INT32_MAX, INT32_MIN
from portal_app.services.paging import MAX_PAGE

Id = Annotated[int, Field(ge=1, le=INT32_MAX, examples=[1])]
"""A record's id (path, query or body)."""

PageNo = Annotated[int, Field(ge=1, le=MAX_PAGE, examples=[1])]
"""A page number, from 1."""

Version = Annotated[int, Field(ge=0, le=INT32_MAX, examples=[1])]
"""The version of a record the caller saw (``expected_version``); a stale one answers 409 with the current one."""

WholeNumber = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
"""Any other whole number (days, hours, counts): storable; its service checks the range that makes sense."""

Amount = Annotated[Decimal, Field(ge=Decimal("-1e12"), le=Decimal("1e12"), max_digits=22, decimal_places=8,
                                  strict=False)]
"""Money, rates, weights and quantities: at most a trillion either way and eight decimals, as a JSON number or a
decimal string (``"12.50"`` keeps its digits)."""


ModelT = TypeVar("ModelT", bound=BaseModel)


class Body(BaseModel):
    """The base of every JSON request body: each value must already have its declared JSON type. Nothing is
    coerced: ``true`` is not the id 1, ``0`` is not ``false``, ``"5"`` is not 5 (pydantic's lax mode would read all
    three), so a client that mixes up fields hears about it instead of changing the wrong thing."""

    model_config = ConfigDict(strict=True)


def rows_per_page(maximum: int) -> Any:
    """How many rows one page holds, from 1 to the list's ``maximum``."""
    return Annotated[int, Field(ge=1, le=maximum)]


def bounded(low: int, high: int) -> Any:
    """A whole number between ``low`` and ``high``, both included, for a parameter with a known range."""
    if not INT32_MIN <= low <= high <= INT32_MAX:
        raise ValueError("bounds must lie within a 32-bit integer")
    return Annotated[int, Field(ge=low, le=high)]


def _iso_date(value: object) -> object:
    if isinstance(value, str):
        return isodates.parse_date(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return isodates.in_range(value)
    raise ValueError(f"give a date as text: {isodates.DATE_FORM}")


def _iso_datetime(value: object) -> object:
    if isinstance(value, str):
        return isodates.parse_datetime(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return isodates.in_range(value)
    raise ValueError(f"give a date and time as text: {isodates.DATETIME_FORM}")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date written YYYY-MM-DD (no numbers of seconds, no week dates), years 1900-2999."""

IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
"""A date and time with its zone (``Z`` or ``+02:00``), years 1900-2999."""


# Plain words for pydantic's error types, for a form's fields (the API's 422 keeps pydantic's own wording).
_FRIENDLY = {
    "missing": "fill this in",
    "int_parsing": "give a whole number",
    "int_type": "give a whole number",
    "decimal_parsing": "give a number such as 12.50",
    "decimal_type": "give a number such as 12.50",
    "greater_than_equal": "give a larger number",
    "less_than_equal": "give a smaller number",
    "string_too_long": "make this shorter",
    "string_too_short": "write a little more",
    "bool_type": "choose yes or no",
    "literal_error": "choose one of the offered values",
    "enum": "choose one of the offered values",
}
NOTHING_SAVED = "Nothing was saved."


def friendly(error: Mapping[str, Any]) -> str:
    """One field's problem in plain words: our own validators' messages as they are, pydantic's translated."""
    if error.get("type") == "value_error":
        return str(error.get("ctx", {}).get("error") or error.get("msg", "")).rstrip(".") + "."
    if error.get("type") == "string_too_long" and "max_length" in error.get("ctx", {}):
        return f"Make this shorter: at most {error['ctx']['max_length']} characters."
    return _FRIENDLY.get(str(error.get("type")), "check this value").capitalize() + "."


def parse(model: type[ModelT], data: dict[str, Any], *, lax: bool = True) -> ModelT:
    """``data`` (a page's form: text values) as ``model``, or FormInvalid with each field's problem in plain words.

    Forms send text, so by default values are read laxly ("12" is 12); the rules (bounds, ISO dates, sizes) are
    the model's, the same the API applies to JSON.
    """
    try:
        return model.model_validate(data, strict=not lax)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error.get("loc", ())) or "form"
            fields.setdefault(name, friendly(error))
        raise FormInvalid("Some fields need another look (see beside each). " + NOTHING_SAVED, fields) from exc
