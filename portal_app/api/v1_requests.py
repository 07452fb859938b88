"""REST v1: requests (tickets). Customers raise, read, reply, reopen, rate and follow their company's requests;
staff with the request desk's permission also work the queue (status, triage, merge, exception link, internal
notes). Another company's request answers 404, exactly like a missing one; internal notes never appear in a
customer's answer. Replies with attachments are multipart forms (fields `body`, `files`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session
from starlette.datastructures import UploadFile

from portal_app.api.deps import current_principal, get_db
from portal_app.api.v1_config import admin
from portal_app.api.v1_documents import MULTIPART_OVERHEAD, UploadTooLarge
from portal_app.auth.principal import Principal
from portal_app.services import documents as document_files
from portal_app.services import requests as svc
from portal_app.services.errors import ValidationFailed
from portal_app.services.exceptions import SlaTimer
from portal_app.services.inputs import Body, Id, PageNo, Version, WholeNumber, bounded, rows_per_page
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


class TimerOut(BaseModel):
    due_at: datetime | None
    seconds_left: int | None
    breached: bool
    label: str


class RequestOut(BaseModel):
    reference: str
    subject: str
    category: str
    priority: str
    status: str
    status_label: str
    company_name: str
    raised_by: str
    assignee_name: str | None
    team_name: str | None
    shipment_reference: str | None
    invoice_number: str | None
    created_at: datetime
    updated_at: datetime
    first_response: TimerOut
    resolution: TimerOut
    version: int


class RequestPage(BaseModel):
    items: list[RequestOut]
    total: int
    page: int
    page_size: int


class AttachmentOut(BaseModel):
    document_id: int
    filename: str
    size_bytes: int
    download_url: str


class MessageOut(BaseModel):
    id: int
    author: str
    author_is_staff: bool
    internal: bool
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class RequestDetailOut(RequestOut):
    messages: list[MessageOut]
    context: dict
    assignee_id: int | None
    team_id: int | None
    exception_id: int | None
    merged_into: str | None
    merged_from: list[str]
    satisfaction: int | None
    satisfaction_comment: str | None
    following: bool
    can_reopen: bool
    can_rate: bool
    reopen_until: datetime | None


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


class CannedOut(BaseModel):
    id: int
    title: str
    body: str
    category: str | None


class CannedIn(Body):
    title: str = Field(max_length=120)
    body: str = Field(max_length=5000)
    category: str | None = Field(None, max_length=40)


class DeskSettingsOut(Body):
    routing: dict[str, Id] = Field(description="Request category -> the id of the team it goes to")
    reopen_days: WholeNumber


def _timer(t: SlaTimer) -> TimerOut:
    return TimerOut(due_at=t.due_at, seconds_left=t.seconds_left, breached=t.breached, label=t.label)


def _row(r: svc.RequestRow) -> dict:
    return dict(reference=r.reference, subject=r.subject, category=r.category, priority=r.priority,
                status=r.status, status_label=r.status_label, company_name=r.company_name, raised_by=r.raised_by,
                assignee_name=r.assignee_name, team_name=r.team_name, shipment_reference=r.shipment_reference,
                invoice_number=r.invoice_number, created_at=r.created_at, updated_at=r.updated_at,
                first_response=_timer(r.first_response), resolution=_timer(r.resolution), version=r.version)


def _detail(d: svc.RequestDetail) -> RequestDetailOut:
    messages = [MessageOut(id=m.id, author=m.author, author_is_staff=m.author_is_staff, internal=m.internal,
                           body=m.body, created_at=m.created_at,
                           attachments=[AttachmentOut(document_id=a.document_id, filename=a.filename,
                                                      size_bytes=a.size_bytes,
                                                      download_url=f"/api/v1/documents/{a.document_id}/download")
                                        for a in m.attachments])
                for m in d.messages]
    return RequestDetailOut(**_row(d.row), messages=messages, context=d.context, assignee_id=d.assignee_id,
                            team_id=d.team_id, exception_id=d.exception_id, merged_into=d.merged_into,
                            merged_from=d.merged_from, satisfaction=d.satisfaction,
                            satisfaction_comment=d.satisfaction_comment, following=d.following,
                            can_reopen=d.can_reopen, can_rate=d.can_rate, reopen_until=d.reopen_until)


@router.get("/requests", response_model=RequestPage, responses=_ERRORS)
def list_requests(principal: Caller, db: Db, status: str = "active", category: str | None = None,
                  priority: str | None = None, team_id: Id | None = None, assignee_id: Id | None = None,
                  unassigned: bool = False, breached: bool = False,
                  breaching_within_hours: WithinHours | None = None,
                  company_id: Id | None = None, q: str | None = None,
                  page: PageNo = 1, page_size: PageSize = 25) -> RequestPage:
    """Customers: their company's requests, latest activity first. Staff: the queue, nearest SLA first; the
    staff-only filters (team, assignee, unassigned, breached, breaching within N hours, company) are ignored for
    customers."""
    filters = svc.RequestFilters(status=status, category=category, priority=priority, team_id=team_id,
                                 assignee_id=assignee_id, unassigned=unassigned, breached=breached,
                                 breaching_within_hours=breaching_within_hours, company_id=company_id, search=q)
    result = svc.list_requests(db, principal, filters, page=page, page_size=page_size)
    return RequestPage(items=[RequestOut(**_row(r)) for r in result.rows], total=result.total, page=result.page,
                       page_size=result.page_size)


@router.post("/requests", status_code=201, response_model=RequestDetailOut, responses=_ERRORS)
def create_request(body: NewRequest, principal: Caller, db: Db) -> RequestDetailOut:
    """Raise a request (customers), optionally tied to a shipment, invoice or document of your company."""
    ticket = svc.open_request(db, principal, category=body.category, subject=body.subject, body=body.body,
                              priority=body.priority, shipment_reference=body.shipment_reference,
                              invoice_number=body.invoice_number, document_id=body.document_id,
                              context={**(body.context or {}), "source": "api"})
    return _detail(svc.get_request(db, principal, ticket.reference))


@router.get("/requests/{reference}", response_model=RequestDetailOut, responses=_ERRORS)
def get_request(reference: str, principal: Caller, db: Db) -> RequestDetailOut:
    """One request with its thread (customers never see internal notes)."""
    return _detail(svc.get_request(db, principal, reference))


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


@router.post("/requests/{reference}/messages", status_code=201, response_model=RequestDetailOut,
             responses={**_ERRORS, 413: {}}, openapi_extra=_MESSAGE_BODY)
async def post_message(reference: str, request: Request, principal: Caller, db: Db) -> RequestDetailOut:
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
    return _detail(await run_in_threadpool(svc.get_request, db, principal, reference))


@router.post("/requests/{reference}/status", response_model=RequestDetailOut, responses=_ERRORS)
def set_status(reference: str, body: StatusIn, principal: Caller, db: Db) -> RequestDetailOut:
    """Staff: move the request to a status (resolving notifies the customer)."""
    svc.set_status(db, principal, reference, body.status, note=body.note, expected_version=body.expected_version)
    return _detail(svc.get_request(db, principal, reference))


@router.post("/requests/{reference}/triage", response_model=RequestDetailOut, responses=_ERRORS)
def triage(reference: str, body: TriageIn, principal: Caller, db: Db) -> RequestDetailOut:
    """Staff: category, priority, team and assignee (a new category or priority recomputes the SLA)."""
    svc.triage(db, principal, reference, category=body.category, priority=body.priority, team_id=body.team_id,
               assignee_id=body.assignee_id, expected_version=body.expected_version)
    return _detail(svc.get_request(db, principal, reference))


@router.post("/requests/{reference}/merge", response_model=RequestDetailOut, responses=_ERRORS)
def merge(reference: str, body: MergeIn, principal: Caller, db: Db) -> RequestDetailOut:
    """Staff: merge this duplicate into another request of the same customer."""
    svc.merge(db, principal, reference, body.into, expected_version=body.expected_version)
    return _detail(svc.get_request(db, principal, reference))


@router.post("/requests/{reference}/exception", response_model=RequestDetailOut, responses=_ERRORS)
def link_exception(reference: str, body: ExceptionLinkIn, principal: Caller, db: Db) -> RequestDetailOut:
    """Staff: link an exception of the request's shipment (null unlinks)."""
    svc.link_exception(db, principal, reference, body.exception_id, expected_version=body.expected_version)
    return _detail(svc.get_request(db, principal, reference))


