"""Shipment documents: upload (checked, versioned, all-or-nothing), lists, downloads and the required-documents
checklist.

Every query is scoped by :func:`portal_app.auth.scope.company_filter`; customers see only documents with
visibility "customer". Files live in private storage (:mod:`portal_app.services.file_storage`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, BinaryIO

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from models import Document, DocumentRequirement, PortalEvent, Shipment
from models.enums import DocumentStatus, PortalEventKind, Visibility
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.auth.scope import company_filter
from portal_app.services import audit, clock, exception_rules, notifications, webhooks
from portal_app.services import file_storage as storage
from portal_app.services.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    ServiceError,
    StorageUnavailable,
    ValidationFailed,
)
from portal_app.services.paging import Page, PageOut, check_paging
from portal_app.services.shipments import shipment_record
from portal_app.services.sorting import SortKeys

log = logging.getLogger(__name__)

# The document types of the product (the seed's types are a subset; a test keeps them in step).
DOCUMENT_TYPE_NAMES: dict[str, str] = {
    "commercial_invoice": "Commercial invoice",
    "packing_list": "Packing list",
    "shipping_instructions": "Shipping instructions",
    "dangerous_goods_declaration": "Dangerous goods declaration",
    "certificate_of_origin": "Certificate of origin",
    "insurance_certificate": "Insurance certificate",
    "export_declaration": "Export declaration",
    "bill_of_lading": "Bill of lading",
    "air_waybill": "Air waybill",
    "cmr_consignment_note": "CMR consignment note",
    "booking_confirmation": "Carrier booking confirmation",
    "arrival_notice": "Arrival notice",
    "proof_of_delivery": "Proof of delivery",
    "other": "Other document",
}

MAX_UPLOAD_ENV = "PORTAL_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 25
MAX_PAGE_SIZE = 200
CURRENT = "current"  # list filter: every status except superseded
# The document list's orders (``-key`` descending); the default "-uploaded" is the newest first.
LIST_SORTS = SortKeys({"shipment": col(Shipment.reference), "type": col(Document.doc_type),
                       "file": col(Document.filename), "status": col(Document.status),
                       "uploaded": col(Document.created_at)}, col(Document.id))
NOTHING_STORED = "Nothing was stored."
ATTACHMENT_TYPE = "request_attachment"  # a file attached to a request message, under no shipment


def max_upload_mb() -> int:
    """The upload size limit in MB from ``PORTAL_MAX_UPLOAD_MB`` (read on every call; bad values use the default)."""
    raw = (os.environ.get(MAX_UPLOAD_ENV) or "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        value = DEFAULT_MAX_UPLOAD_MB
    return value if value > 0 else DEFAULT_MAX_UPLOAD_MB


def max_upload_bytes() -> int:
    return max_upload_mb() * 1024 * 1024


def doc_type_name(doc_type: str) -> str:
    return DOCUMENT_TYPE_NAMES.get(doc_type, doc_type.replace("_", " ").capitalize())


DOWNLOAD_URL = "/api/v1/documents/{id}/download"  # the one place a document's file is served (after tenancy)


@dataclass(frozen=True)
class DocumentRow:
    """One version of a document as lists show it (the API serves this record as it is, without row_version)."""

    id: int
    shipment_reference: str
    doc_type: str
    doc_type_name: str
    version_no: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: str
    rejection_reason: str | None
    visibility: str
    uploaded_at: datetime
    download_url: str
    # the review lock (``Document.version``), distinct from the upload's ``version_no``; not published
    row_version: Annotated[int, Field(exclude=True)] = 1


@dataclass(frozen=True)
class Download:
    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    path: Path


@dataclass(frozen=True)
class ChecklistItem:
    doc_type: str
    doc_type_name: str
    provided_by: str  # customer | forwarder
    state: str  # missing | received | approved | rejected
    document_id: int | None
    version_no: int | None
    rejection_reason: str | None
    due_at: datetime | None
    overdue: bool


class ShipmentDocuments(PageOut[DocumentRow]):
    """One page of a shipment's documents with its required-documents checklist."""

    checklist: list[ChecklistItem]

    @classmethod
    def of_page(cls, page: Page[DocumentRow], checklist: list[ChecklistItem]) -> ShipmentDocuments:
        return cls(**dict(PageOut.of(page)), checklist=checklist)


