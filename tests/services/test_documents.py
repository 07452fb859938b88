"""Customer documents: private storage, checked and versioned uploads, downloads, tenancy and the checklist."""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas
from sqlmodel import Session, select

from models import Company, Document, DocumentRequirement, Location, PortalEvent, Shipment, User
from models.enums import PortalEventKind, Role
from portal_app.api.app import build_api
from portal_app.auth.principal import Principal
from portal_app.db import get_engine
from portal_app.services import clock
from portal_app.services import documents as docs
from portal_app.services import file_storage as storage
from portal_app.services.errors import NotFound, PermissionDenied, ValidationFailed
from portal_app.settings import settings
from tests.factories import PASSWORD, World

_seq = itertools.count(1)
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def pdf_bytes(text: str = "Commercial invoice") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Packing list"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def principal_for(db: Session, email: str) -> Principal:
    user = db.exec(select(User).where(User.email == email)).one()
    company = db.get(Company, user.company_id)
    return Principal(user.id, company.id, Role(user.role), user.email, user.full_name, company.name)


@pytest.fixture()
def alfa(db) -> Principal:
    return principal_for(db, "customer_user@alfa.test")


@pytest.fixture()
def beta(db) -> Principal:
    return principal_for(db, "customer_user@beta.test")


@pytest.fixture()
def agent(db) -> Principal:
    return principal_for(db, "ops_agent@fwd.test")


@pytest.fixture()
def make_shipment(engine: sa.Engine, world: World) -> Iterator[Callable[..., str]]:
    """Fresh shipments (so versions never collide between tests); removed with their documents and files."""
    created: list[int] = []

    def make(company: str = "ALFA", *, mode: str = "ocean_fcl", incoterm: str | None = "FOB",
             dangerous: bool = False, etd: datetime | None = NOW + timedelta(days=10)) -> str:
        with Session(engine) as s:
            loc = s.exec(select(Location.id).where(Location.code == "CNSHA")).one()
            ship = Shipment(reference=f"DOC{next(_seq):06d}", company_id=world.companies[company], mode=mode,
                            status="booked", incoterm=incoterm, is_dangerous_goods=dangerous, origin_id=loc,
                            destination_id=loc, etd_planned=etd)
            s.add(ship)
            s.commit()
            created.append(ship.id)
            return ship.reference

    yield make
    with Session(engine) as s:
        for d in s.exec(select(Document).where(Document.shipment_id.in_(created))).all():
            storage.delete(d.storage_key)
            s.delete(d)
        s.flush()
        s.execute(sa.delete(Shipment).where(Shipment.id.in_(created)))
        s.commit()


@pytest.fixture()
def ref(make_shipment) -> str:
    return make_shipment()


def stored_files() -> set:
    root = settings.files_dir
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def doc_count(db: Session, reference: str) -> int:
    return db.exec(
        select(sa.func.count()).select_from(Document).join(Shipment, Shipment.id == Document.shipment_id)
        .where(Shipment.reference == reference)
    ).one()


# --------------------------------------------------------------------------- upload and download


def test_upload_then_download_gives_identical_bytes(db, alfa, ref):
    data = pdf_bytes()
    row = docs.upload_document(db, alfa, ref, "commercial_invoice", "invoice.pdf", io.BytesIO(data))
    assert (row.version_no, row.status, row.content_type, row.filename) == (
        1, "received", "application/pdf", "invoice.pdf")
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size_bytes == len(data)
    dl = docs.get_document_for_download(db, alfa, row.id)
    assert dl.path.read_bytes() == data
    assert dl.path.is_relative_to(settings.files_dir.resolve())
    key = db.get(Document, row.id).storage_key
    assert key.startswith(f"{alfa.company_id}/") and "invoice" not in key
    kinds = db.exec(select(PortalEvent.kind).where(PortalEvent.detail.like(f"{ref} %"))).all()
    assert PortalEventKind.UPLOAD_STARTED in kinds and PortalEventKind.UPLOAD_COMPLETED in kinds


def test_new_upload_of_same_type_supersedes_the_previous_version(db, alfa, ref):
    first = docs.upload_document(db, alfa, ref, "packing_list", "pl.pdf", pdf_bytes("v1"))
    second = docs.upload_document(db, alfa, ref, "packing_list", "pl.pdf", pdf_bytes("v2"))
    assert second.version_no == 2
    db.expire_all()
    assert db.get(Document, first.id).status == "superseded"
    assert db.get(Document, second.id).status == "received"
    assert docs.get_document_for_download(db, alfa, first.id).path.read_bytes() == pdf_bytes("v1")
    current = docs.list_documents(db, alfa, shipment_reference=ref, status="current")
    assert [r.id for r in current.rows] == [second.id]


