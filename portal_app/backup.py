"""Backups and restores of an installation: one ``.tar.gz`` holding the database, the private files and a manifest.

``python -m portal_app.backup create [--dir DIR] [--with-keys]`` (``make backup``) and
``python -m portal_app.backup restore FILE`` (``make restore FILE=...``); see docs/operations.md, "Backups".

The archive::

    manifest.json          format version, created_at, app version, alembic revision, database kind,
                           row counts per table, every file's path, size and SHA-256
    database.sqlite3       SQLite: a page-by-page copy made with SQLite's online backup API (one step, so a
                           consistent snapshot while the app keeps writing)
    database.dump          PostgreSQL: ``pg_dump --format=custom`` of a snapshot the row counts were taken in
    files/<key>            the private file storage (``<data dir>/files``: uploaded documents and attachments)
    keys/<name>            only with ``--with-keys``: the data directory's generated key files

The database is copied before the files: a document's file is in place before its row is committed, so every row
in the copy finds its file. Row counts are counted in the copy itself (SQLite) or in the very snapshot pg_dump
dumps (PostgreSQL), so they match what a restore brings back even while the app serves.

A restore goes into an empty installation only (no rows in any table but ``alembic_version``, no files), and checks
the result against the manifest: any row count or file that differs is listed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from portal_app.version import app_version

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
FILES_PREFIX = "files/"
KEYS_PREFIX = "keys/"
KEY_FILES = ("mfa.key", "secrets.key")  # written by portal_app/key_files.py when no PORTAL_*_KEY is set
SKIPPED_DIRS = {".incoming"}  # the upload staging area: half-received files, never part of a backup
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do. Nothing was changed."""


@dataclass
class Manifest:
    format_version: int
    created_at: str
    app_version: str
    alembic_revision: str | None
    database_kind: str
    row_counts: dict[str, int]
    files: list[dict[str, Any]]
    keys_included: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"The archive's format version is {data.get('format_version')!r}; this version of the "
                              f"portal restores format {FORMAT_VERSION}. Nothing was changed.")
        return cls(**data)


# --------------------------------------------------------------------------- small helpers


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} is not a SQLite database file.")
    return Path(database)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def stored_files(files_dir: Path) -> Iterator[Path]:
    """Every stored file under ``files_dir`` (sorted), without the upload staging area."""
    if not files_dir.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(files_dir):
        dirnames[:] = sorted(d for d in dirnames if not (Path(dirpath) == files_dir and d in SKIPPED_DIRS))
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _table_names(conn: sa.Connection) -> list[str]:
    return sorted(sa.inspect(conn).get_table_names())


