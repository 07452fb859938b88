"""REST v1: signed webhooks of the caller's company (customer admins) or of the installation (staff administrators).

The rules are in ``services/webhooks.py`` (subscriptions) and ``services/webhook_outbox.py`` (sending); a
subscription the caller does not manage is 404. See docs/webhooks.md for the payload and how to verify signatures.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import webhooks as svc
from portal_app.services.inputs import Id, PageNo, rows_per_page
from portal_app.services.paging import PageOut

router = APIRouter(prefix="/api/v1/account/webhooks", tags=["account"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(svc.MAX_PAGE_SIZE)
_ERRORS = {
    401: {"description": "Not signed in, or the key sent is unknown, revoked or expired"},
    403: {"description": "Only administrators manage webhooks (`forbidden`); a read key cannot change anything "
                         "(`api_key_read_only`)"},
    422: {"description": "Invalid input (`invalid_url`, `unknown_event_kind`, `invalid_input`); nothing saved"},
}
_ONE = {**_ERRORS, 404: {"description": "No such subscription among those you manage"}}


@router.get("", response_model=PageOut[svc.WebhookRow], responses=_ERRORS)
def list_webhooks(principal: Caller, db: Db, page: PageNo = 1, page_size: PageSize = 50) -> PageOut[svc.WebhookRow]:
    """The subscriptions you manage, newest first (never their secrets)."""
    return PageOut.of(svc.list_subscriptions(db, principal, page, page_size))


@router.post("", status_code=201, response_model=svc.CreatedWebhook,
             responses={**_ERRORS, 409: {"description": "Too many subscriptions (`too_many_webhooks`), or no key "
                                                        "to keep secrets encrypted (`secret_key_missing`)"}})
def create_webhook(body: svc.NewWebhook, principal: Caller, db: Db) -> svc.CreatedWebhook:
    """Subscribe a URL to event kinds (`["*"]` for all). `secret` signs every delivery and is in this answer only:
    store it now, it cannot be shown again."""
    return svc.create_subscription(db, principal, body)


@router.delete("/{webhook_id}", status_code=204, response_class=Response, responses=_ONE)
def delete_webhook(webhook_id: Id, principal: Caller, db: Db) -> Response:
    """Remove a subscription and its delivery log; nothing more is sent to it."""
    svc.delete_subscription(db, principal, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=PageOut[svc.DeliveryRow], responses=_ONE)
def list_webhook_deliveries(webhook_id: Id, principal: Caller, db: Db, page: PageNo = 1,
                            page_size: PageSize = 50) -> PageOut[svc.DeliveryRow]:
    """The subscription's delivery log, newest first: status, attempts, the receiver's last answer."""
    return PageOut.of(svc.list_deliveries(db, principal, webhook_id, page, page_size))


@router.post("/{webhook_id}/test", status_code=202, response_model=svc.DeliveryRow, responses=_ONE)
def test_webhook(webhook_id: Id, principal: Caller, db: Db) -> svc.DeliveryRow:
    """Queue a test delivery (kind `webhook_test`); it is sent within seconds and appears in the delivery log."""
    return svc.send_test(db, principal, webhook_id)


@router.post("/{webhook_id}/resume", response_model=svc.WebhookRow, responses=_ONE)
def resume_webhook(webhook_id: Id, principal: Caller, db: Db) -> svc.WebhookRow:
    """Send to a paused subscription again; the deliveries queued while it was paused go out first."""
    return svc.resume_subscription(db, principal, webhook_id)
