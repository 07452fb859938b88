"""REST v1: the caller's own account (profile, notification preferences) and, for customer admins, colleagues.

Nothing here takes a company: it comes from the session or API key. A colleague's id only names the row; another
company's user, a staff user and a missing one are all 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import client_ip, current_principal, enrolling_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import accounts as svc
from portal_app.services import mfa
from portal_app.services import notification_prefs as prefs
from portal_app.services.inputs import Body, Id, Version

router = APIRouter(prefix="/api/v1/account", tags=["account"])

Caller = Annotated[Principal, Depends(current_principal)]
Enrolling = Annotated[Principal, Depends(enrolling_principal)]  # also who must set up two-factor sign-in first
Db = Annotated[Session, Depends(get_db)]
_ERRORS = {401: {"description": "Not signed in"}, 422: {"description": "Invalid input; nothing saved"}}
_ADMIN_ERRORS = {**_ERRORS, 403: {"description": "Only customer admins manage colleagues"}}


class ProfilePatch(Body):
    """Only the fields sent change. ``version`` (from GET) refuses the save if the profile changed since."""

    full_name: str | None = Field(default=None, max_length=400)
    phone: str | None = Field(default=None, max_length=80, description="Empty string clears it")
    timezone: str | None = Field(default=None, max_length=64, description="IANA name, e.g. Europe/Amsterdam")
    locale: str | None = Field(default=None, max_length=10, description=f"One of {', '.join(svc.LOCALES)}")
    version: Version | None = None


ShipmentNews = Literal["all", "followed"]
_SHIPMENTS = ("Which shipments you hear about: all (every shipment of your company, the default) or followed (only "
              "those you follow). Staff: always followed.")


class PreferencesBody(Body):
    """Kinds and channels left out keep their current values; so does ``shipments`` when left out."""

    items: list[prefs.PreferenceChoice] = Field(max_length=len(prefs.EVENT_KINDS) * len(prefs.CHANNELS) * 2)
    shipments: ShipmentNews | None = Field(default=None, description=_SHIPMENTS)


class PreferencesOut(BaseModel):
    items: list[prefs.PreferenceView]
    shipments: ShipmentNews = Field(description=_SHIPMENTS)


class CompanyUsersOut(BaseModel):
    items: list[svc.CompanyUser]


class NewCompanyUserBody(Body):
    email: str = Field(max_length=254)
    full_name: str = Field(max_length=400)
    role: str = Field(default="customer_user", max_length=20, description="customer_user or customer_admin")


class CompanyUserPatch(Body):
    role: str | None = Field(default=None, max_length=20, description="customer_user or customer_admin")
    active: bool | None = None


def _prefs_out(db: Session, principal: Principal, items: list[prefs.Preference]) -> PreferencesOut:
    return PreferencesOut(items=[prefs.PreferenceView.of(p) for p in items],
                          shipments=prefs.shipment_news(db, principal))


@router.get("/profile", response_model=svc.Profile, responses=_ERRORS)
def get_profile(principal: Caller, db: Db) -> svc.Profile:
    return svc.get_profile(db, principal)


@router.patch("/profile", response_model=svc.Profile, responses={**_ERRORS, 409: {"description": "Changed since"}})
def patch_profile(body: ProfilePatch, principal: Caller, db: Db) -> svc.Profile:
    current = svc.get_profile(db, principal)

    def pick(value: str | None, fallback: str | None) -> str | None:
        return fallback if value is None else value

    return svc.update_profile(
        db,
        principal,
        full_name=pick(body.full_name, current.full_name),
        phone=pick(body.phone, current.phone),
        timezone=pick(body.timezone, current.timezone),
        locale=pick(body.locale, current.locale),
        expected_version=body.version,
    )


@router.get("/notification-preferences", response_model=PreferencesOut, responses=_ERRORS)
def get_notification_preferences(principal: Caller, db: Db) -> PreferencesOut:
    return _prefs_out(db, principal, prefs.get_preferences(db, principal))


@router.put("/notification-preferences", response_model=PreferencesOut, responses=_ERRORS)
def put_notification_preferences(body: PreferencesBody, principal: Caller, db: Db) -> PreferencesOut:
    saved = prefs.save_preferences(db, principal, [i.model_dump() for i in body.items], shipments=body.shipments)
    return _prefs_out(db, principal, saved)


@router.get("/users", response_model=CompanyUsersOut, responses=_ADMIN_ERRORS)
def list_users(principal: Caller, db: Db) -> CompanyUsersOut:
    return CompanyUsersOut(items=svc.list_company_users(db, principal))


@router.post(
    "/users", status_code=201, response_model=svc.NewCompanyUser,
    responses={**_ADMIN_ERRORS, 409: {"description": "Email already in use"}},
)
def create_user(body: NewCompanyUserBody, principal: Caller, db: Db) -> svc.NewCompanyUser:
    return svc.create_company_user(db, principal, body.email, body.full_name, body.role)


@router.patch("/users/{user_id}", response_model=svc.CompanyUser,
               responses={**_ADMIN_ERRORS, 404: {"description": "No such colleague"}})
def patch_user(user_id: Id, body: CompanyUserPatch, principal: Caller, db: Db) -> svc.CompanyUser:
    return svc.update_company_user(db, principal, user_id, role=body.role, active=body.active)


# --- two-factor sign-in (docs/identity.md) -----------------------------------------------------------------------

_MFA_ERRORS = {**_ERRORS, 409: {"description": "Already on (`mfa_already_enabled`), not started "
                                               "(`mfa_not_started`) or not on (`mfa_not_enabled`)"}}


@router.get("/mfa", response_model=mfa.MfaStatus, responses=_ERRORS)
def get_mfa(principal: Enrolling, db: Db) -> mfa.MfaStatus:
    """Your two-factor sign-in: on or not, recovery codes left, and whether your company requires it."""
    return mfa.status(db, principal)


@router.post("/mfa/totp", response_model=mfa.TotpEnrolment, responses=_MFA_ERRORS)
def start_totp(principal: Enrolling, db: Db) -> mfa.TotpEnrolment:
    """A new authenticator secret (and its QR code), shown once; confirm it with `POST /mfa/totp/confirm`."""
    return mfa.start_enrolment(db, principal)


@router.post("/mfa/totp/confirm", response_model=mfa.RecoveryCodes, responses=_MFA_ERRORS)
def confirm_totp(body: mfa.TotpConfirm, principal: Enrolling, db: Db) -> mfa.RecoveryCodes:
    """Switch two-factor sign-in on with the app's first code; answers ten recovery codes, shown only now."""
    return mfa.confirm_enrolment(db, principal, body.code)


