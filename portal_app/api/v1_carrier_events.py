"""REST v1 for carrier events in (DCSA Track & Trace), docs/integrations.md.

- ``/api/v1/integrations/dcsa/connections``: staff administrators, signed in (403 for everyone else and for API
  keys); the shared secret is written, never read back.
- ``POST /api/v1/integrations/dcsa/v2/callback``: a carrier's DCSA 2.2 callback, a JSON array of events, proven by
  ``Subscription-ID`` and ``Notification-Signature: sha256=<hex>`` (HMAC-SHA256 of the raw body with the
  connection's secret). 204 once read; 401 and nothing stored when the signature or subscription is wrong.
  ``HEAD`` answers 204 (carriers check the address before subscribing).
- ``POST /api/v1/integrations/dcsa/v3/events``: DCSA 3.0, ``{"events": [...]}`` with the connection's integration
  key (``Authorization: Bearer ck_...``); 200 with ``feedbackElements`` for the refused events.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import bearer_token, current_principal, get_db
from portal_app.api.v1_config import Admin, Db
from portal_app.auth.principal import Principal
from portal_app.services.carrier_events import connections, intake, queue
from portal_app.services.errors import ErrorCode, ValidationFailed
from portal_app.services.inputs import Body, Id

router = APIRouter(prefix="/api/v1/integrations/dcsa", tags=["integrations"])
Errors: dict[int | str, dict] = {403: {}, 404: {}, 422: {}, 503: {"description": "`sso_key_missing`"}}
CarrierErrors: dict[int | str, dict] = {401: {"description": "`subscription_unknown`, `signature_invalid`"},
                                        413: {}, 422: {"description": "`invalid_events`"},
                                        503: {"description": "`schema_unavailable`"}}


@router.post("/connections", status_code=201, responses=Errors)
def create_connection(body: connections.NewConnection, principal: Admin, db: Db) -> dict:
    """Connect a carrier: answers the ``subscription_id`` and ``callback_url`` to give the carrier for DCSA 2.2,
    and the integration key (``api_key``, shown only here) and ``events_url`` for DCSA 3.0."""
    return asdict(connections.create_connection(db, principal, body))


@router.get("/connections", responses=Errors)
def list_connections(principal: Admin, db: Db) -> list[dict]:
    """Every active connection with its counts of events kept and refused; never the secret."""
    return [asdict(row) for row in connections.list_connections(db, principal)]


@router.delete("/connections/{connection_id}", status_code=204, response_class=Response, responses=Errors)
def delete_connection(connection_id: Id, principal: Admin, db: Db) -> Response:
    """Stop the connection: its subscription id, secret and key no longer work; the events it sent stay."""
    connections.delete_connection(db, principal, connection_id)
    return Response(status_code=204)


@router.get("/connections/{connection_id}/refusals", responses=Errors)
def connection_refusals(connection_id: Id, principal: Admin, db: Db) -> list[dict]:
    """The connection's log: the latest 100 events it sent that were refused, with the reason."""
    return [{"id": r.id, "event_id": r.event_id, "reason": r.reason, "received_at": r.received_at.isoformat(),
             "excerpt": r.excerpt} for r in connections.refusal_log(db, principal, connection_id)]


# ------------------------------------------------------------------------------------------------ from carriers


def _events_of(body: bytes, what: str) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed(f"The body is not JSON. Send {what}. Nothing was stored.",
                               code=ErrorCode.INVALID_EVENTS) from None


def _take_v2(db: Session, subscription_id: str | None, signature: str | None, body: bytes) -> None:
    connection = connections.signed_connection(db, subscription_id, signature, body)
    what = "a JSON array of DCSA 2.2 events"
    try:
        events = _events_of(body, what)
    except ValidationFailed as exc:
        intake.refuse_batch(db, connection, exc.message, body)
        raise
    if not isinstance(events, list):
        message = f"The body is not {what}. Nothing was stored."
        intake.refuse_batch(db, connection, message, body)
        raise ValidationFailed(message, code=ErrorCode.INVALID_EVENTS)
    intake.receive(db, connection, events, "2.2")


