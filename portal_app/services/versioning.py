"""Optimistic locking: change a row only if it still has the version the person saw."""

from __future__ import annotations

from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from portal_app.services import clock
from portal_app.services.errors import Conflict


class _Versioned(Protocol):
    """A table model with an integer key and a version counter."""

    id: int | None
    version: int


_V = TypeVar("_V", bound=_Versioned)


def update_versioned(db: Session, model: type[_V], row: _V, expected_version: int | None, conflict: str,
                     **values: object) -> None:
    """``UPDATE ... WHERE id = :id AND version = :seen`` with ``values``, a new ``updated_at`` and ``version + 1``.

    ``expected_version`` is the version the person saw (None: the one just loaded). When nobody's change matched,
    the transaction is rolled back and ``Conflict(conflict)`` raised; otherwise ``row`` is refreshed.
    """
    seen = row.version if expected_version is None else expected_version
    changed = db.exec(
        sa.update(model).where(col(model.id) == row.id, col(model.version) == seen)
        .values(**values, updated_at=clock.now(), version=col(model.version) + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(conflict)
    db.refresh(row)