def test_oversize_upload_is_refused_and_nothing_is_stored(db, alfa, ref, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "1")
    big = pdf_bytes() + b"%" + b"x" * (1024 * 1024)
    before = stored_files()
    with pytest.raises(ValidationFailed) as err:
        docs.upload_document(db, alfa, ref, "commercial_invoice", "big.pdf", big)
    assert "1 MB" in err.value.message and "Nothing was stored" in err.value.message
    assert doc_count(db, ref) == 0
    assert stored_files() == before
    failed = db.exec(select(PortalEvent).where(PortalEvent.kind == PortalEventKind.UPLOAD_FAILED,
                                               PortalEvent.detail.like(f"{ref} %"))).all()
    assert len(failed) == 1 and "limit" in failed[0].detail


def test_oversize_stream_is_not_read_past_the_limit(db, alfa, ref, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "1")

    class Endless(io.RawIOBase):
        read_total = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buf) -> int:
            Endless.read_total += len(buf)
            buf[:] = b"%" * len(buf)
            return len(buf)

    with pytest.raises(ValidationFailed):
        docs.upload_document(db, alfa, ref, "commercial_invoice", "x.pdf", Endless())
    assert Endless.read_total <= 1024 * 1024 + 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", PE_HEADER),
        ("invoice.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("invoice.csv", b"<html><body onload=alert(1)>a,b</body></html>"),
        ("invoice.txt", b"line one\x00\x01binary"),
        ("invoice.pdf", b"plain words, not a PDF"),
        ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # a real kind under the wrong extension
    ],
)
def test_wrong_content_behind_a_harmless_name_is_refused(db, alfa, ref, name, content):
    before = stored_files()
    with pytest.raises(ValidationFailed) as err:
        docs.upload_document(db, alfa, ref, "commercial_invoice", name, content)
    assert "Nothing was stored" in err.value.message
    assert doc_count(db, ref) == 0 and stored_files() == before


def test_empty_file_is_refused(db, alfa, ref):
    with pytest.raises(ValidationFailed, match="empty"):
        docs.upload_document(db, alfa, ref, "commercial_invoice", "invoice.pdf", b"")
    assert doc_count(db, ref) == 0


def test_unknown_document_type_is_refused(db, alfa, ref):
    with pytest.raises(ValidationFailed, match="Unknown document type"):
        docs.upload_document(db, alfa, ref, "passport_scan", "p.pdf", pdf_bytes())
    assert doc_count(db, ref) == 0


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("packing.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("lines.csv", "sku;qty;Größe\nA-1;3;M\n".encode(), "text/csv"),
        ("notes.txt", b"Please deliver before noon.\r\n", "text/plain"),
    ],
)
def test_office_files_and_plain_text_are_accepted(db, alfa, ref, name, content, content_type):
    row = docs.upload_document(db, alfa, ref, "other", name, content)
    assert (row.content_type, row.filename) == (content_type, name)