# --------------------------------------------------------------------------- helpers


def _visible(principal: Principal) -> sa.ColumnElement[bool]:
    """Customers see only documents shared with them; staff see internal ones too."""
    return sa.true() if principal.is_staff else col(Document.visibility) == Visibility.CUSTOMER.value


def _shipment(db: Session, principal: Principal, reference: str) -> Shipment:
    return shipment_record(db, principal, reference)


def _row(doc: Document, reference: str) -> DocumentRow:
    assert doc.id is not None  # a stored row
    return DocumentRow(
        id=doc.id,
        shipment_reference=reference,
        doc_type=doc.doc_type,
        doc_type_name=doc_type_name(doc.doc_type),
        version_no=doc.version_no,
        filename=doc.filename,
        content_type=doc.content_type,
        size_bytes=doc.size_bytes,
        sha256=doc.sha256,
        status=doc.status,
        rejection_reason=doc.rejection_reason,
        visibility=doc.visibility,
        uploaded_at=doc.created_at,
        download_url=DOWNLOAD_URL.format(id=doc.id),
        row_version=doc.version,
    )


def row_of(doc: Document, reference: str) -> DocumentRow:
    """A document version as lists and the API show it (the webhooks send it: services/webhooks.py)."""
    return _row(doc, reference)


def _record(db: Session, principal: Principal, kind: PortalEventKind, detail: str) -> None:
    db.add(PortalEvent(kind=kind.value, user_id=principal.user_id, company_id=principal.company_id,
                       detail=detail[:500]))


# --------------------------------------------------------------------------- upload


def _check_doc_type(doc_type: str) -> str:
    value = (doc_type or "").strip()
    if value not in DOCUMENT_TYPE_NAMES:
        raise ValidationFailed(
            f"Unknown document type {value!r}. Choose one of: {', '.join(DOCUMENT_TYPE_NAMES)}. {NOTHING_STORED}"
        )
    return value


def _check_visibility(principal: Principal, visibility: str) -> str:
    if visibility not in Visibility._value2member_map_ or (principal.is_customer and visibility != Visibility.CUSTOMER):
        raise ValidationFailed(f"Visibility {visibility!r} is not available to you; use 'customer'. {NOTHING_STORED}")
    return visibility


def _insert_version(
    db: Session,
    principal: Principal,
    shipment: Shipment,
    doc_type: str,
    *,
    filename: str,
    kind: storage.FileKind,
    staged: storage.StagedFile,
    visibility: str,
) -> Document:
    """Insert the next version of (shipment, type) and mark earlier versions superseded (still downloadable)."""
    latest = db.exec(
        select(sa.func.max(Document.version_no)).where(Document.shipment_id == shipment.id,
                                                       Document.doc_type == doc_type)
    ).one()
    version_no = int(latest or 0) + 1
    assert staged.key is not None  # committed by the caller
    db.execute(
        sa.update(Document)
        .where(
            col(Document.shipment_id) == shipment.id,
            col(Document.doc_type) == doc_type,
            col(Document.status) != DocumentStatus.SUPERSEDED.value,
        )
        .values(status=DocumentStatus.SUPERSEDED.value, version=Document.version + 1)
    )
    doc = Document(
        company_id=shipment.company_id,
        shipment_id=shipment.id,
        doc_type=doc_type,
        version_no=version_no,
        filename=filename,
        content_type=kind.content_type,
        size_bytes=staged.size,
        sha256=staged.sha256,
        storage_key=staged.key,
        visibility=visibility,
        status=DocumentStatus.RECEIVED.value,
        uploaded_by_id=principal.user_id,
    )
    db.add(doc)
    db.flush()
    return doc