def count_rows(conn: sa.Connection) -> dict[str, int]:
    quote = conn.dialect.identifier_preparer.quote
    return {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {quote(t)}")).scalar_one()) for t in _table_names(conn)}


def alembic_revision(conn: sa.Connection) -> str | None:
    if "alembic_version" not in _table_names(conn):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def pg_command_env(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump / pg_restore (password passed in the environment, not argv)."""
    parsed = sa.engine.make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    libpq = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return libpq, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} is not installed; install the PostgreSQL client tools (the same major version "
                          "as the server or newer) and try again.") from None
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({result.returncode}): {result.stderr.strip()}")


# --------------------------------------------------------------------------- the database copy


def dump_sqlite(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """Copy the live SQLite database with the online backup API in one step (a consistent snapshot; writers
    carry on under WAL); counts and revision are read from the copy."""
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"The database file {source} does not exist; check REFLEX_DB_URL / PORTAL_DATA_DIR.")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return count_rows(conn), alembic_revision(conn)
    finally:
        engine.dispose()


def dump_postgresql(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump of one exported snapshot, counted inside that same snapshot."""
    libpq, env = pg_command_env(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            counts, revision = count_rows(conn), alembic_revision(conn)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={target}", f"--dbname={libpq}"], env)
    finally:
        engine.dispose()
    return counts, revision


# --------------------------------------------------------------------------- create


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_files(tar: tarfile.TarFile, files_dir: Path) -> list[dict[str, Any]]:
    entries = []
    for path in stored_files(files_dir):
        rel = path.relative_to(files_dir).as_posix()
        entries.append({"path": rel, "size": path.stat().st_size, "sha256": sha256_of(path)})
        tar.add(path, arcname=FILES_PREFIX + rel, recursive=False)
    return entries


def create_backup(
    out_dir: Path | None = None,
    *,
    database_url: str | None = None,
    data_dir: Path | None = None,
    files_dir: Path | None = None,
    with_keys: bool = False,
) -> Path:
    """Write one archive into ``out_dir`` (default ``<data dir>/backups``) and return its path."""
    from portal_app.settings import settings

    database_url = database_url or settings.database_url
    data_dir = Path(data_dir or settings.data_dir)
    files_dir = Path(files_dir or data_dir / "files")
    out_dir = Path(out_dir or data_dir / "backups")
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = database_kind(database_url)
    stamp = datetime.now(UTC)
    final = out_dir / f"portal-backup-{stamp:%Y%m%dT%H%M%S%fZ}.tar.gz"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".backup-") as work:
        dump = Path(work) / (SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER)
        counts, revision = (dump_sqlite if kind == "sqlite" else dump_postgresql)(database_url, dump)
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(dump, arcname=dump.name)
            files = _add_files(tar, files_dir)
            keys = [name for name in KEY_FILES if with_keys and (data_dir / name).is_file()]
            for name in keys:
                tar.add(data_dir / name, arcname=KEYS_PREFIX + name)
            manifest = Manifest(FORMAT_VERSION, stamp.isoformat(), app_version(), revision, kind, counts, files, keys)
            _add_bytes(tar, MANIFEST, manifest.to_json())
        os.replace(partial, final)
    final.chmod(0o600)
    remember(database_url, final, manifest)
    return final


def remember(database_url: str, archive: Path, manifest: Manifest) -> None:
    """Keep the archive's time, size and manifest summary in the backed-up database, for the tower's System page
    (whichever worker or host serves it). The archive is written by then: failing to note it only warns."""
    from sqlmodel import Session

    from portal_app.db import make_engine
    from portal_app.services import system_status

    record = system_status.BackupRecord(
        created_at=datetime.fromisoformat(manifest.created_at), path=str(archive), size_bytes=archive.stat().st_size,
        database_kind=manifest.database_kind, alembic_revision=manifest.alembic_revision,
        app_version=manifest.app_version, tables=len(manifest.row_counts), rows=sum(manifest.row_counts.values()),
        files=len(manifest.files), keys_included=list(manifest.keys_included))
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            system_status.record_backup(db, record)
            db.commit()
    except sa.exc.SQLAlchemyError as exc:
        print(f"warning: the backup was written, but the database did not take note of it ({exc}); the tower's "
              "System page will not show it.", file=sys.stderr)
    finally:
        engine.dispose()


def keys_left_out(data_dir: Path, archive_keys: list[str]) -> list[str]:
    return [name for name in KEY_FILES if (data_dir / name).is_file() and name not in archive_keys]


# --------------------------------------------------------------------------- restore


def read_manifest(archive: Path) -> Manifest:
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist. Nothing was changed.")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return Manifest.from_json(member.read())
    except (tarfile.TarError, KeyError, OSError, ValueError) as exc:
        raise BackupError(f"{archive} is not a portal backup (no readable {MANIFEST}: {exc}). Nothing was changed.") \
            from None


def database_rows(url: str) -> dict[str, int]:
    """Row counts of the target database's tables (none when the database or its file does not exist yet)."""
    if database_kind(url) == "sqlite" and not sqlite_path(url).exists():
        return {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return count_rows(conn)
    finally:
        engine.dispose()


def emptiness_problems(url: str, files_dir: Path) -> list[str]:
    """Why the target is not an empty installation (empty list: it is)."""
    filled = [f"{t} ({n} rows)" for t, n in database_rows(url).items() if n and t != "alembic_version"]
    problems = []
    if filled:
        more = f" and {len(filled) - 5} more" if len(filled) > 5 else ""
        problems.append(f"the database {sa.engine.make_url(url).render_as_string(hide_password=True)} has rows in "
                        f"{', '.join(filled[:5])}{more}")
    present = next(stored_files(files_dir), None)
    if present is not None:
        problems.append(f"the files directory {files_dir} is not empty (e.g. {present.relative_to(files_dir)})")
    return problems


def foreign_tables(url: str, manifest: Manifest) -> list[str]:
    """Tables of a PostgreSQL target that the archive does not have (a database migrated by a newer release): the
    dump would leave them behind, and the next migration would stumble over them."""
    extra = sorted(set(database_rows(url)) - set(manifest.row_counts))
    if not extra:
        return []
    more = " and more" if len(extra) > 5 else ""
    tables = ", ".join(extra[:5]) + more
    return [f"the database has tables the archive does not ({tables}): it was migrated by a newer release"]


def _restore_sqlite(dump: Path, url: str) -> None:
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(dump)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # replaces the (empty) target's every page, WAL included
    finally:
        dst.close()
        src.close()


def _restore_postgresql(dump: Path, url: str) -> None:
    """One transaction: the (empty) tables, functions and indexes a migrated target already has are dropped and
    made again from the dump (``--clean --if-exists``), so a failure leaves the target as it was."""
    libpq, env = pg_command_env(url)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={libpq}", str(dump)], env)


def _extract(tar: tarfile.TarFile, prefix: str, target: Path) -> None:
    members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
    for member in members:
        member.name = member.name[len(prefix):]
    target.mkdir(parents=True, exist_ok=True)
    tar.extractall(target, members=members, filter="data")  # "data": no absolute paths, links or escapes


def verify(manifest: Manifest, url: str, files_dir: Path) -> list[str]:
    """Every difference between the restored installation and the manifest (empty list: identical)."""
    problems = []
    restored = database_rows(url)
    for table, expected in sorted(manifest.row_counts.items()):
        actual = restored.get(table)
        if actual != expected:
            problems.append(f"table {table}: {actual if actual is not None else 'missing'} rows, manifest {expected}")
    listed = {entry["path"] for entry in manifest.files}
    for entry in manifest.files:
        path = files_dir / entry["path"]
        if not path.is_file():
            problems.append(f"file {entry['path']}: missing")
        elif path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
            problems.append(f"file {entry['path']}: content differs from the manifest (size or SHA-256)")
    for path in stored_files(files_dir):
        if path.relative_to(files_dir).as_posix() not in listed:
            problems.append(f"file {path.relative_to(files_dir).as_posix()}: not in the manifest")
    return problems


def restore_backup(
    archive: Path,
    *,
    database_url: str | None = None,
    data_dir: Path | None = None,
    files_dir: Path | None = None,
) -> list[str]:
    """Restore ``archive`` into an empty installation; returns the verification problems (empty: all match).

    Raises :class:`BackupError`, with nothing changed, when the archive is unreadable or the target not empty.
    """
    from portal_app.settings import settings

    database_url = database_url or settings.database_url
    data_dir = Path(data_dir or settings.data_dir)
    files_dir = Path(files_dir or data_dir / "files")
    archive = Path(archive)
    manifest = read_manifest(archive)
    kind = database_kind(database_url)
    if manifest.database_kind != kind:
        raise BackupError(f"The archive holds a {manifest.database_kind} database but REFLEX_DB_URL is {kind}. "
                          "Restore into the same kind of database. Nothing was changed.")
    problems = emptiness_problems(database_url, files_dir)
    if kind == "postgresql":
        problems += foreign_tables(database_url, manifest)
    if problems:
        raise BackupError("The target installation is not empty, so nothing was restored and nothing was changed: "
                          + "; ".join(problems) + ". Restore into a new, empty database and data directory.")
    work_parent = data_dir if data_dir.is_dir() else None
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=work_parent) as work, tarfile.open(archive) as tar:
        dump_name = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
        tar.extractall(work, members=[tar.getmember(dump_name)], filter="data")
        dump = Path(work) / dump_name
        (_restore_sqlite if kind == "sqlite" else _restore_postgresql)(dump, database_url)
        _extract(tar, FILES_PREFIX, files_dir)
        _restore_keys(tar, manifest, data_dir)
    return verify(manifest, database_url, files_dir)


def _restore_keys(tar: tarfile.TarFile, manifest: Manifest, data_dir: Path) -> None:
    """Key files from a ``--with-keys`` archive, where the data directory has none of its own."""
    for name in manifest.keys_included:
        target = data_dir / name
        member = tar.extractfile(KEYS_PREFIX + name)
        if member is None or target.exists():
            continue
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(member, out)


# --------------------------------------------------------------------------- command line


@contextmanager
def _reported() -> Iterator[None]:
    try:
        yield
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _create_command(args: argparse.Namespace) -> int:
    from portal_app.settings import settings

    with _reported():
        path = create_backup(Path(args.dir) if args.dir else None, with_keys=args.with_keys)
    manifest = read_manifest(path)
    print(f"Backup written: {path}")
    print(f"  {manifest.database_kind} database at revision {manifest.alembic_revision}, "
          f"{sum(manifest.row_counts.values())} rows in {len(manifest.row_counts)} tables, {len(manifest.files)} files")
    left_out = keys_left_out(settings.data_dir, manifest.keys_included)
    if manifest.keys_included:
        print(f"  includes the key files {', '.join(manifest.keys_included)}: keep this archive as secret as they are")
    if left_out:
        print(f"  NOT included: {', '.join(str(settings.data_dir / n) for n in left_out)}. Keep a copy of these key "
              "files apart from the archive (or use --with-keys): without them two-factor secrets and stored client "
              "secrets cannot be decrypted after a restore.")
    from_env = [name for name, value in (("PORTAL_MFA_KEY", settings.mfa_key), ("PORTAL_SSO_KEY", settings.sso_keys))
                if value]
    if from_env:
        print(f"  {' and '.join(from_env)} come from the environment and are never in an archive: keep them too.")
    return 0


def _restore_command(args: argparse.Namespace) -> int:
    with _reported():
        problems = restore_backup(Path(args.file))
    if problems:
        print("Restored, but the result does not match the manifest:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    manifest = read_manifest(Path(args.file))
    print(f"Restored {args.file}: {sum(manifest.row_counts.values())} rows and {len(manifest.files)} files, "
          "every row count and file hash matches the manifest.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal_app.backup", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="write a backup archive")
    create.add_argument("--dir", help="folder for the archive (default: <PORTAL_DATA_DIR>/backups)")
    create.add_argument("--with-keys", action="store_true",
                        help="also put the data directory's generated key files (mfa.key, secrets.key) in the archive")
    create.set_defaults(run=_create_command)
    restore = sub.add_parser("restore", help="restore an archive into an empty installation and verify it")
    restore.add_argument("file", help="the .tar.gz written by `create`")
    restore.set_defaults(run=_restore_command)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
