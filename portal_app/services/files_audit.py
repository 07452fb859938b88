"""The files audit: document rows whose file is missing, and files in private storage that no row names.

Uploads write the file first and the row second, and remove the file when the row fails
(:mod:`portal_app.services.documents`), so neither should exist. A process killed between the two steps, a file
removed by hand or a restore from mismatched backups can still leave one. The audit only reports: it never deletes
or changes anything, so a person decides (restore the file from a backup, ask for it again, or remove a stray file).

Staff administrators run it from the API (``GET /api/v1/admin/files-audit``); operators with a shell run
``python -m portal_app.files_audit`` (``make files-audit``), which reads the same database and directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col

from models import Document, Shipment
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services import file_storage as storage
from portal_app.services.errors import ErrorCode, PermissionDenied

MAX_LISTED = 500  # entries listed per kind; the counts are always complete
STALE_STAGING = timedelta(hours=1)  # a staging file this old is not an upload in progress


@dataclass(frozen=True)
class RowWithoutFile:
    """A document row whose file is not in storage (downloads of it answer 404)."""

    document_id: int
    company_id: int
    shipment_reference: str | None  # None for a request message's attachment
    filename: str
    storage_key: str
    uploaded_at: datetime


@dataclass(frozen=True)
class FileWithoutRow:
    """A file under the files directory that no document row names (``key`` is its path inside the directory)."""

    key: str
    size_bytes: int
    modified_at: datetime


@dataclass(frozen=True)
class FilesAuditReport:
    """What the audit found; ``*_count`` are complete, the lists hold at most ``MAX_LISTED`` entries each."""

    checked_at: datetime
    files_dir: str
    rows_checked: int
    files_checked: int
    rows_without_file_count: int
    files_without_row_count: int
    stale_staging_count: int  # half-received uploads older than an hour in the staging area (.incoming)
    clean: bool  # nothing of the three found
    rows_without_file: list[RowWithoutFile] = field(default_factory=list)
    files_without_row: list[FileWithoutRow] = field(default_factory=list)
    stale_staging: list[FileWithoutRow] = field(default_factory=list)


def require_staff_admin(principal: Principal) -> None:
    """The audit covers every company's files: staff administrators only, signed in as themselves."""
    if not (principal.is_staff and principal.can(Permission.MANAGE_USERS)) or principal.api_key_id is not None:
        raise PermissionDenied("Only a staff administrator signed in to the tower can run the files audit.",
                               code=ErrorCode.ADMIN_ONLY)


def audit_files(db: Session, principal: Principal) -> FilesAuditReport:
    """Every row without its file and every file without its row, for a staff administrator."""
    require_staff_admin(principal)
    return scan(db)


def _file(base: Path, path: Path) -> FileWithoutRow | None:
    try:
        st = path.stat()
    except OSError:  # removed while we walked
        return None
    return FileWithoutRow(path.relative_to(base).as_posix(), st.st_size,
                          datetime.fromtimestamp(st.st_mtime, UTC))


def _walk(base: Path) -> tuple[list[Path], list[Path]]:
    """(stored files, staging files) under ``base``, sorted."""
    stored: list[Path] = []
    staging: list[Path] = []
    if not base.is_dir():
        return stored, staging
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        here = Path(dirpath)
        inside_staging = here == base / storage.STAGING_DIR or base / storage.STAGING_DIR in here.parents
        for name in sorted(filenames):
            (staging if inside_staging else stored).append(here / name)
    return stored, staging


def scan(db: Session, now: datetime | None = None) -> FilesAuditReport:
    """The audit itself, without the permission check (for the command run by an operator on the host)."""
    now = now or clock.now()
    base = storage.root()
    # Files first, rows second: an upload writes its file before its row, so one finishing meanwhile is never
    # reported (only one caught between its two steps, for a moment, is: run the audit again to tell).
    stored, staging = _walk(base)
    rows = db.connection().execute(
        sa.select(col(Document.id), col(Document.company_id), col(Shipment.reference), col(Document.filename),
                  col(Document.storage_key), col(Document.created_at))
        .join(Shipment, col(Shipment.id) == col(Document.shipment_id), isouter=True)
        .order_by(col(Document.id))).all()
    keys: set[str] = set()
    missing: list[RowWithoutFile] = []
    for doc_id, company_id, reference, filename, key, created in rows:
        keys.add(key)
        if not storage.exists(key):
            assert doc_id is not None  # a stored row
            missing.append(RowWithoutFile(doc_id, company_id, reference, filename, key, created))
    strays = [f for p in stored if p.relative_to(base).as_posix() not in keys and (f := _file(base, p))]
    stale = [f for p in staging if (f := _file(base, p)) and now - f.modified_at > STALE_STAGING]
    return FilesAuditReport(
        checked_at=now, files_dir=str(base), rows_checked=len(rows), files_checked=len(stored),
        rows_without_file_count=len(missing), files_without_row_count=len(strays), stale_staging_count=len(stale),
        clean=not (missing or strays or stale),
        rows_without_file=missing[:MAX_LISTED], files_without_row=strays[:MAX_LISTED],
        stale_staging=stale[:MAX_LISTED],
    )
