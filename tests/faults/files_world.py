"""What the files fault tests share: fresh shipments, principals, signed-in API clients, and a files directory
that fails the way a full or unwritable disk does.

Tests run as root, where ``chmod`` stops no write, so a full or unwritable directory is made by fault injection at
the storage layer (:func:`disk_full_after`, :func:`unwritable`), and where the container allows it by a real,
small tmpfs (:func:`tiny_filesystem`).
"""

from __future__ import annotations

import errno
import io
import itertools
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas
from sqlmodel import Session, col, select

from models import Company, Document, Location, Shipment, User
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.auth.principal import Principal
from portal_app.services import file_storage as storage
from tests.factories import PASSWORD, World

_seq = itertools.count(1)


def pdf_bytes(text: str = "Commercial invoice", pad: int = 0) -> bytes:
    """A real PDF (identified as one from its bytes), padded with ``pad`` bytes of a PDF comment."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue() + (b"%" + b"x" * pad + b"\n" if pad else b"")


def principal_for(db: Session, email: str) -> Principal:
    user = db.exec(select(User).where(User.email == email)).one()
    company = db.get(Company, user.company_id)
    assert company is not None and user.id is not None and company.id is not None
    return Principal(user.id, company.id, Role(user.role), user.email, user.full_name, company.name)


def client_for(email: str) -> TestClient:
    """The API as the app serves it, signed in as ``email`` (the tests' shared password)."""
    client = TestClient(build_api())
    assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    return client


@pytest.fixture()
def fresh_shipment(engine: sa.Engine, world: World) -> Iterator[Callable[[str], str]]:
    """Makes shipments of their own for a test; removed afterwards with their documents and files."""
    created: list[int] = []

    def make(company: str = "ALFA") -> str:
        with Session(engine) as s:
            loc = s.exec(select(Location.id).where(Location.code == "CNSHA")).one()
            ship = Shipment(reference=f"FLT{next(_seq):06d}", company_id=world.companies[company], mode="ocean_fcl",
                            status="booked", incoterm="FOB", origin_id=loc, destination_id=loc)
            s.add(ship)
            s.commit()
            assert ship.id is not None
            created.append(ship.id)
            return ship.reference

    yield make
    with Session(engine) as s:
        for d in s.exec(select(Document).where(col(Document.shipment_id).in_(created))).all():
            storage.delete(d.storage_key)
            s.delete(d)
        s.flush()
        s.execute(sa.delete(Shipment).where(col(Shipment.id).in_(created)))
        s.commit()


def documents_of(db: Session, reference: str) -> list[Document]:
    db.expire_all()
    return list(db.exec(select(Document).join(Shipment, col(Shipment.id) == col(Document.shipment_id))
                        .where(Shipment.reference == reference)).all())


def every_file(base: Path | None = None) -> set[Path]:
    """Every file under the files directory, the upload staging area included."""
    base = base or storage.root()
    return {p for p in base.rglob("*") if p.is_file()} if base.exists() else set()


class _FillingSink(io.BufferedWriter):
    """A staging file on a disk with ``room`` bytes left: the write that would pass it fails with ENOSPC."""

    def __init__(self, raw: BinaryIO, room: int) -> None:
        super().__init__(raw)  # type: ignore[arg-type]
        self.room = room

    def write(self, data) -> int:  # type: ignore[override]
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return super().write(data)


def disk_full_after(monkeypatch: pytest.MonkeyPatch, room: int = 0) -> None:
    """From now on the files directory fills up after ``room`` more bytes of a staging file."""
    monkeypatch.setattr(storage, "_sink", lambda fd: _FillingSink(io.FileIO(fd, "wb"), room))


def unwritable(monkeypatch: pytest.MonkeyPatch, where: str = "open") -> None:
    """The files directory refuses writes (EACCES): opening the staging file, or (``where="place"``) moving it
    to its storage key."""
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(storage, "_sink" if where == "open" else "_place", refuse)


@contextmanager
def tiny_filesystem(size: str = "1m") -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted on a new directory (needs root and a container that allows mounts);
    skips the test when it cannot be mounted."""
    where = Path(tempfile.mkdtemp(prefix="portal-files-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); the injected faults "
                    "cover a full directory instead")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        where.rmdir()