def test_path_traversal_name_is_sanitised_and_stored_inside_private_storage(db, alfa, ref):
    row = docs.upload_document(db, alfa, ref, "commercial_invoice", "../../etc/passwd.pdf", pdf_bytes())
    assert row.filename == "passwd.pdf"
    path = docs.get_document_for_download(db, alfa, row.id).path
    assert path.is_relative_to(settings.files_dir.resolve()) and path.name != "passwd.pdf"
    assert not (settings.files_dir.parent.parent / "etc" / "passwd.pdf").exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("invoice\u202efdp.exe.pdf", "invoicefdp.exe.pdf"),  # no right-to-left override tricks
        ("a\x00b\nc.pdf", "abc.pdf"),
        ('quote"s;and<tags>.pdf', "quote_s_and_tags_.pdf"),
        ("..", "document"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_file_names_are_sanitised(raw, clean):
    assert storage.sanitize_filename(raw) == clean


def test_a_name_without_extension_gets_the_detected_one(db, alfa, ref):
    row = docs.upload_document(db, alfa, ref, "commercial_invoice", "scan", pdf_bytes())
    assert row.filename == "scan.pdf"


def test_a_failing_insert_leaves_no_file_and_records_the_failure(db, alfa, ref, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(docs, "_insert_version", broken)
    before = stored_files()
    with pytest.raises(RuntimeError):
        docs.upload_document(db, alfa, ref, "commercial_invoice", "i.pdf", pdf_bytes())
    assert stored_files() == before and doc_count(db, ref) == 0
    assert db.exec(select(PortalEvent).where(PortalEvent.kind == PortalEventKind.UPLOAD_FAILED,
                                             PortalEvent.detail.like(f"{ref} %"))).first() is not None


def test_uploads_to_another_companys_shipment_are_not_found(db, alfa, make_shipment):
    theirs = make_shipment("BETA")
    with pytest.raises(NotFound):
        docs.upload_document(db, alfa, theirs, "commercial_invoice", "i.pdf", pdf_bytes())
    assert doc_count(db, theirs) == 0


# --------------------------------------------------------------------------- reads and tenancy


def test_another_companys_document_is_not_found(db, alfa, beta, make_shipment):
    row = docs.upload_document(db, beta, make_shipment("BETA"), "commercial_invoice", "b.pdf", pdf_bytes())
    with pytest.raises(NotFound):
        docs.get_document_for_download(db, alfa, row.id)
    assert row.id not in {r.id for r in docs.list_documents(db, alfa, page_size=200).rows}


def test_customers_do_not_see_internal_documents(db, alfa, agent, ref):
    internal = docs.upload_document(db, agent, ref, "booking_confirmation", "bc.pdf", pdf_bytes(),
                                    visibility="internal")
    shared = docs.upload_document(db, agent, ref, "bill_of_lading", "bl.pdf", pdf_bytes())
    seen = {r.id for r in docs.list_documents(db, alfa, shipment_reference=ref).rows}
    assert seen == {shared.id}
    with pytest.raises(NotFound):
        docs.get_document_for_download(db, alfa, internal.id)
    assert {r.id for r in docs.list_documents(db, agent, shipment_reference=ref).rows} == {internal.id, shared.id}
    with pytest.raises(ValidationFailed):
        docs.upload_document(db, alfa, ref, "other", "o.pdf", pdf_bytes(), visibility="internal")


def test_list_filters_and_paging(db, alfa, ref):
    for doc_type in ("commercial_invoice", "packing_list", "other"):
        docs.upload_document(db, alfa, ref, doc_type, "d.pdf", pdf_bytes(doc_type))
    first = docs.list_documents(db, alfa, shipment_reference=ref, page=1, page_size=2)
    second = docs.list_documents(db, alfa, shipment_reference=ref, page=2, page_size=2)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (3, 2, 2, 1)
    assert first.rows[0].doc_type == "other"  # newest first
    assert docs.list_documents(db, alfa, shipment_reference=ref, status="approved").total == 0
    with pytest.raises(ValidationFailed):
        docs.list_documents(db, alfa, status="lost")


def test_upload_needs_the_permission(db, alfa, ref):
    readonly = Principal(alfa.user_id, alfa.company_id, "nobody", alfa.email, alfa.full_name, alfa.company_name)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        docs.upload_document(db, readonly, ref, "other", "o.pdf", pdf_bytes())


def test_seed_document_types_are_known_to_the_product():
    from seed.config_data import DOCUMENT_REQUIREMENTS, DOCUMENT_TYPE_NAMES

    assert set(DOCUMENT_TYPE_NAMES) <= set(docs.DOCUMENT_TYPE_NAMES)
    assert {r[2] for r in DOCUMENT_REQUIREMENTS} <= set(docs.DOCUMENT_TYPE_NAMES)


# --------------------------------------------------------------------------- checklist


@pytest.fixture()
def requirements(engine: sa.Engine) -> Iterator[None]:
    rows = [
        DocumentRequirement(mode="ocean_fcl", doc_type="commercial_invoice", due_days_before_departure=5),
        DocumentRequirement(mode="ocean_fcl", doc_type="packing_list", due_days_before_departure=5),
        DocumentRequirement(mode="ocean_fcl", doc_type="shipping_instructions", due_days_before_departure=12),
        DocumentRequirement(mode="ocean_fcl", doc_type="dangerous_goods_declaration", due_days_before_departure=7,
                            dangerous_goods_only=True),
        DocumentRequirement(mode="ocean_fcl", incoterm="CIF", doc_type="insurance_certificate"),
        DocumentRequirement(mode="ocean_fcl", doc_type="bill_of_lading", due_days_before_departure=0,
                            provided_by="forwarder"),
        DocumentRequirement(mode="air", doc_type="air_waybill", provided_by="forwarder"),
    ]
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
        ids = [r.id for r in rows]
    yield
    with Session(engine) as s:
        s.execute(sa.delete(DocumentRequirement).where(DocumentRequirement.id.in_(ids)))
        s.commit()


def _review(db: Session, doc_id: int, status: str, reason: str | None = None) -> None:
    doc = db.get(Document, doc_id)
    doc.status, doc.rejection_reason = status, reason
    db.add(doc)
    db.commit()


def test_checklist_states_due_dates_and_overdue(db, alfa, agent, ref, requirements, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    invoice = docs.upload_document(db, alfa, ref, "commercial_invoice", "i.pdf", pdf_bytes())
    packing = docs.upload_document(db, alfa, ref, "packing_list", "p.pdf", pdf_bytes())
    _review(db, invoice.id, "approved")
    _review(db, packing.id, "rejected", "Gross weight missing")
    items = {i.doc_type: i for i in docs.document_checklist(db, alfa, ref)}
    assert set(items) == {"commercial_invoice", "packing_list", "shipping_instructions"}  # customer's, FOB, not DG
    assert items["commercial_invoice"].state == "approved" and not items["commercial_invoice"].overdue
    assert items["packing_list"].state == "rejected"
    assert items["packing_list"].rejection_reason == "Gross weight missing"
    si = items["shipping_instructions"]
    assert si.state == "missing" and si.due_at == NOW + timedelta(days=10 - 12) and si.overdue
    assert items["commercial_invoice"].due_at == NOW + timedelta(days=5)

    again = docs.upload_document(db, alfa, ref, "packing_list", "p2.pdf", pdf_bytes("fixed"))
    items = {i.doc_type: i for i in docs.document_checklist(db, alfa, ref)}
    assert (items["packing_list"].state, items["packing_list"].version_no) == ("received", again.version_no)

    staff = {i.doc_type for i in docs.document_checklist(db, agent, ref)}
    assert "bill_of_lading" in staff and "air_waybill" not in staff


def test_checklist_dangerous_goods_and_incoterm_rules(db, alfa, make_shipment, requirements):
    dg_cif = make_shipment(incoterm="CIF", dangerous=True)
    types = {i.doc_type for i in docs.document_checklist(db, alfa, dg_cif)}
    assert {"dangerous_goods_declaration", "insurance_certificate"} <= types
    plain = make_shipment(incoterm="FOB", dangerous=False)
    types = {i.doc_type for i in docs.document_checklist(db, alfa, plain)}
    assert "dangerous_goods_declaration" not in types and "insurance_certificate" not in types
    with pytest.raises(NotFound):
        docs.document_checklist(db, alfa, make_shipment("BETA"))


# --------------------------------------------------------------------------- HTTP API


def client_for(email: str) -> TestClient:
    client = TestClient(build_api())
    assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    return client


@pytest.fixture()
def alfa_api(world) -> TestClient:
    return client_for("customer_user@alfa.test")


def test_api_upload_list_and_download(alfa_api, ref):
    data = pdf_bytes("api")
    resp = alfa_api.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "commercial_invoice"},
                         files={"file": ("Invoice 42.pdf", data, "application/octet-stream")})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["content_type"] == "application/pdf"
    listed = alfa_api.get(f"/api/v1/shipments/{ref}/documents").json()
    assert [i["id"] for i in listed["items"]] == [body["id"]] and "checklist" in listed
    everywhere = alfa_api.get("/api/v1/documents", params={"shipment": ref, "status": "received"}).json()
    assert everywhere["total"] == 1
    dl = alfa_api.get(body["download_url"])
    assert dl.status_code == 200 and dl.content == data
    assert dl.headers["content-type"] == "application/pdf"
    assert dl.headers["x-content-type-options"] == "nosniff"
    disposition = dl.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "Invoice" in disposition


def test_api_refusals_use_the_error_shape(alfa_api, ref, monkeypatch, db):
    resp = alfa_api.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "commercial_invoice"},
                         files={"file": ("invoice.pdf", PE_HEADER, "application/pdf")})
    assert resp.status_code == 422
    assert resp.json()["error"]["saved"] is False and "Nothing was stored" in resp.json()["error"]["message"]
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "1")
    resp = alfa_api.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "commercial_invoice"},
                         files={"file": ("big.pdf", pdf_bytes() + b"%" * (2 * 1024 * 1024), "application/pdf")})
    assert resp.status_code == 413 and "1 MB" in resp.json()["error"]["message"]
    resp = alfa_api.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "commercial_invoice"})
    assert resp.status_code == 422
    assert doc_count(db, ref) == 0


