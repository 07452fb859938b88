"""On SQLite, a savepoint that is the first write of a transaction stays inside it: rolling the transaction back
undoes the savepoint's rows too (Python's sqlite3 would otherwise commit them at the savepoint's release)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from portal_app.db import make_engine


def test_a_savepoint_first_in_a_transaction_is_undone_by_its_rollback(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'savepoints.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with Session(engine) as db:
        db.execute(sa.text("SELECT 1"))  # a read first: no transaction yet in sqlite3's eyes
        with db.begin_nested():
            db.execute(sa.text("INSERT INTO t VALUES (1)"))
        db.execute(sa.text("INSERT INTO t VALUES (2)"))
        db.rollback()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t").all() == []


def test_savepoints_still_keep_or_undo_their_part_and_the_commit_keeps_the_rest(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'savepoints.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with Session(engine) as db:
        with db.begin_nested():
            db.execute(sa.text("INSERT INTO t VALUES (1)"))
        refused = db.begin_nested()  # a part refused: rolled back alone
        db.execute(sa.text("INSERT INTO t VALUES (2)"))
        refused.rollback()
        db.commit()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t").all() == [(1,)]
