"""Shared column types and helpers for every table.

All datetimes are timezone-aware UTC: stored as UTC, returned with ``tzinfo=UTC`` on every backend (SQLite
keeps no zone, so it is attached on read).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A DateTime that only accepts and only returns timezone-aware UTC values."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


MONEY = sa.Numeric(16, 2)
QUANTITY = sa.Numeric(14, 3)


def dt_field(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    """A UTC datetime column; ``default_now`` fills it with the current time on insert."""
    kwargs: dict[str, Any] = {"sa_type": UTCDateTime, "nullable": nullable, "index": index}
    if default_now:
        kwargs["default_factory"] = utcnow
    else:
        kwargs["default"] = None
    return Field(**kwargs)


def money_field(default: Decimal | None = Decimal("0.00"), *, nullable: bool = False) -> Any:
    return Field(default=default, sa_type=MONEY, nullable=nullable)


def qty_field(default: Decimal | None = None, *, nullable: bool = True) -> Any:
    return Field(default=default, sa_type=QUANTITY, nullable=nullable)


def row_values(model: type[SQLModel], **given: Any) -> dict[str, Any]:
    """A new row of ``model`` as the values of an INSERT: ``given``, and every other column's default (the id
    aside). For rows written many at a time (:func:`portal_app.db.insert_rows`) without building each object, which
    costs more than writing it."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in given:
            values[name] = given.pop(name)
        elif name == "id":
            continue
        elif info.default_factory is not None:
            values[name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            values[name] = info.default
    if given:
        raise TypeError(f"{model.__name__} has no column {', '.join(sorted(given))}")
    return values