def test_api_hides_another_companys_documents(alfa_api, db, beta, make_shipment):
    theirs = make_shipment("BETA")
    row = docs.upload_document(db, beta, theirs, "commercial_invoice", "b.pdf", pdf_bytes())
    assert alfa_api.get(f"/api/v1/documents/{row.id}/download").status_code == 404
    assert alfa_api.get(f"/api/v1/shipments/{theirs}/documents").status_code == 404
    resp = alfa_api.post(f"/api/v1/shipments/{theirs}/documents", data={"doc_type": "other"},
                         files={"file": ("x.pdf", pdf_bytes(), "application/pdf")})
    assert resp.status_code == 404
    assert TestClient(build_api()).get(f"/api/v1/documents/{row.id}/download").status_code == 401


# --------------------------------------------------------------------------- page handlers


class _DocsPage:
    """The shipment-documents mixin's code on a plain object, with the session check fixed to one principal."""

    AREA = "portal"

    def __init__(self, principal: Principal) -> None:
        self._principal_ = principal
        self.doc_reference, self.doc_rows, self.doc_checklist, self.doc_error = "", [], [], ""
        self.upload_doc_type, self.upload_error, self.upload_notice = "commercial_invoice", "", ""
        self.uploading, self.upload_percent = False, 0

    async def _authorize(self, area: str) -> Principal:
        assert area == "portal"
        return self._principal_

    _authorize_upload = _authorize  # the upload gate's record of the request's own session, here fixed

    def _refused(self) -> None:
        return None


