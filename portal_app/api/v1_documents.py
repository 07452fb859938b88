"""REST v1: documents (scoped to the caller): lists, the required-documents checklist, upload, download and a
shipment's documents as one ZIP.

Downloads are served only here, after the tenancy check, from private storage; never from a public folder.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from sqlmodel import Session
from starlette.datastructures import UploadFile

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import document_archive as archive_svc
from portal_app.services import documents as svc
from portal_app.services.errors import ErrorCode, ValidationFailed
from portal_app.services.inputs import Id, PageNo, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1", tags=["documents"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
MULTIPART_OVERHEAD = 64 * 1024  # room for the form's boundaries and the doc_type field


class UploadTooLarge(ValidationFailed):
    status_code = 413
    code = ErrorCode.TOO_LARGE


Status = Annotated[str | None,
                   Query(description="received, approved, rejected, superseded, or current (all but superseded)")]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)


@router.get("/documents", response_model=PageOut[svc.DocumentRow])
def list_documents(
    principal: Caller,
    db: Db,
    status: Status = None,
    doc_type: Annotated[str | None, Query(max_length=40)] = None,
    shipment: Annotated[str | None, Query(max_length=20, description="A shipment reference")] = None,
    page: PageNo = 1,
    page_size: PageSize = 25,
    sort: Annotated[str, Query(max_length=20, description=", ".join(svc.LIST_SORTS.keys))] = "-uploaded",
) -> PageOut[svc.DocumentRow]:
    """The caller's documents across shipments, newest first unless ``sort`` says otherwise (``-key``:
    descending)."""
    result = svc.list_documents(
        db, principal, shipment_reference=shipment, status=status, doc_type=doc_type, page=page, page_size=page_size,
        sort=sort,
    )
    return PageOut.of(result)


@router.get("/shipments/{reference}/documents", response_model=svc.ShipmentDocuments, responses={404: {}})
def shipment_documents(
    reference: str, principal: Caller, db: Db, status: Status = None, page: PageNo = 1, page_size: PageSize = 50
) -> svc.ShipmentDocuments:
    """One shipment's documents (every version) and its required-documents checklist."""
    checklist = svc.document_checklist(db, principal, reference)
    result = svc.list_documents(
        db, principal, shipment_reference=reference, status=status, page=page, page_size=page_size
    )
    return svc.ShipmentDocuments.of_page(result, checklist)


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["doc_type", "file"],
                    "properties": {
                        "doc_type": {"type": "string", "enum": list(svc.DOCUMENT_TYPE_NAMES)},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/shipments/{reference}/documents",
    status_code=201,
    response_model=svc.DocumentRow,
    openapi_extra=_UPLOAD_BODY,
    responses={404: {}, 413: {}, 422: {}, 507: {}},
)
async def upload_document(reference: str, request: Request, principal: Caller, db: Db) -> svc.DocumentRow:
    """Upload a new version of a document (multipart: `doc_type`, `file`). The type is checked from the content;
    files over `PORTAL_MAX_UPLOAD_MB` are refused (by their declared length before the body is read)."""
    principal.require(Permission.UPLOAD_DOCUMENTS)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > svc.max_upload_bytes() + MULTIPART_OVERHEAD:
        raise UploadTooLarge(
            f"The upload is larger than the {svc.max_upload_mb()} MB limit. Make the file smaller (for example "
            f"scan at a lower resolution, or split it) and upload it again. {svc.NOTHING_STORED}"
        )
    form = await request.form(max_files=1, max_fields=4)
    try:
        file, doc_type = form.get("file"), form.get("doc_type")
        if not isinstance(file, UploadFile) or not isinstance(doc_type, str):
            raise ValidationFailed(
                "Send a multipart form with the file in the field 'file' and the document type in 'doc_type'. "
                f"{svc.NOTHING_STORED}"
            )
        row = await run_in_threadpool(
            svc.upload_document, db, principal, reference, doc_type, file.filename, file.file
        )
    finally:
        await form.close()
    return row


@router.get(
    "/documents/{document_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {}},
)
def download_document(document_id: Id, principal: Caller, db: Db) -> FileResponse:
    """The stored file, as an attachment with its stored content type."""
    doc = svc.get_document_for_download(db, principal, document_id)
    return FileResponse(
        doc.path,
        media_type=doc.content_type,
        filename=doc.filename,
        content_disposition_type="attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{doc.sha256}"',
        },
    )


@router.get(
    "/shipments/{reference}/documents.zip",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, 404: {}},
)
def download_archive(reference: str, principal: Caller, db: Db) -> StreamingResponse:
    """Every current document of the shipment the caller may read, as one ZIP (customers: those shared with them)."""
    archive = archive_svc.shipment_archive(db, principal, reference)
    return StreamingResponse(
        archive_svc.stream_zip(archive),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{archive.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