@router.delete("/mfa", response_model=mfa.MfaStatus,
               responses={**_MFA_ERRORS, 429: {"description": "Paused after failed attempts"}})
def delete_mfa(body: mfa.MfaOff, request: Request, principal: Caller, db: Db) -> mfa.MfaStatus:
    """Turn two-factor sign-in off with a current code (or recovery code) or your password."""
    return mfa.disable(db, principal, code=body.code, password=body.password, ip=client_ip(request))


@router.post("/mfa/recovery-codes", response_model=mfa.RecoveryCodes,
             responses={**_MFA_ERRORS, 429: {"description": "Paused after failed attempts"}})
def regenerate_recovery_codes(body: mfa.MfaProof, request: Request, principal: Caller, db: Db) -> mfa.RecoveryCodes:
    """Ten new recovery codes, shown only now, proven with a current code (or recovery code) or your password;
    every earlier recovery code stops working. A wrong proof counts as a failed sign-in."""
    return mfa.regenerate_recovery_codes(db, principal, code=body.code, password=body.password,
                                         ip=client_ip(request))


@router.get("/mfa/policy", response_model=mfa.MfaPolicy, responses=_ERRORS)
def get_mfa_policy(principal: Caller, db: Db) -> mfa.MfaPolicy:
    """Whether your company requires two-factor sign-in of everyone."""
    return mfa.policy(db, principal)


@router.put("/mfa/policy", response_model=mfa.MfaPolicy,
            responses={**_MFA_ERRORS, 403: {"description": "Only admins set the policy"}})
def put_mfa_policy(body: mfa.MfaPolicyBody, principal: Caller, db: Db) -> mfa.MfaPolicy:
    """Require two-factor sign-in for your whole company (a customer admin) or all staff (an administrator)."""
    return mfa.set_policy(db, principal, body.required)


@router.delete("/users/{user_id}/mfa", response_model=mfa.MfaReset,
               responses={**_ADMIN_ERRORS, 404: {"description": "No such colleague"}})
def reset_user_mfa(user_id: Id, principal: Caller, db: Db) -> mfa.MfaReset:
    """Remove a colleague's second factor (a lost phone). They are signed out and told by email; audited."""
    return mfa.reset(db, principal, user_id)