def _bind_mixin() -> None:
    from portal_app.components.document_upload import ShipmentDocumentsBase

    for name in ("_load_documents", "upload_document", "choose_upload_type", "upload_progressed",
                 "_offer_upload_handoff"):
        setattr(_DocsPage, name, ShipmentDocumentsBase.__dict__[name])


def test_upload_block_handler_stores_privately_and_reports(alfa, ref):
    import asyncio
    from pathlib import Path

    import reflex as rx

    _bind_mixin()
    st = _DocsPage(alfa)
    asyncio.run(st.choose_upload_type("packing_list"))
    asyncio.run(st.upload_progressed({"progress": 0.5}))
    assert st.uploading and st.upload_percent == 50
    data = pdf_bytes("from the page")
    upload = rx.UploadFile(file=io.BytesIO(data), path=Path("packing list.pdf"))
    asyncio.run(st.upload_document([upload], ref))
    assert st.upload_error == "" and "Saved “packing list.pdf”" in st.upload_notice and not st.uploading
    assert [r.filename for r in st.doc_rows] == ["packing list.pdf"] and st.doc_rows[0].type == "Packing list"
    assert st.doc_rows[0].download == f"/api/v1/documents/{st.doc_rows[0].id}/download"
    public = rx.get_upload_dir()
    assert not public.exists() or not any(p.is_file() for p in public.rglob("*"))

    bad = rx.UploadFile(file=io.BytesIO(PE_HEADER), path=Path("invoice.pdf"))
    asyncio.run(st.upload_document([bad], ref))
    assert "Nothing was stored" in st.upload_error and st.upload_notice == "" and len(st.doc_rows) == 1
    asyncio.run(st.upload_document([], ref))
    assert "Choose one file" in st.upload_error


def test_documents_page_lists_filters_and_pages(alfa, ref, monkeypatch):
    import asyncio

    from portal_app.portal.documents import PortalDocumentsState as S

    async def authorize(self, area):
        return alfa

    monkeypatch.setattr(S, "_authorize", authorize)
    with Session(get_engine()) as db:
        first = docs.upload_document(db, alfa, ref, "packing_list", "a.pdf", pdf_bytes("1"))
        docs.upload_document(db, alfa, ref, "packing_list", "b.pdf", pdf_bytes("2"))
    st = S(_reflex_internal_init=True)
    asyncio.run(S.filter_status.fn(st, "current"))
    ids = [r.id for r in st.rows]
    assert str(first.id) not in ids and st.error == ""
    asyncio.run(S.filter_status.fn(st, "superseded"))
    assert str(first.id) in [r.id for r in st.rows] and all(r.status == "superseded" for r in st.rows)
    asyncio.run(S.filter_status.fn(st, "forged-status"))
    assert st.status == "current"
