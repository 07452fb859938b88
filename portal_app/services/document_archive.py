"""One shipment's documents as one ZIP archive, streamed from private storage.

The archive holds the current version (not superseded, not rejected) of every document of the shipment the
principal may read: a customer gets the documents shared with them, never internal ones; staff get every current
document. Another company's shipment is NotFound, like a missing one. Names inside the archive are the stored
display names (base names only), with a " (2)", " (3)" … before the extension where two would be the same.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Document
from models.enums import DocumentStatus, Visibility
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit
from portal_app.services import file_storage as storage
from portal_app.services.errors import NotFound
from portal_app.services.shipments import shipment_record

CHUNK = 64 * 1024
ARCHIVED = (DocumentStatus.RECEIVED.value, DocumentStatus.APPROVED.value)
ZIP_URL = "/api/v1/shipments/{reference}/documents.zip"


@dataclass(frozen=True)
class ArchiveEntry:
    name: str  # the name inside the archive: safe, unique
    path: Path


@dataclass(frozen=True)
class Archive:
    filename: str  # the archive's own download name
    entries: tuple[ArchiveEntry, ...]


def zip_url(reference: str) -> str:
    return ZIP_URL.format(reference=reference)


def unique_names(names: list[str]) -> list[str]:
    """Safe base names, each unique (case-insensitively, as on most desktops): "a.pdf", "a (2).pdf", …"""
    seen: set[str] = set()
    out: list[str] = []
    for raw in names:
        name = storage.sanitize_filename(raw)
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        suffix = f".{ext}" if ext else ""
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n}){suffix}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def shipment_archive(db: Session, principal: Principal, reference: str) -> Archive:
    """What the shipment's archive holds for this principal; NotFound when the shipment is not theirs or when
    there is nothing to put in it."""
    principal.require(Permission.VIEW_SHIPMENTS)
    shipment = shipment_record(db, principal, reference)
    clauses: list[sa.ColumnElement[bool]] = [col(Document.shipment_id) == shipment.id,
                                             col(Document.status).in_(ARCHIVED)]
    if not principal.is_staff:
        clauses.append(col(Document.visibility) == Visibility.CUSTOMER.value)
    docs = db.exec(select(Document).where(*clauses).order_by(col(Document.doc_type), col(Document.id))).all()
    files: list[tuple[str, Path]] = []
    for doc in docs:
        try:
            path = storage.path_for(doc.storage_key)
        except storage.UnsafeStorageKey:
            continue
        if path.is_file():
            files.append((doc.filename, path))
    if not files:
        raise NotFound(f"Shipment {shipment.reference} has no documents to download yet.")
    names = unique_names([name for name, _ in files])
    audit.record(db, principal, "archive_downloaded", "shipment", shipment.reference, shipment.company_id, None,
                 {"files": len(files)})
    db.commit()
    return Archive(f"{shipment.reference}-documents.zip",
                   tuple(ArchiveEntry(name, path) for name, (_, path) in zip(names, files, strict=True)))


class _Sink(io.RawIOBase):
    """A write-only stream that hands back what was written since the last call (the ZIP is never held whole)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def stream_zip(archive: Archive) -> Iterator[bytes]:
    """The archive's bytes, a chunk at a time, reading each file as it goes."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for entry in archive.entries:
            with entry.path.open("rb") as source, zf.open(entry.name, "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    if out := sink.take():
                        yield out
            if out := sink.take():
                yield out
    if out := sink.take():
        yield out
