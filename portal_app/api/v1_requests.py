"""REST v1: requests (tickets). Customers raise, read, reply, reopen, rate and follow their company's requests;
staff with the request desk's permission also work the queue (status, triage, merge, exception link, internal
notes). Another company's request answers 404, exactly like a missing one; internal notes never appear in a
customer's answer. Replies with attachments are multipart forms (fields `body`, `files`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError
from sqlmodel import Session
from starlette.datastructures import UploadFile

from portal_app.api.deps import current_principal, get_db
from portal_app.api.v1_config import admin
from portal_app.api.v1_documents import MULTIPART_OVERHEAD, UploadTooLarge
from portal_app.auth.principal import Principal
from portal_app.services import documents as document_files
from portal_app.services import requests as svc
from portal_app.services.errors import ValidationFailed
from portal_app.services.inputs import Body, Id, PageNo, Version, bounded, rows_per_page
from portal_app.services.paging import BarePage
from portal_app.services.requests.context import MAX_CONTEXT_CHARS
from portal_app.services.requests.opening import MAX_ATTACHMENTS, MAX_BODY_CHARS

router = APIRouter(prefix="/api/v1", tags=["requests"])

Caller = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(admin)]  # configuration: refused before the body is read
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.reading.MAX_PAGE_SIZE)
Score = bounded(1, 5)
WithinHours = bounded(1, 720)
_ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


class NewRequest(Body):
    category: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=MAX_BODY_CHARS)
    priority: str = Field("normal", max_length=20)
    shipment_reference: str | None = Field(None, max_length=40)
    invoice_number: str | None = Field(None, max_length=40)
    document_id: Id | None = None
    context: dict[str, Any] | None = Field(
        None, description=f"Page, record, what was attempted, any draft: at most {MAX_CONTEXT_CHARS:,} characters "
                          "as JSON (a larger one is refused with `context_too_large`; nothing is cut)")


class MessageIn(Body):
    body: str = Field(max_length=MAX_BODY_CHARS)
    internal: bool = Field(False, description="Staff only: an internal note customers never see")
    status: str | None = Field(None, max_length=40,
                               description="Staff only: the status after a reply (default waiting_on_customer)")
    expected_version: Version | None = None


class StatusIn(Body):
    status: str = Field(max_length=40)
    note: str | None = Field(None, max_length=MAX_BODY_CHARS,
                             description="Sent to the customer as a reply with the change")
    expected_version: Version | None = None


class TriageIn(Body):
    category: str = Field(max_length=40)
    priority: str = Field(max_length=20)
    team_id: Id | None = None
    assignee_id: Id | None = None
    expected_version: Version | None = None


class MergeIn(Body):
    into: str = Field(max_length=40, description="Reference of the request that continues")
    expected_version: Version | None = None


class ExceptionLinkIn(Body):
    exception_id: Id | None
    expected_version: Version | None = None


class ReopenIn(Body):
    reason: str = Field(max_length=MAX_BODY_CHARS)
    expected_version: Version | None = None


class RatingIn(Body):
    score: Score
    comment: str | None = Field(None, max_length=MAX_BODY_CHARS)


class CannedIn(Body):
    title: str = Field(max_length=120)
    body: str = Field(max_length=5000)
    category: str | None = Field(None, max_length=40)


# A column order (``-key``: descending); without one, each list keeps its own order.
RequestSort = Annotated[str | None, Query(max_length=20, description=", ".join(svc.LIST_SORTS.keys))]


@router.get("/requests", response_model=BarePage[svc.RequestRow], responses=_ERRORS)
def list_requests(principal: Caller, db: Db, status: str = "active", category: str | None = None,
                  priority: str | None = None, team_id: Id | None = None, assignee_id: Id | None = None,
                  unassigned: bool = False, breached: bool = False,
                  breaching_within_hours: WithinHours | None = None,
                  company_id: Id | None = None, q: str | None = None,
                  page: PageNo = 1, page_size: PageSize = 25,
                  sort: RequestSort = None) -> BarePage[svc.RequestRow]:
    """Customers: their company's requests, latest activity first. Staff: the queue, nearest SLA first. ``sort``
    orders either by one column instead (``-key``: descending). The staff-only filters (team, assignee,
    unassigned, breached, breaching within N hours, company) are ignored for customers."""
    filters = svc.RequestFilters(status=status, category=category, priority=priority, team_id=team_id,
                                 assignee_id=assignee_id, unassigned=unassigned, breached=breached,
                                 breaching_within_hours=breaching_within_hours, company_id=company_id, search=q)
    return BarePage.of(svc.list_requests(db, principal, filters, page=page, page_size=page_size, sort=sort))


@router.post("/requests", status_code=201, response_model=svc.RequestDetail, responses=_ERRORS)
def create_request(body: NewRequest, principal: Caller, db: Db) -> svc.RequestDetail:
    """Raise a request (customers), optionally tied to a shipment, invoice or document of your company."""
    ticket = svc.open_request(db, principal, category=body.category, subject=body.subject, body=body.body,
                              priority=body.priority, shipment_reference=body.shipment_reference,
                              invoice_number=body.invoice_number, document_id=body.document_id,
                              context={**(body.context or {}), "source": "api"})
    return svc.get_request(db, principal, ticket.reference)


@router.get("/requests/{reference}", response_model=svc.RequestDetail, responses=_ERRORS)
def get_request(reference: str, principal: Caller, db: Db) -> svc.RequestDetail:
    """One request with its thread (customers never see internal notes)."""
    return svc.get_request(db, principal, reference)


async def _message_form(request: Request) -> tuple[MessageIn, list[tuple[str, bytes]]]:
    declared = request.headers.get("content-length", "")
    limit = document_files.max_upload_bytes() * MAX_ATTACHMENTS + MULTIPART_OVERHEAD
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(f"The message and its files are larger than {MAX_ATTACHMENTS} files of "
                             f"{document_files.max_upload_mb()} MB. Send fewer or smaller files. Nothing was sent.")
    form = await request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=8)
    try:
        files = [(f.filename or "", await f.read(document_files.max_upload_bytes() + 1))
                 for f in form.getlist("files") if isinstance(f, UploadFile)]
        fields = {name: value for name in MessageIn.model_fields
                  if isinstance(value := form.get(name), str) and value.strip()}
    finally:
        await form.close()
    return _message(fields, strict=False), files  # a form's values are all text: "true", "3"


def _message(fields: object, *, strict: bool = True) -> MessageIn:
    """The reply's fields checked like any request body (a bad one is a 422 saying which field)."""
    try:
        return MessageIn.model_validate(fields, strict=strict)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


