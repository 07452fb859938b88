"""Private file storage for customer documents, under ``settings.files_dir`` (never Reflex's public upload dir).

A file is first streamed into a staging file (hashing and counting as it goes, stopping one byte past the size
limit), checked by the caller, and only then moved into place with an atomic rename. Storage keys are made here
(``<company_id>/<random hex>``) and never derived from a user's file name.

A files directory that is full (no space or quota left) or not writable raises :class:`StorageFailure`, never a
bare ``OSError``: callers turn it into a clear refusal. A partly written staging file is removed on the way out.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from portal_app.settings import settings

log = logging.getLogger(__name__)
CHUNK_BYTES = 64 * 1024
STAGING_DIR = ".incoming"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
UNWRITABLE_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class StorageFailure(Exception):
    """The files directory could not take a file: ``full`` (no space or quota left) or else not writable."""

    def __init__(self, cause: OSError) -> None:
        self.full = cause.errno in FULL_ERRNOS
        super().__init__(f"the files directory {'is full' if self.full else 'is not writable'}: {cause}")


@contextmanager
def _writing() -> Iterator[None]:
    """Turn a full or unwritable files directory into :class:`StorageFailure`; other errors pass unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL_ERRNOS or exc.errno in UNWRITABLE_ERRNOS:
            raise StorageFailure(exc) from exc
        raise


class FileTooLarge(Exception):
    """The source had more bytes than allowed; nothing was kept."""


class UnsafeStorageKey(Exception):
    """A storage key that would point outside the private storage directory."""


def root() -> Path:
    return settings.files_dir.resolve()


def path_for(key: str) -> Path:
    """The absolute path of a stored file; refuses keys that escape the storage root."""
    base = root()
    path = (base / key).resolve()
    if not key or path == base or not path.is_relative_to(base):
        raise UnsafeStorageKey(key)
    return path


def new_key(company_id: int) -> str:
    return f"{int(company_id)}/{uuid.uuid4().hex}"


@dataclass
class StagedFile:
    """A file written to the staging area, not yet visible under a storage key."""

    path: Path
    size: int
    sha256: str
    key: str | None = None  # set once committed

    def head(self, n: int = 8192) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def chunks(self) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                yield chunk


def _chunks(source: bytes | BinaryIO, limit: int) -> Iterator[bytes]:
    """At most ``limit`` bytes of ``source`` in chunks (bytes or a binary stream)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)[:limit]
        for start in range(0, len(view), CHUNK_BYTES):
            yield bytes(view[start : start + CHUNK_BYTES])
        return
    remaining = limit
    while remaining > 0:
        chunk = source.read(min(CHUNK_BYTES, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


@contextmanager
def staged(source: bytes | BinaryIO, *, max_bytes: int) -> Iterator[StagedFile]:
    """Stream ``source`` into a staging file; removed on exit unless :func:`commit` moved it into place.

    Reads at most ``max_bytes + 1`` bytes and raises :class:`FileTooLarge` if that extra byte exists.
    """
    staging = root() / STAGING_DIR
    with _writing():
        staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=staging, prefix="up-", suffix=".part")
    path = Path(name)
    try:
        digest, size = hashlib.sha256(), 0
        with _writing(), _sink(fd) as out:
            for chunk in _chunks(source, max_bytes + 1):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        yield StagedFile(path=path, size=size, sha256=digest.hexdigest())
    finally:
        _discard(path)


def _sink(fd: int) -> BinaryIO:
    """The staging file opened for writing (its own function so tests can make the disk fill up)."""
    return os.fdopen(fd, "wb")


def _discard(path: Path) -> None:
    """Remove a staging file; a failure is logged, not raised, so it never hides the error that got us here."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("Could not remove the staging file %s", path)