@contextmanager
def _checked_file(filename: str, data: bytes | BinaryIO) -> Iterator[tuple[storage.StagedFile, storage.FileKind, str]]:
    """Stage ``data`` and identify it from its bytes: (staged file, kind, clean name), or ValidationFailed saying
    what is wrong with it. Nothing is kept unless the caller commits the staged file inside the block."""
    name = storage.sanitize_filename(filename)
    try:
        with storage.staged(data, max_bytes=max_upload_bytes()) as staged:
            if staged.size == 0:
                raise ValidationFailed(
                    f"The file “{name}” is empty (0 bytes). Check that you picked the right file and upload it "
                    f"again. {NOTHING_STORED}"
                )
            kind, name = storage.identify(staged, name)
            yield staged, kind, name
    except storage.FileTooLarge:
        raise ValidationFailed(
            f"The file “{name}” is larger than the {max_upload_mb()} MB limit. Make it smaller (for example scan "
            f"at a lower resolution, or split it into parts) and upload it again. {NOTHING_STORED}"
        ) from None
    except storage.RefusedFile as exc:
        raise ValidationFailed(f"{exc} {NOTHING_STORED}") from None
    except storage.StorageFailure as exc:
        raise storage_refusal(name, exc) from None


def storage_refusal(name: str, exc: storage.StorageFailure) -> StorageUnavailable:
    """The refusal of a file the files directory could not take (full or not writable), logged for operators."""
    log.error("An upload of %r was refused: %s", name, exc)
    if exc.full:
        return StorageUnavailable(
            f"The document storage is full, so “{name}” was not saved. {NOTHING_STORED} Try again later; if it "
            "keeps happening, tell your forwarder that the portal's document storage has no space left.")
    return StorageUnavailable(
        f"The document storage cannot be written to right now, so “{name}” was not saved. {NOTHING_STORED} Try "
        "again later; if it keeps happening, tell your forwarder.", code=ErrorCode.STORAGE_UNWRITABLE)


def _store(
    db: Session,
    principal: Principal,
    shipment: Shipment,
    doc_type: str,
    filename: str,
    data: bytes | BinaryIO,
    visibility: str,
    written: list[str],
) -> Document:
    """Check and store the file, insert the row. Keys of files written go to ``written`` for the rollback."""
    with _checked_file(filename, data) as (staged, kind, name):
        written.append(storage.commit(staged, shipment.company_id))
        return _insert_version(
            db, principal, shipment, doc_type, filename=name, kind=kind, staged=staged, visibility=visibility
        )


def store_attachment(db: Session, principal: Principal, company_id: int, filename: str, data: bytes | BinaryIO, *,
                     visibility: str, written: list[str]) -> Document:
    """A request message's attachment: the same checks and private storage as a shipment document, under no
    shipment (so it is not a version of any shipment document). The caller commits, or removes ``written``."""
    with _checked_file(filename, data) as (staged, kind, name):
        written.append(storage.commit(staged, company_id))
        assert staged.key is not None  # committed just now
        doc = Document(company_id=company_id, shipment_id=None, doc_type=ATTACHMENT_TYPE, filename=name,
                       content_type=kind.content_type, size_bytes=staged.size, sha256=staged.sha256,
                       storage_key=staged.key, visibility=visibility, status=DocumentStatus.RECEIVED.value,
                       uploaded_by_id=principal.user_id)
        db.add(doc)
        db.flush()
        return doc


def remove_files(keys: list[str]) -> None:
    """Delete files stored by a change that was rolled back. A file that cannot be removed is logged (the files
    audit lists it as a file without a row) and never hides the error that caused the rollback."""
    for key in keys:
        try:
            storage.delete(key)
        except OSError:
            log.exception("Could not remove the file %s of a rolled-back upload", key)


