"""Fault: the private files directory is full or not writable during an upload.

The service, the API (POST /api/v1/shipments/{reference}/documents) and the shipment page refuse clearly (507 in
the error shape; on the page a message that nothing was stored), and leave no document row without its file and
no file without its row, staging files included. A failure after the file is written (the row cannot be saved)
removes the file again. A real full filesystem (a 1 MB tmpfs) is used where the container allows a mount.

Then the files audit (services/files_audit.py, the API route, the command): rows whose file is missing and files
without a row are both reported, with counts and references, and nothing is deleted.
"""

from __future__ import annotations

import errno
import io
import json
import os
import time
import uuid
from pathlib import Path

import pytest
import reflex as rx
import sqlalchemy as sa
from sqlmodel import Session

from models import Document
from portal_app import files_audit as audit_command
from portal_app.portal.shipment_detail import PortalShipmentDetailState
from portal_app.services import documents as docs
from portal_app.services import file_storage as storage
from portal_app.services import files_audit
from portal_app.services.errors import ErrorCode, PermissionDenied, StorageUnavailable
from tests.faults.files_world import (
    client_for,
    disk_full_after,
    documents_of,
    every_file,
    fresh_shipment,  # noqa: F401  (a fixture)
    pdf_bytes,
    principal_for,
    tiny_filesystem,
    unwritable,
)
from tests.page_states import run, state_as, use_db

pytestmark = pytest.mark.faults


@pytest.fixture()
def alfa(db):
    return principal_for(db, "customer_user@alfa.test")


@pytest.fixture()
def ref(fresh_shipment) -> str:  # noqa: F811
    return fresh_shipment()


# --------------------------------------------------------------------------- the service


@pytest.mark.parametrize(("fault", "code", "words"), [
    ("full at once", ErrorCode.STORAGE_FULL, "storage is full"),
    ("full mid-file", ErrorCode.STORAGE_FULL, "storage is full"),
    ("unwritable", ErrorCode.STORAGE_UNWRITABLE, "cannot be written"),
    ("unwritable at the rename", ErrorCode.STORAGE_UNWRITABLE, "cannot be written"),
])
def test_a_full_or_unwritable_directory_refuses_and_keeps_nothing(db, alfa, ref, monkeypatch, fault, code, words):
    before = every_file()
    if fault.startswith("full"):
        disk_full_after(monkeypatch, room=0 if fault == "full at once" else storage.CHUNK_BYTES)
    else:
        unwritable(monkeypatch, "open" if fault == "unwritable" else "place")
    with pytest.raises(StorageUnavailable) as err:
        docs.upload_document(db, alfa, ref, "commercial_invoice", "invoice.pdf", pdf_bytes(pad=200_000))
    assert err.value.status_code == 507 and err.value.code == code and not err.value.saved
    assert words in err.value.message and docs.NOTHING_STORED in err.value.message
    assert documents_of(db, ref) == []
    assert every_file() == before  # no stored file, no staging file left behind


def test_a_row_that_cannot_be_saved_takes_its_file_away(db, alfa, ref, monkeypatch):
    """Write the file, then the row: when the row fails, the file written for it is removed."""
    before = every_file()

    def row_fails(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO document", {}, Exception("database is locked"))

    monkeypatch.setattr(docs, "_insert_version", row_fails)
    with pytest.raises(sa.exc.OperationalError):
        docs.upload_document(db, alfa, ref, "commercial_invoice", "invoice.pdf", pdf_bytes())
    assert documents_of(db, ref) == [] and every_file() == before


def test_a_file_that_cannot_be_removed_after_a_failed_row_is_left_for_the_audit(db, alfa, ref, monkeypatch):
    """If even the clean-up fails, the original error still reaches the caller and the audit lists the file."""
    before = every_file()

    def row_fails(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO document", {}, Exception("disk I/O error"))

    def cannot_delete(key):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(docs, "_insert_version", row_fails)
    monkeypatch.setattr(storage, "delete", cannot_delete)
    with pytest.raises(sa.exc.OperationalError):
        docs.upload_document(db, alfa, ref, "commercial_invoice", "invoice.pdf", pdf_bytes())
    [left] = every_file() - before
    key = left.relative_to(storage.root()).as_posix()
    report = files_audit.scan(db)
    assert key in {f.key for f in report.files_without_row}
    left.unlink()


# --------------------------------------------------------------------------- the API and the page


@pytest.mark.parametrize(("fault", "code"), [("full", "storage_full"), ("unwritable", "storage_unwritable")])
def test_the_api_answers_507_in_the_error_shape(world, db, ref, monkeypatch, fault, code):
    api = client_for("customer_user@alfa.test")
    before = every_file()
    if fault == "full":
        disk_full_after(monkeypatch)
    else:
        unwritable(monkeypatch)
    resp = api.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "commercial_invoice"},
                    files={"file": ("invoice.pdf", pdf_bytes(), "application/pdf")})
    assert resp.status_code == 507, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and error["saved"] is False and "Nothing was stored" in error["message"]
    assert documents_of(db, ref) == [] and every_file() == before
    monkeypatch.undo()  # room again: the same upload goes through
    assert api.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "commercial_invoice"},
                    files={"file": ("invoice.pdf", pdf_bytes(), "application/pdf")}).status_code == 201


