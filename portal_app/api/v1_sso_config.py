"""REST v1 for single sign-on set-up: a customer company's identity provider and the staff's. Administrators
signed in as themselves only (403 for everyone else and for API keys); the client secret is written, never read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from portal_app.api.v1_config import Admin, Db
from portal_app.services.config import sso
from portal_app.services.inputs import Id

router = APIRouter(prefix="/api/v1/config", tags=["configuration"])
Errors: dict[int | str, dict] = {403: {}, 404: {}, 409: {}, 422: {}, 503: {"description": "`sso_key_missing`"}}


@router.get("/companies/{company_id}/sso", response_model=sso.SsoSettings, responses=Errors)
def get_company_sso(company_id: Id, principal: Admin, db: Db) -> sso.SsoSettings:
    """The company's identity provider (404 when none is connected); ``client_secret_set`` instead of the secret."""
    return sso.get_company_sso(db, principal, company_id)


@router.put("/companies/{company_id}/sso", response_model=sso.SsoSettings, responses=Errors)
def save_company_sso(company_id: Id, body: sso.SsoSettingsIn, principal: Admin, db: Db) -> sso.SsoSettings:
    """Connect or change the company's identity provider (issuer checked, secret stored encrypted)."""
    return sso.save_company_sso(db, principal, company_id, body)


@router.delete("/companies/{company_id}/sso", status_code=204, response_class=Response, responses=Errors)
def delete_company_sso(company_id: Id, principal: Admin, db: Db) -> Response:
    """Disconnect it: the company's people sign in with passwords again."""
    sso.delete_company_sso(db, principal, company_id)
    return Response(status_code=204)


@router.get("/staff-sso", response_model=sso.SsoSettings, responses=Errors)
def get_staff_sso(principal: Admin, db: Db) -> sso.SsoSettings:
    """The forwarder's staff identity provider (404 when none is connected)."""
    return sso.get_staff_sso(db, principal)


@router.put("/staff-sso", response_model=sso.SsoSettings, responses=Errors)
def save_staff_sso(body: sso.SsoSettingsIn, principal: Admin, db: Db) -> sso.SsoSettings:
    """Connect or change the staff's identity provider (people it creates get an ops role)."""
    return sso.save_staff_sso(db, principal, body)


@router.delete("/staff-sso", status_code=204, response_class=Response, responses=Errors)
def delete_staff_sso(principal: Admin, db: Db) -> Response:
    sso.delete_staff_sso(db, principal)
    return Response(status_code=204)