_MESSAGE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": MessageIn.model_json_schema()},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["body"],
        "properties": {**MessageIn.model_json_schema()["properties"],
                       "files": {"type": "array", "maxItems": MAX_ATTACHMENTS,
                                 "items": {"type": "string", "format": "binary"}}}}},
}}}


@router.post("/requests/{reference}/messages", status_code=201, response_model=svc.RequestDetail,
             responses={**_ERRORS, 413: {}, 507: {}}, openapi_extra=_MESSAGE_BODY)
async def post_message(reference: str, request: Request, principal: Caller, db: Db) -> svc.RequestDetail:
    """Reply (customers and staff) or add an internal note (staff, `internal: true`). JSON, or a multipart form
    with `body` and up to five `files` checked like documents. All or nothing."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        message, files = await _message_form(request)
    else:
        try:
            fields = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ValidationFailed("Send JSON with at least a 'body'. Nothing was sent.") from None
        message, files = _message(fields), []
    await run_in_threadpool(svc.post_message, db, principal, reference, message.body, internal=message.internal,
                            attachments=files, status=message.status, expected_version=message.expected_version)
    return await run_in_threadpool(svc.get_request, db, principal, reference)


@router.post("/requests/{reference}/status", response_model=svc.RequestDetail, responses=_ERRORS)
def set_status(reference: str, body: StatusIn, principal: Caller, db: Db) -> svc.RequestDetail:
    """Staff: move the request to a status (resolving notifies the customer)."""
    svc.set_status(db, principal, reference, body.status, note=body.note, expected_version=body.expected_version)
    return svc.get_request(db, principal, reference)


@router.post("/requests/{reference}/triage", response_model=svc.RequestDetail, responses=_ERRORS)
def triage(reference: str, body: TriageIn, principal: Caller, db: Db) -> svc.RequestDetail:
    """Staff: category, priority, team and assignee (a new category or priority recomputes the SLA)."""
    svc.triage(db, principal, reference, category=body.category, priority=body.priority, team_id=body.team_id,
               assignee_id=body.assignee_id, expected_version=body.expected_version)
    return svc.get_request(db, principal, reference)


@router.post("/requests/{reference}/merge", response_model=svc.RequestDetail, responses=_ERRORS)
def merge(reference: str, body: MergeIn, principal: Caller, db: Db) -> svc.RequestDetail:
    """Staff: merge this duplicate into another request of the same customer."""
    svc.merge(db, principal, reference, body.into, expected_version=body.expected_version)
    return svc.get_request(db, principal, reference)


@router.post("/requests/{reference}/exception", response_model=svc.RequestDetail, responses=_ERRORS)
def link_exception(reference: str, body: ExceptionLinkIn, principal: Caller, db: Db) -> svc.RequestDetail:
    """Staff: link an exception of the request's shipment (null unlinks)."""
    svc.link_exception(db, principal, reference, body.exception_id, expected_version=body.expected_version)
    return svc.get_request(db, principal, reference)