def upload_document(
    db: Session,
    principal: Principal,
    shipment_reference: str,
    doc_type: str,
    filename: str | None,
    data: bytes | BinaryIO,
    *,
    visibility: str = Visibility.CUSTOMER.value,
) -> DocumentRow:
    """Store a new version of a shipment document: all or nothing (a failure leaves no row and no file).

    The type is checked from the file's bytes; the name is only a label. Reads at most the size limit plus one
    byte of ``data``.
    """
    principal.require(Permission.UPLOAD_DOCUMENTS)
    shipment = _shipment(db, principal, shipment_reference)
    label = f"{shipment.reference} {(doc_type or '')[:40]}"
    _record(db, principal, PortalEventKind.UPLOAD_STARTED, label)
    db.commit()
    written: list[str] = []
    try:
        doc = _store(
            db, principal, shipment, _check_doc_type(doc_type), filename or "", data,
            _check_visibility(principal, visibility), written,
        )
        _record(db, principal, PortalEventKind.UPLOAD_COMPLETED, f"{label} v{doc.version_no}")
        if doc.visibility == Visibility.CUSTOMER.value:
            name = f"{doc_type_name(doc.doc_type)} v{doc.version_no}"
            notifications.notify(db, "document_added", [], f"{name} added to {shipment.reference}",
                                 f"{name} ({doc.filename}) was added by {principal.full_name}.",
                                 f"/portal/shipments/{shipment.reference}", f"document_added:{doc.id}",
                                 shipment_id=shipment.id, company_id=shipment.company_id, skip=principal.user_id)
        webhooks.record(db, "document_added", company_id=shipment.company_id, record_id=doc.id,
                        internal=doc.visibility != Visibility.CUSTOMER.value)
        db.commit()
    except Exception as exc:
        db.rollback()
        remove_files(written)
        _record_failure(db, principal, label, exc)
        if isinstance(exc, sa.exc.IntegrityError):
            raise Conflict(
                "Another version of this document was saved at the same moment, so this upload was not. Reload "
                f"the documents and upload it again if it is still needed. {NOTHING_STORED}"
            ) from None
        raise
    # A received document may clear a missing-document exception.
    exception_rules.evaluate_quietly(db, shipment.id)
    return _row(doc, shipment.reference)


def _record_failure(db: Session, principal: Principal, label: str, exc: Exception) -> None:
    """The failed upload's event, in its own commit after the rollback (it must outlive the discarded document)."""
    reason = exc.message if isinstance(exc, ServiceError) else type(exc).__name__
    try:
        _record(db, principal, PortalEventKind.UPLOAD_FAILED, f"{label}: {reason}")
        db.commit()
    except sa.exc.SQLAlchemyError:
        db.rollback()
        log.exception("could not record a failed upload")


# --------------------------------------------------------------------------- reads


