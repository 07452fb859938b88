"""The orders a list offers: whitelisted sort keys, each ending on the row id so pages never overlap or skip.

A list service declares its ``SortKeys`` once (``key`` ascending, ``-key`` descending) and asks it for the
``ORDER BY`` of a requested key. A key it does not offer is refused with a message naming the ones it does (the
API's 422); pages clean a key from the address with ``clean`` first, so an unknown one there is simply ignored.
Empty values sort last in both directions (a task without a due time is never "the most urgent").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from portal_app.services.errors import ValidationFailed

Order = tuple[sa.ColumnElement[Any], ...]


@dataclass(frozen=True)
class SortKeys:
    """``columns``: key -> the column it orders by; ``tiebreak``: the row id; ``nullable``: keys whose column can be
    empty (those rows come last)."""

    columns: Mapping[str, Any]
    tiebreak: Any
    nullable: frozenset[str] = field(default_factory=frozenset)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key the list offers, ascending and descending."""
        return tuple(k for key in self.columns for k in (key, f"-{key}"))

    def clean(self, sort: str | None, default: str | None = None) -> str | None:
        """``sort`` if offered, else ``default``."""
        return sort if sort in self.keys else default

    def order(self, sort: str) -> Order:
        """The ``ORDER BY`` for ``sort``, ending on the row id in the same direction."""
        if sort not in self.keys:
            raise ValidationFailed(f"Unknown sort {sort!r}. Use one of: {', '.join(self.keys)}.")
        key = sort.removeprefix("-")
        column, descending = self.columns[key], sort.startswith("-")
        nulls_last = (sa.case((column.is_(None), 1), else_=0),) if key in self.nullable else ()
        if descending:
            return (*nulls_last, column.desc(), self.tiebreak.desc())
        return (*nulls_last, column.asc(), self.tiebreak.asc())
