"""Backups (portal_app/backup.py): a round trip restores every row and file, also while the app writes; a restore
refuses a target that has data and changes nothing; a tampered archive fails verification."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

import seed
from portal_app import backup
from portal_app.db import make_engine
from tests.paths import PROJECT_ROOT
from tests.quote_world import PG_ADMIN_URL, postgres_available


@dataclass
class Installation:
    data_dir: Path
    url: str

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def create(self, out: Path, **kw: object) -> Path:
        return backup.create_backup(out, database_url=self.url, data_dir=self.data_dir, **kw)

    def restore(self, archive: Path) -> list[str]:
        return backup.restore_backup(archive, database_url=self.url, data_dir=self.data_dir)

    def rows(self) -> dict[str, int]:
        return backup.database_rows(self.url)

    def file_hashes(self) -> dict[str, str]:
        return {p.relative_to(self.files_dir).as_posix(): backup.sha256_of(p)
                for p in backup.stored_files(self.files_dir)}


def seeded(data_dir: Path, url: str) -> Installation:
    """The demo seed with three shipments and their document files (real PDFs under the files directory)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    seed.create_schema(engine)
    seed.run(engine, shipments=3, today=date(2026, 11, 10), files_dir=data_dir / "files", write_files=True)
    engine.dispose()
    return Installation(data_dir, url)


def sqlite_installation(folder: Path) -> Installation:
    return Installation(folder, f"sqlite:///{folder / 'portal.db'}")


@pytest.fixture()
def source(tmp_path: Path) -> Installation:
    return seeded(tmp_path / "source", f"sqlite:///{tmp_path / 'source' / 'portal.db'}")


class Writer(threading.Thread):
    """Inserts a portal event and an app setting in one transaction, over and over, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.stop = threading.Event()
        self.written = 0
        self.started_writing = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with self.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO portalevent (kind, detail, created_at) "
                                     "VALUES ('backup_test', :d, CURRENT_TIMESTAMP)"), {"d": str(self.written)})
                conn.execute(sa.text("INSERT INTO appsetting (key, value, updated_at) "
                                     "VALUES (:k, '1', CURRENT_TIMESTAMP)"), {"k": f"backup-test-{self.written}"})
            self.written += 1
            if self.written >= 20:
                self.started_writing.set()
        self.engine.dispose()


def test_round_trip_while_the_app_writes(source: Installation, tmp_path: Path):
    before = source.rows()
    assert before["document"] > 0 and source.file_hashes()
    writer = Writer(source.url)
    writer.start()
    assert writer.started_writing.wait(30)
    archive = source.create(tmp_path / "out")
    written_during = writer.written
    while writer.written < written_during + 20 and writer.is_alive():  # keeps writing after the copy, too
        time.sleep(0.01)
    writer.stop.set()
    writer.join(30)

    manifest = backup.read_manifest(archive)
    counts = manifest.row_counts
    assert archive.parent == tmp_path / "out" and archive.name.endswith(".tar.gz")
    # One consistent snapshot: both tables of each transaction, never one without the other.
    added_events = counts["portalevent"] - before["portalevent"]
    assert added_events == counts["appsetting"] - before["appsetting"]
    assert 20 <= added_events < writer.written
    assert manifest.database_kind == "sqlite" and manifest.format_version == backup.FORMAT_VERSION
    assert {f["path"]: f["sha256"] for f in manifest.files} == source.file_hashes()
    assert all(f["size"] > 0 for f in manifest.files)

    target = sqlite_installation(tmp_path / "target")
    assert target.restore(archive) == []
    assert target.rows() == counts
    assert target.file_hashes() == source.file_hashes()


def test_restore_into_a_migrated_but_empty_database(source: Installation, tmp_path: Path):
    archive = source.create(tmp_path / "out")
    target = sqlite_installation(tmp_path / "target")
    target.data_dir.mkdir()
    seed.create_schema(make_engine(target.url))
    assert target.restore(archive) == []
    assert target.rows()["document"] == source.rows()["document"]


def test_restore_refuses_a_target_with_data_and_changes_nothing(source: Installation, tmp_path: Path):
    archive = source.create(tmp_path / "out")
    rows, files = source.rows(), source.file_hashes()
    with pytest.raises(backup.BackupError, match=r"not empty.*nothing was changed"):
        source.restore(archive)
    assert source.rows() == rows and source.file_hashes() == files

    # Only files left over from another installation: refused too, and the empty database stays empty.
    target = sqlite_installation(tmp_path / "target")
    (target.files_dir / "7").mkdir(parents=True)
    (target.files_dir / "7" / "left-over").write_bytes(b"x")
    with pytest.raises(backup.BackupError, match="files directory"):
        target.restore(archive)
    assert not Path(target.url.removeprefix("sqlite:///")).exists()


def _tampered(archive: Path, out: Path) -> tuple[Path, str]:
    """A copy of ``archive`` with the first stored file's content changed (the manifest left as it was)."""
    changed = ""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if not changed and member.name.startswith(backup.FILES_PREFIX):
                changed, data = member.name.removeprefix(backup.FILES_PREFIX), data + b"tampered"
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return out, changed