@router.post("/v2/callback", status_code=204, response_class=Response, responses=CarrierErrors)
async def dcsa_v2_callback(
    request: Request, db: Annotated[Session, Depends(get_db)],
    subscription_id: Annotated[str | None, Header(alias="Subscription-ID")] = None,
    notification_signature: Annotated[str | None, Header(alias="Notification-Signature")] = None,
) -> Response:
    """A carrier's DCSA 2.2 callback: each valid event is kept once (by ``eventID``) and applied to the shipments
    it names; each invalid one is logged with its reason on the connection. 204 when read."""
    body = await request.body()
    await run_in_threadpool(_take_v2, db, subscription_id, notification_signature, body)
    return Response(status_code=204)


@router.head("/v2/callback", status_code=204, response_class=Response)
def dcsa_v2_callback_check() -> Response:
    """The callback address exists (carriers check it when the subscription is made)."""
    return Response(status_code=204)


class FeedbackElement(BaseModel):
    severity: str
    message: str
    propertyPath: str | None = None


class PostEventsResponse(BaseModel):
    feedbackElements: list[FeedbackElement] = Field(default_factory=list)


def _take_v3(db: Session, key: str | None, body: bytes) -> PostEventsResponse:
    connection = connections.keyed_connection(db, key)
    what = 'a JSON object {"events": [...]} of DCSA 3.0 events'
    try:
        document = _events_of(body, what)
    except ValidationFailed as exc:
        intake.refuse_batch(db, connection, exc.message, body)
        raise
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        message = f"The body is not {what}. Nothing was stored."
        intake.refuse_batch(db, connection, message, body)
        raise ValidationFailed(message, code=ErrorCode.INVALID_EVENTS)
    events = document["events"]
    result = intake.receive(db, connection, events, "3.0")
    feedback = []  # the refused events are named by eventID; the order of feedback is not the request's
    for refused in result.refused:
        feedback.append(FeedbackElement(severity="ERROR", message=refused.reason,
                                        propertyPath=f"$.events[?(@.eventID=='{refused.event_id}')]"
                                        if refused.event_id else None))
    return PostEventsResponse(feedbackElements=feedback)


@router.post("/v3/events", response_model=PostEventsResponse, responses=CarrierErrors)
async def dcsa_v3_events(request: Request, db: Annotated[Session, Depends(get_db)]) -> PostEventsResponse:
    """A carrier's DCSA 3.0 events (``{"events": [...]}``) with the connection's integration key as
    ``Authorization: Bearer ck_...``. 200 with a feedback element (severity ERROR) for each refused event."""
    body = await request.body()
    return await run_in_threadpool(_take_v3, db, bearer_token(request), body)


# ------------------------------------------------------------------------------------------------ the queue

Staff = Annotated[Principal, Depends(current_principal)]  # the service checks the tower permission


class MatchIn(Body):
    shipment_reference: str = Field(max_length=20, description="The shipment this event belongs to, e.g. SH0000123")
    remember_container: bool = Field(True, description="Send later events of this container to the same shipment")


@router.get("/unmatched", responses=Errors)
def unmatched_events(principal: Staff, db: Db) -> list[dict]:
    """Carrier events that matched no shipment, newest first (the latest 200)."""
    return [asdict(row) for row in queue.unmatched(db, principal)]


@router.post("/unmatched/{event_id}/match", responses={**Errors, 409: {}})
def match_event(event_id: Id, body: MatchIn, principal: Staff, db: Db) -> dict:
    """Staff say which shipment an unmatched event belongs to: it is applied to it, and (by default) later events
    of the same container go there too."""
    return asdict(queue.match(db, principal, event_id, body.shipment_reference,
                              remember_container=body.remember_container))