def _place(source: Path, target: Path) -> None:
    """Move a staged file to its key (an atomic rename; its own function so tests can make it fail). The folder is
    synced too, so the rename is on disk before the caller commits the row that names the file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def commit(staged_file: StagedFile, company_id: int) -> str:
    """Move a staged file to a new storage key with an atomic rename; returns the key."""
    key = new_key(company_id)
    target = path_for(key)
    with _writing():
        _place(staged_file.path, target)
    staged_file.key = key
    return key


def delete(key: str) -> None:
    """Remove a stored file (rollback of a failed upload); a missing file is not an error."""
    path_for(key).unlink(missing_ok=True)


def exists(key: str) -> bool:
    try:
        return path_for(key).is_file()
    except UnsafeStorageKey:
        return False


# --------------------------------------------------------------------------- what a file is, from its bytes


class RefusedFile(Exception):
    """A file whose content or name is not accepted; the message says what broke and what to do."""


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str
    extensions: tuple[str, ...]  # the first one is added to a file name without an extension


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY_KINDS: dict[str, FileKind] = {
    k.content_type: k
    for k in (
        FileKind("application/pdf", "PDF", ("pdf",)),
        FileKind("image/png", "PNG image", ("png",)),
        FileKind("image/jpeg", "JPEG image", ("jpg", "jpeg")),
        FileKind("image/tiff", "TIFF image", ("tif", "tiff")),
        FileKind(_XLSX, "Excel workbook", ("xlsx",)),
        FileKind(_DOCX, "Word document", ("docx",)),
    )
}
# Plain text has no signature: accepted only under these names and only when every byte is ordinary text.
TEXT_KINDS: dict[str, FileKind] = {
    "csv": FileKind("text/csv", "CSV file", ("csv",)),
    "txt": FileKind("text/plain", "text file", ("txt",)),
}
ACCEPTED_DESCRIPTION = "PDF, PNG, JPEG, TIFF, Excel (.xlsx), Word (.docx), CSV or plain text (.txt)"
_OOXML_MARKERS = {"xl/workbook.xml": _XLSX, "word/document.xml": _DOCX}
_MARKUP = (b"<script", b"<html", b"<!doctype", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # tab, LF, FF, CR are fine
MAX_NAME_CHARS = 120


def sanitize_filename(raw: str | None) -> str:
    """A display name that is safe to store and send back: base name only, no control or format characters
    (so no right-to-left tricks), no characters that are special in paths or headers, length capped."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = "".join("_" if ch in '<>:"|?*;' else ch for ch in name)
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    stem = stem[: MAX_NAME_CHARS - len(ext)].rstrip(" .") or "document"
    return stem + ext


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _ooxml_kind(path: Path) -> str | None:
    """The Office Open XML type of a zip by its parts, or None; macro-enabled files are refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise RefusedFile("The file contains macros, which are not accepted. Save it without macros (.xlsx or .docx).")
    return next((kind for marker, kind in _OOXML_MARKERS.items() if marker in names), None)


def _is_plain_text(staged_file: StagedFile) -> bool:
    """True when every byte is ordinary UTF-8 (or Windows-1252) text without control characters or markup."""
    head = staged_file.head(8192).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") or any(tag in head for tag in _MARKUP):
        return False
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in staged_file.chunks():
                if _CONTROL_BYTES.search(chunk):
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _refused_content(filename: str, guess_label: str | None) -> RefusedFile:
    found = f"of type {guess_label}" if guess_label else "not one of the accepted types"
    return RefusedFile(
        f"The content of “{filename}” is {found}; we accept {ACCEPTED_DESCRIPTION}, checked from the file's "
        "content, not its name. Save or export the document in one of these formats and upload it again."
    )


def identify(staged_file: StagedFile, filename: str) -> tuple[FileKind, str]:
    """What the staged file really is, from its bytes, and the file name to store (extension checked).

    Raises :class:`RefusedFile` when the content is not an accepted type or does not match the name's extension.
    """
    ext = _extension(filename)
    guess = filetype.guess(staged_file.head(8192))
    mime = guess.mime if guess else None
    if mime in ("application/zip", _XLSX, _DOCX):
        mime = _ooxml_kind(staged_file.path) or "application/zip"  # a zip that is not a clean Office file
    if mime is None and ext in TEXT_KINDS and _is_plain_text(staged_file):
        return TEXT_KINDS[ext], filename
    kind = BINARY_KINDS.get(mime or "")
    if kind is None:
        raise _refused_content(filename, guess.extension.upper() if guess else None)
    if not ext:
        return kind, f"{filename}.{kind.extensions[0]}"
    if ext not in kind.extensions:
        raise RefusedFile(
            f"“{filename}” is named .{ext} but its content is a {kind.label}. Rename it to "
            f".{kind.extensions[0]} (or export it again as .{ext}) and upload it again."
        )
    return kind, filename
