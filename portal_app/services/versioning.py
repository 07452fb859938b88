"""Optimistic locking: change a row only if it still has the version the person saw."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from portal_app.services import clock
from portal_app.services.errors import Conflict


def update_versioned(db: Session, model: type, row: object, expected_version: int | None, conflict: str,
                     **values: object) -> None:
    """``UPDATE ... WHERE id = :id AND version = :seen`` with ``values``, a new ``updated_at`` and ``version + 1``.

    ``expected_version`` is the version the person saw (None: the one just loaded). When nobody's change matched,
    the transaction is rolled back and ``Conflict(conflict)`` raised; otherwise ``row`` is refreshed.
    """
    seen = row.version if expected_version is None else expected_version
    changed = db.exec(
        sa.update(model).where(model.id == row.id, model.version == seen)
        .values(**values, updated_at=clock.now(), version=model.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        raise Conflict(conflict)
    db.refresh(row)