@router.post("/requests/{reference}/reopen", response_model=svc.RequestDetail, responses=_ERRORS)
def reopen(reference: str, body: ReopenIn, principal: Caller, db: Db) -> svc.RequestDetail:
    """Reopen a resolved or closed request within the reopen window, saying why."""
    svc.reopen(db, principal, reference, body.reason, expected_version=body.expected_version)
    return svc.get_request(db, principal, reference)


@router.post("/requests/{reference}/rating", response_model=svc.RequestDetail, responses=_ERRORS)
def rate(reference: str, body: RatingIn, principal: Caller, db: Db) -> svc.RequestDetail:
    """Customers: rate a resolved request 1-5 (this closes it)."""
    svc.rate(db, principal, reference, body.score, body.comment)
    return svc.get_request(db, principal, reference)


@router.put("/requests/{reference}/follow", status_code=204, responses=_ERRORS)
def follow(reference: str, principal: Caller, db: Db) -> Response:
    """Follow a request of your company to hear about its replies."""
    svc.set_following(db, principal, reference, True)
    return Response(status_code=204)


@router.delete("/requests/{reference}/follow", status_code=204, responses=_ERRORS)
def unfollow(reference: str, principal: Caller, db: Db) -> Response:
    svc.set_following(db, principal, reference, False)
    return Response(status_code=204)


@router.get("/canned-replies", response_model=list[svc.CannedView], responses=_ERRORS)
def canned_replies(principal: Caller, db: Db, category: str | None = None) -> list[svc.CannedView]:
    """Staff: canned replies, those for `category` first."""
    return svc.list_canned(db, principal, category)


@router.post("/config/canned-replies", status_code=201, response_model=svc.CannedView, responses=_ERRORS)
def create_canned(body: CannedIn, principal: Admin, db: Db) -> svc.CannedView:
    """Administrators: add a canned reply."""
    return svc.save_canned(db, principal, title=body.title, body=body.body, category=body.category)


@router.put("/config/canned-replies/{canned_id}", response_model=svc.CannedView, responses=_ERRORS)
def update_canned(canned_id: Id, body: CannedIn, principal: Admin, db: Db) -> svc.CannedView:
    return svc.save_canned(db, principal, title=body.title, body=body.body, category=body.category,
                           canned_id=canned_id)


@router.get("/config/request-desk", response_model=svc.DeskSettings, responses=_ERRORS)
def get_desk(principal: Admin, db: Db) -> svc.DeskSettings:
    """Administrators: which team each category goes to, and the reopen window in days."""
    return svc.desk_settings(db)


@router.put("/config/request-desk", response_model=svc.DeskSettings, responses=_ERRORS)
def put_desk(body: svc.DeskSettings, principal: Admin, db: Db) -> svc.DeskSettings:
    """Administrators: route categories to teams and set the reopen window (1-90 days)."""
    return svc.save_desk_settings(db, principal, routing=dict(body.routing), reopen_days=body.reopen_days)
