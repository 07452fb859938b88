"""Whole numbers taken from text (query strings, filters, form fields): only plain ASCII digits, and only values
every column can hold. ``int()`` alone reads ``"²"`` as an error and ``"99999999999999999999999"`` as a number no
database integer holds, which then failed deep inside a query."""

from __future__ import annotations

INT32_MAX = 2**31 - 1  # PostgreSQL's ``integer``: the narrowest integer column a number may be written to
INT32_MIN = -(2**31)


def parse_whole(text: object, low: int = INT32_MIN, high: int = INT32_MAX) -> int:
    """The whole number ``text`` spells (an optional minus and ASCII digits), between ``low`` and ``high``;
    ValueError otherwise."""
    value = str(text).strip()
    digits = value[1:] if value.startswith("-") else value
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise ValueError(f"{value[:40]!r} is not a whole number")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{number} is not between {low} and {high}")
    return number


def parse_id(text: object) -> int | None:
    """A record id spelled by ``text`` (1 up to :data:`INT32_MAX`), or None when it is not one."""
    try:
        return parse_whole(text, 1, INT32_MAX)
    except ValueError:
        return None