def test_a_tampered_archive_fails_verification(source: Installation, tmp_path: Path):
    archive, changed = _tampered(source.create(tmp_path / "out"), tmp_path / "tampered.tar.gz")
    target = sqlite_installation(tmp_path / "target")
    problems = target.restore(archive)
    assert problems == [f"file {changed}: content differs from the manifest (size or SHA-256)"]

    # The command says so and exits non-zero.
    second = sqlite_installation(tmp_path / "second")
    env = {**os.environ, "PORTAL_DATA_DIR": str(second.data_dir), "REFLEX_DB_URL": second.url}
    result = subprocess.run([sys.executable, "-m", "portal_app.backup", "restore", str(archive)], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert changed in result.stderr and "does not match the manifest" in result.stderr


def test_a_changed_row_count_fails_verification(source: Installation, tmp_path: Path):
    archive = source.create(tmp_path / "out")
    manifest = backup.read_manifest(archive)
    manifest.row_counts["shipment"] += 1
    target = sqlite_installation(tmp_path / "target")
    assert target.restore(archive) == []
    assert backup.verify(manifest, target.url, target.files_dir) == [
        f"table shipment: {manifest.row_counts['shipment'] - 1} rows, manifest {manifest.row_counts['shipment']}"]


def test_key_files_are_left_out_unless_asked_for(source: Installation, tmp_path: Path):
    (source.data_dir / "mfa.key").write_bytes(b"k" * 44)
    plain = source.create(tmp_path / "plain")
    assert backup.read_manifest(plain).keys_included == []
    assert "mfa.key" in backup.keys_left_out(source.data_dir, [])
    with tarfile.open(plain) as tar:
        assert not [n for n in tar.getnames() if n.startswith(backup.KEYS_PREFIX)]

    # The command says which key files it left out, with their paths.
    env = {**os.environ, "PORTAL_DATA_DIR": str(source.data_dir), "REFLEX_DB_URL": source.url}
    result = subprocess.run([sys.executable, "-m", "portal_app.backup", "create", "--dir", str(tmp_path / "cli")],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"NOT included: {source.data_dir / 'mfa.key'}" in result.stdout
    assert len(list((tmp_path / "cli").glob("portal-backup-*.tar.gz"))) == 1

    with_keys = source.create(tmp_path / "keys", with_keys=True)
    assert "mfa.key" in backup.read_manifest(with_keys).keys_included
    target = sqlite_installation(tmp_path / "target")
    assert target.restore(with_keys) == []
    assert (target.data_dir / "mfa.key").read_bytes() == b"k" * 44
    assert (target.data_dir / "mfa.key").stat().st_mode & 0o077 == 0


def test_manifest_records_the_revision_and_app_version(source: Installation, tmp_path: Path):
    with make_engine(source.url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('e475cbc4a1a4')"))
    archive = source.create(tmp_path / "out")
    with tarfile.open(archive) as tar:
        raw = json.loads(tar.extractfile(backup.MANIFEST).read())
    assert raw["alembic_revision"] == "e475cbc4a1a4"
    assert raw["app_version"] and raw["created_at"]


@pytest.fixture()
def pg_databases():
    """Two new, empty PostgreSQL databases (source and target), dropped afterwards."""
    if not postgres_available():
        if os.environ.get("PORTAL_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (PORTAL_REQUIRE_POSTGRES) but 127.0.0.1:5432 does not answer")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    names = [f"portal_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield [f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}" for name in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_round_trip_on_postgresql(pg_databases: list[str], tmp_path: Path):
    source_url, target_url = pg_databases
    src = seeded(tmp_path / "source", source_url)
    before = src.rows()
    writer = Writer(source_url)
    writer.start()
    assert writer.started_writing.wait(30)
    try:
        archive = src.create(tmp_path / "out")
    finally:
        writer.stop.set()
        writer.join(30)
    manifest = backup.read_manifest(archive)
    assert manifest.database_kind == "postgresql"
    added_events = manifest.row_counts["portalevent"] - before["portalevent"]
    assert added_events == manifest.row_counts["appsetting"] - before["appsetting"] >= 20

    target = Installation(tmp_path / "target", target_url)
    target.data_dir.mkdir()
    target_engine = make_engine(target_url)
    with target_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE later_feature (id integer PRIMARY KEY)"))
    with pytest.raises(backup.BackupError, match="later_feature"):
        target.restore(archive)
    with target_engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE later_feature"))
    seed.create_schema(target_engine)  # migrated but empty: its tables make way for the dump's
    target_engine.dispose()
    assert target.restore(archive) == []
    assert target.rows() == manifest.row_counts
    assert target.file_hashes() == src.file_hashes()
    with pytest.raises(backup.BackupError, match="not empty"):
        Installation(tmp_path / "third", target_url).restore(archive)