@router.post("/requests/{reference}/reopen", response_model=RequestDetailOut, responses=_ERRORS)
def reopen(reference: str, body: ReopenIn, principal: Caller, db: Db) -> RequestDetailOut:
    """Reopen a resolved or closed request within the reopen window, saying why."""
    svc.reopen(db, principal, reference, body.reason, expected_version=body.expected_version)
    return _detail(svc.get_request(db, principal, reference))


@router.post("/requests/{reference}/rating", response_model=RequestDetailOut, responses=_ERRORS)
def rate(reference: str, body: RatingIn, principal: Caller, db: Db) -> RequestDetailOut:
    """Customers: rate a resolved request 1-5 (this closes it)."""
    svc.rate(db, principal, reference, body.score, body.comment)
    return _detail(svc.get_request(db, principal, reference))


@router.put("/requests/{reference}/follow", status_code=204, responses=_ERRORS)
def follow(reference: str, principal: Caller, db: Db) -> Response:
    """Follow a request of your company to hear about its replies."""
    svc.set_following(db, principal, reference, True)
    return Response(status_code=204)


@router.delete("/requests/{reference}/follow", status_code=204, responses=_ERRORS)
def unfollow(reference: str, principal: Caller, db: Db) -> Response:
    svc.set_following(db, principal, reference, False)
    return Response(status_code=204)