def list_documents(
    db: Session,
    principal: Principal,
    *,
    shipment_reference: str | None = None,
    status: str | None = None,
    doc_type: str | None = None,
    page: int = 1,
    page_size: int = 25,
    sort: str = "-uploaded",
) -> Page:
    """One page of the documents the principal may see, newest first unless ``sort`` (``LIST_SORTS``) says
    otherwise. ``status`` may be "current" (not superseded)."""
    principal.require(Permission.VIEW_SHIPMENTS)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    clauses = [company_filter(col(Document.company_id), principal), _visible(principal)]
    if shipment_reference:
        clauses.append(col(Document.shipment_id) == _shipment(db, principal, shipment_reference).id)
    if status and status != "all":
        if status == CURRENT:
            clauses.append(col(Document.status) != DocumentStatus.SUPERSEDED.value)
        elif status in DocumentStatus._value2member_map_:
            clauses.append(col(Document.status) == status)
        else:
            allowed = ", ".join([CURRENT, *(s.value for s in DocumentStatus)])
            raise ValidationFailed(f"Unknown document status {status!r}. Use one of: {allowed}.")
    if doc_type:
        clauses.append(col(Document.doc_type) == _check_doc_type(doc_type))
    order = LIST_SORTS.order(sort)
    total = db.exec(select(sa.func.count()).select_from(Document).where(*clauses)).one()
    found = db.exec(
        select(Document, Shipment.reference)
        .join(Shipment, col(Shipment.id) == col(Document.shipment_id))
        .where(*clauses)
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(rows=[_row(d, ref) for d, ref in found], total=int(total), page=page, page_size=page_size)


def get_document_for_download(db: Session, principal: Principal, document_id: int) -> Download:
    """A document's file, if the principal may read it. Another company's or an internal one (for customers) is
    NotFound, exactly like a missing one."""
    principal.require(Permission.VIEW_SHIPMENTS)
    doc = db.exec(
        select(Document).where(
            col(Document.id) == int(document_id), company_filter(col(Document.company_id), principal),
            _visible(principal),
        )
    ).first()
    missing = NotFound(f"No document {document_id} was found in your account. Check the link and try again.")
    if doc is None:
        raise missing
    try:
        path = storage.path_for(doc.storage_key)
    except storage.UnsafeStorageKey:
        raise missing from None
    if not path.is_file():
        raise NotFound(
            f"The file of document {document_id} is not in storage. Ask your forwarder to upload it again; "
            "nothing was changed."
        )
    assert doc.id is not None  # a stored row
    audit.record(db, principal, "document_downloaded", "document", doc.id, doc.company_id, None,
                 {"filename": doc.filename})
    db.commit()
    return Download(doc.id, doc.filename, doc.content_type, doc.size_bytes, doc.sha256, path)


def _requirements(db: Session, principal: Principal, shipment: Shipment) -> dict[str, DocumentRequirement]:
    """The active requirements that apply to this shipment, one per document type (earliest due wins)."""
    rows = db.exec(
        select(DocumentRequirement).where(
            DocumentRequirement.mode == shipment.mode,
            col(DocumentRequirement.is_active).is_(True),
            sa.or_(col(DocumentRequirement.incoterm).is_(None), col(DocumentRequirement.incoterm) == shipment.incoterm),
        )
    ).all()
    out: dict[str, DocumentRequirement] = {}
    for req in sorted(rows, key=lambda r: (-r.due_days_before_departure, r.id)):
        if req.dangerous_goods_only and not shipment.is_dangerous_goods:
            continue
        if principal.is_customer and req.provided_by != "customer":
            continue
        out.setdefault(req.doc_type, req)
    return out


def document_checklist(db: Session, principal: Principal, shipment_reference: str) -> list[ChecklistItem]:
    """The documents this shipment needs and where each stands (from its latest version the principal may see)."""
    principal.require(Permission.VIEW_SHIPMENTS)
    shipment = _shipment(db, principal, shipment_reference)
    required = _requirements(db, principal, shipment)
    latest: dict[str, Document] = {}
    for version in db.exec(
        select(Document)
        .where(Document.shipment_id == shipment.id, col(Document.doc_type).in_(list(required)), _visible(principal))
        .order_by(col(Document.version_no).desc())
    ).all():
        latest.setdefault(version.doc_type, version)
    departure = shipment.etd_planned or shipment.etd_estimated
    now = clock.now()
    items = []
    for doc_type, req in required.items():
        doc = latest.get(doc_type)
        state = "missing" if doc is None else doc.status
        if state == DocumentStatus.SUPERSEDED.value:
            state = DocumentStatus.RECEIVED.value
        due = departure - timedelta(days=req.due_days_before_departure) if departure else None
        items.append(
            ChecklistItem(
                doc_type=doc_type,
                doc_type_name=doc_type_name(doc_type),
                provided_by=req.provided_by,
                state=state,
                document_id=doc.id if doc else None,
                version_no=doc.version_no if doc else None,
                rejection_reason=doc.rejection_reason if doc and state == "rejected" else None,
                due_at=due,
                overdue=bool(due and now > due and state in ("missing", "rejected")),
            )
        )
    items.sort(key=lambda i: (i.due_at is None, i.due_at or now, i.doc_type_name))
    return items