def test_the_shipment_page_says_nothing_was_stored(world, db, engine, ref, monkeypatch):
    use_db(monkeypatch, engine)
    alfa = principal_for(db, "customer_user@alfa.test")
    st = state_as(monkeypatch, PortalShipmentDetailState, alfa, f"/portal/shipments/{ref}")
    st.upload_doc_type = "packing_list"
    before = every_file()
    disk_full_after(monkeypatch, room=1000)
    upload = rx.UploadFile(file=io.BytesIO(pdf_bytes(pad=5000)), path=Path("packing list.pdf"))
    run(PortalShipmentDetailState.upload_document, st, [upload], ref)
    assert "storage is full" in st.upload_error and "Nothing was stored" in st.upload_error
    assert st.upload_notice == "" and not st.uploading
    assert documents_of(db, ref) == [] and every_file() == before


# --------------------------------------------------------------------------- a real full filesystem


def test_a_really_full_filesystem_refuses_the_upload_that_does_not_fit(db, alfa, ref, monkeypatch):
    with tiny_filesystem("1m") as full_dir:
        monkeypatch.setattr(storage, "root", lambda: full_dir)
        first = docs.upload_document(db, alfa, ref, "commercial_invoice", "first.pdf", pdf_bytes(pad=600_000))
        kept = every_file(full_dir)
        with pytest.raises(StorageUnavailable) as err:
            docs.upload_document(db, alfa, ref, "packing_list", "second.pdf", pdf_bytes(pad=600_000))
        assert err.value.code == ErrorCode.STORAGE_FULL and "Nothing was stored" in err.value.message
        assert [d.id for d in documents_of(db, ref)] == [first.id]
        assert every_file(full_dir) == kept  # the first file is whole, no half-written second
        assert docs.get_document_for_download(db, alfa, first.id).path.stat().st_size == first.size_bytes
        for d in documents_of(db, ref):  # the fixture's clean-up looks in the real directory
            (full_dir / d.storage_key).unlink()
            db.delete(d)
        db.commit()


# --------------------------------------------------------------------------- the files audit


def _stray(company_id: int) -> Path:
    path = storage.root() / str(company_id) / uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 left behind by a process that died before its row")
    return path


def test_the_audit_finds_both_directions_and_deletes_nothing(world, db, alfa, ref, engine):
    before = files_audit.scan(db)
    row = docs.upload_document(db, alfa, ref, "commercial_invoice", "lost.pdf", pdf_bytes())
    lost = db.get(Document, row.id)
    (storage.root() / lost.storage_key).unlink()  # the row's file is gone
    stray = _stray(world.companies["ALFA"])
    staging = storage.root() / storage.STAGING_DIR / "up-crashed.part"
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(staging, (two_hours_ago, two_hours_ago))
    try:
        report = files_audit.scan(db)
        assert report.rows_without_file_count == before.rows_without_file_count + 1
        assert report.files_without_row_count == before.files_without_row_count + 1
        assert report.stale_staging_count == before.stale_staging_count + 1 and not report.clean
        [missing] = [m for m in report.rows_without_file if m.document_id == row.id]
        assert (missing.shipment_reference, missing.filename, missing.storage_key) == (ref, "lost.pdf",
                                                                                      lost.storage_key)
        stray_key = stray.relative_to(storage.root()).as_posix()
        [found] = [f for f in report.files_without_row if f.key == stray_key]
        assert found.size_bytes == stray.stat().st_size
        assert f"{storage.STAGING_DIR}/up-crashed.part" in {f.key for f in report.stale_staging}
        # Reported, never removed.
        assert stray.is_file() and staging.is_file()
        with Session(engine) as other:
            assert other.get(Document, row.id) is not None

        # The staff admin's API route gives the same report; nobody else gets it.
        body = client_for("admin@fwd.test").get("/api/v1/admin/files-audit")
        assert body.status_code == 200, body.text
        got = body.json()
        assert got["rows_without_file_count"] == report.rows_without_file_count and got["clean"] is False
        assert row.id in {m["document_id"] for m in got["rows_without_file"]}
        assert stray_key in {f["key"] for f in got["files_without_row"]}
        for who in ("ops_manager@fwd.test", "customer_admin@alfa.test"):
            refused = client_for(who).get("/api/v1/admin/files-audit")
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
        with pytest.raises(PermissionDenied):
            files_audit.audit_files(db, principal_for(db, "ops_agent@fwd.test"))
        assert files_audit.audit_files(db, principal_for(db, "admin@fwd.test")).files_without_row_count == (
            report.files_without_row_count)
    finally:
        stray.unlink(missing_ok=True)
        staging.unlink(missing_ok=True)
    assert files_audit.scan(db).files_without_row_count == before.files_without_row_count


def test_the_audit_command_prints_counts_and_references_and_fails_when_something_is_found(world, db, alfa, ref,
                                                                                         capsys):
    row = docs.upload_document(db, alfa, ref, "packing_list", "gone.pdf", pdf_bytes())
    (storage.root() / db.get(Document, row.id).storage_key).unlink()
    stray = _stray(world.companies["BETA"])
    try:
        assert audit_command.main([]) == 1
        text = capsys.readouterr().out
        assert f"document {row.id} (shipment {ref}" in text and "“gone.pdf”" in text
        assert f"file without row: {stray.relative_to(storage.root()).as_posix()}" in text
        assert "Nothing was changed" in text
        assert audit_command.main(["--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["rows_without_file_count"] >= 1 and report["files_without_row_count"] >= 1
        assert row.id in {m["document_id"] for m in report["rows_without_file"]}
        assert stray.is_file()
    finally:
        stray.unlink(missing_ok=True)


def test_an_upload_in_progress_is_not_reported(db):
    """A staging file younger than an hour is an upload being received, not a leftover."""
    staging = storage.root() / storage.STAGING_DIR / f"up-{uuid.uuid4().hex}.part"
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_bytes(b"an upload being received")
    try:
        report = files_audit.scan(db)
        assert staging.name not in {Path(f.key).name for f in report.stale_staging + report.files_without_row}
    finally:
        staging.unlink()