@router.get("/canned-replies", response_model=list[CannedOut], responses=_ERRORS)
def canned_replies(principal: Caller, db: Db, category: str | None = None) -> list[CannedOut]:
    """Staff: canned replies, those for `category` first."""
    return [CannedOut(**vars(c)) for c in svc.list_canned(db, principal, category)]


@router.post("/config/canned-replies", status_code=201, response_model=CannedOut, responses=_ERRORS)
def create_canned(body: CannedIn, principal: Admin, db: Db) -> CannedOut:
    """Administrators: add a canned reply."""
    return CannedOut(**vars(svc.save_canned(db, principal, title=body.title, body=body.body,
                                            category=body.category)))


@router.put("/config/canned-replies/{canned_id}", response_model=CannedOut, responses=_ERRORS)
def update_canned(canned_id: Id, body: CannedIn, principal: Admin, db: Db) -> CannedOut:
    return CannedOut(**vars(svc.save_canned(db, principal, title=body.title, body=body.body,
                                            category=body.category, canned_id=canned_id)))


@router.get("/config/request-desk", response_model=DeskSettingsOut, responses=_ERRORS)
def get_desk(principal: Admin, db: Db) -> DeskSettingsOut:
    """Administrators: which team each category goes to, and the reopen window in days."""
    s = svc.desk_settings(db)
    return DeskSettingsOut(routing=s.routing, reopen_days=s.reopen_days)


@router.put("/config/request-desk", response_model=DeskSettingsOut, responses=_ERRORS)
def put_desk(body: DeskSettingsOut, principal: Admin, db: Db) -> DeskSettingsOut:
    """Administrators: route categories to teams and set the reopen window (1-90 days)."""
    s = svc.save_desk_settings(db, principal, routing=dict(body.routing), reopen_days=body.reopen_days)
    return DeskSettingsOut(routing=s.routing, reopen_days=s.reopen_days)
