"""`make run`'s database steps, done only when there is something to do.

    python -m portal_app.prestart migrate     # `reflex db migrate` unless the database is at the latest migration
    python -m portal_app.prestart seed        # `python -m seed --if-empty` unless the demo data is already there
    python -m portal_app.prestart migrate seed   # both, in one process (`make run`)

`reflex db migrate` imports the whole app and compares the models with the database before it looks at the
migrations, and `python -m seed` imports every model: together most of ten seconds on every start. Both answers are
usually "nothing to do", and the questions are cheap:

- migrate: the revisions in ``alembic/versions/`` are read as text (each file's ``revision`` and
  ``down_revision``), their heads compared with the database's ``alembic_version``. Equal: nothing runs. Anything
  else (another revision, no ``alembic_version`` table, no database yet, a file whose revision cannot be read
  plainly, a ``depends_on``) runs `reflex db migrate` exactly as before, which applies what is missing or fails
  with its own message.
- seed: a ``company`` row and the demo carrier connection (which ``--if-empty`` adds to an existing database)
  both there: nothing runs. Otherwise `python -m seed --if-empty` runs as before. ``PORTAL_SEED_DEMO=0`` (or
  ``false``) turns demo seeding off.
"""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

VERSIONS_DIR = Path("alembic") / "versions"
DEMO_CARRIER_SUBSCRIPTION_ID = "d0c5a000-0000-4000-8000-00000000de01"  # seed/carrier_demo.py


_Query = Callable[..., list[tuple]] | None


class UnreadableRevision(Exception):
    """A migration file whose revision ids are not plain literals: only alembic itself can tell its place."""


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revisions: tuple[str, ...]


def _literal(node: ast.expr | None, path: Path, name: str) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise UnreadableRevision(f"{path.name}: {name} is not a plain literal") from None


def read_revision(path: Path) -> Revision:
    """``revision`` and ``down_revision`` of one migration file, read without importing it."""
    values: dict[str, object] = {}
    value: ast.expr | None
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
        else:
            continue
        if name in ("revision", "down_revision", "depends_on"):
            values[name] = _literal(value, path, name)
    revision, down, depends = values.get("revision"), values.get("down_revision"), values.get("depends_on")
    if not isinstance(revision, str) or not revision:
        raise UnreadableRevision(f"{path.name}: no revision id")
    if depends:
        raise UnreadableRevision(f"{path.name}: depends_on")
    if down is None:
        downs: tuple[str, ...] = ()
    elif isinstance(down, str):
        downs = (down,)
    elif isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        downs = tuple(down)
    else:
        raise UnreadableRevision(f"{path.name}: down_revision is neither a revision id nor a list of them")
    return Revision(revision, downs)


def script_heads(versions_dir: Path = VERSIONS_DIR) -> set[str]:
    """The revisions no other revision follows, from the files alone."""
    revisions = [read_revision(p) for p in sorted(versions_dir.glob("*.py"))]
    if not revisions:
        raise UnreadableRevision(f"no migrations in {versions_dir}")
    followed = {down for r in revisions for down in r.down_revisions}
    return {r.revision for r in revisions} - followed


@contextmanager
def _connection(url: str) -> Iterator[_Query]:
    """A way to run one query on the database; SQLite through the standard library (a start that only asks two
    questions should not pay for importing SQLAlchemy), anything else through SQLAlchemy. None when the SQLite
    file does not exist."""
    if url.startswith("sqlite"):
        database = _sqlite_file(url)
        if database is None:
            yield None
            return
        conn = sqlite3.connect(database, timeout=30)  # only SELECTs; named parameters (:name) as SQLAlchemy's
        try:
            yield lambda sql, params: conn.execute(sql, params).fetchall()
        finally:
            conn.close()
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as sa_conn:
            yield lambda sql, params: [tuple(r) for r in sa_conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///...`` URL if it exists (None for a missing file or an in-memory one)."""
    from urllib.parse import unquote

    rest = url.split(":///", 1)[1] if ":///" in url else ""
    path = unquote(rest.split("?", 1)[0])
    if not path or path == ":memory:" or not Path(path).is_file():
        return None
    return Path(path)


def _ask(url: str, sql: str, params: dict[str, str] | None = None) -> list[tuple] | None:
    """The rows of one query; None when there is no database or the query fails (no such table: not set up)."""
    try:
        with _connection(url) as query:
            return None if query is None else query(sql, params or {})
    except Exception:  # noqa: BLE001 (sqlite3 or any driver's error: the full step runs and reports it)
        return None


def database_revisions(url: str) -> set[str] | None:
    """The database's ``alembic_version`` rows; None when there is no database or no such table yet."""
    rows = _ask(url, "SELECT version_num FROM alembic_version")
    return None if rows is None else {row[0] for row in rows}


def at_head(url: str, versions_dir: Path = VERSIONS_DIR) -> tuple[bool, str]:
    """Whether the database is at the migrations' head, and why (for the message)."""
    try:
        heads = script_heads(versions_dir)
    except (UnreadableRevision, OSError, SyntaxError) as exc:
        return False, f"the migrations could not be read as text ({exc})"
    current = database_revisions(url)
    if current is None:
        return False, "the database has no migration history yet"
    if current != heads:
        return False, (f"the database is at {', '.join(sorted(current)) or 'no revision'}, "
                       f"the migrations end at {', '.join(sorted(heads))}")
    return True, f"the database is at the latest migration ({', '.join(sorted(heads))})"


def demo_data_present(url: str) -> bool:
    """A company row and the demo carrier connection: what `seed --if-empty` would leave as it is."""
    company = _ask(url, "SELECT 1 FROM company LIMIT 1")
    carrier = _ask(url, "SELECT 1 FROM carrier_connection WHERE subscription_id = :s LIMIT 1",
                   {"s": DEMO_CARRIER_SUBSCRIPTION_ID})
    return bool(company) and bool(carrier)


def seeding_on() -> bool:
    return os.environ.get("PORTAL_SEED_DEMO", "1").strip().lower() not in ("0", "false")


def _run(argv: list[str]) -> int:
    sys.stdout.flush()
    return subprocess.run(argv, check=False).returncode


def _migrate(database_url: str) -> int | None:
    """None when there is nothing to migrate; otherwise `reflex db migrate` takes over this process."""
    done, why = at_head(database_url)
    if done:
        print(f"Nothing to migrate: {why}.", flush=True)
        return None
    print(f"Migrating: {why}.", flush=True)
    return _run([str(Path(sys.executable).parent / "reflex"), "db", "migrate"])


def _seed(database_url: str) -> int | None:
    if not seeding_on():
        print("Demo seeding is off (PORTAL_SEED_DEMO).", flush=True)
        return None
    if demo_data_present(database_url):
        print("database already has data, not seeding", flush=True)
        return None
    return _run([sys.executable, "-m", "seed", "--if-empty"])


def main(argv: list[str], database_url: str | None = None) -> int:
    """Each step named in ``argv`` (``migrate``, ``seed``) in order; the first that fails ends the run with its
    exit status. ``database_url`` defaults to the installation's (REFLEX_DB_URL)."""
    steps = {"migrate": _migrate, "seed": _seed}
    if not argv or any(step not in steps for step in argv):
        print("usage: python -m portal_app.prestart migrate|seed [seed]", file=sys.stderr)
        return 2
    if database_url is None:
        from portal_app.settings import settings

        database_url = settings.database_url
    for step in argv:
        code = steps[step](database_url)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
