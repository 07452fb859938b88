"""REST v1: the caller's own account (profile, notification preferences) and, for customer admins, colleagues.

Nothing here takes a company: it comes from the session or API key. A colleague's id only names the row; another
company's user, a staff user and a missing one are all 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import accounts as svc
from portal_app.services import notification_prefs as prefs
from portal_app.services.inputs import Body, Id, Version, WholeNumber

router = APIRouter(prefix="/api/v1/account", tags=["account"])

Caller = Annotated[Principal, Depends(current_principal)]
Db = Annotated[Session, Depends(get_db)]
_ERRORS = {401: {"description": "Not signed in"}, 422: {"description": "Invalid input; nothing saved"}}
_ADMIN_ERRORS = {**_ERRORS, 403: {"description": "Only customer admins manage colleagues"}}


class ProfileOut(BaseModel):
    email: str
    full_name: str
    phone: str | None
    timezone: str
    locale: str
    role: str
    role_label: str
    company_name: str
    version: int


class ProfilePatch(Body):
    """Only the fields sent change. ``version`` (from GET) refuses the save if the profile changed since."""

    full_name: str | None = Field(default=None, max_length=400)
    phone: str | None = Field(default=None, max_length=80, description="Empty string clears it")
    timezone: str | None = Field(default=None, max_length=64, description="IANA name, e.g. Europe/Amsterdam")
    locale: str | None = Field(default=None, max_length=10, description=f"One of {', '.join(svc.LOCALES)}")
    version: Version | None = None


class PreferenceItem(Body):
    event_kind: str = Field(max_length=30, description=f"One of {', '.join(prefs.EVENT_KINDS)}")
    channel: str = Field(max_length=10, description=f"One of {', '.join(prefs.CHANNELS)}")
    enabled: bool
    threshold_hours: WholeNumber | None = Field(
        default=None,
        description=f"Only for eta_changed: notify when the ETA moves by more than this many hours "
        f"({prefs.MIN_THRESHOLD_HOURS}-{prefs.MAX_THRESHOLD_HOURS}, default {prefs.DEFAULT_ETA_THRESHOLD_HOURS})",
    )
    digest: bool | None = Field(
        default=None,
        description="Email only: collect this kind into one email a day instead of sending it at once "
        "(left out: unchanged)",
    )


class PreferenceOut(PreferenceItem):
    label: str


class PreferencesBody(Body):
    """Kinds and channels left out keep their current values."""

    items: list[PreferenceItem] = Field(max_length=len(prefs.EVENT_KINDS) * len(prefs.CHANNELS) * 2)


class PreferencesOut(BaseModel):
    items: list[PreferenceOut]


class CompanyUserOut(BaseModel):
    id: int
    full_name: str
    email: str
    role: str
    is_active: bool
    last_login_at: datetime | None
    is_you: bool


class CompanyUsersOut(BaseModel):
    items: list[CompanyUserOut]


class NewCompanyUserBody(Body):
    email: str = Field(max_length=254)
    full_name: str = Field(max_length=400)
    role: str = Field(default="customer_user", max_length=20, description="customer_user or customer_admin")


class NewCompanyUserOut(BaseModel):
    user: CompanyUserOut
    temporary_password: str = Field(
        description="Shown only in this response. Share it securely; they should change it at first sign-in."
    )


class CompanyUserPatch(Body):
    role: str | None = Field(default=None, max_length=20, description="customer_user or customer_admin")
    active: bool | None = None


def _profile_out(p: svc.Profile) -> ProfileOut:
    return ProfileOut(**p.__dict__)


def _prefs_out(items: list[prefs.Preference]) -> PreferencesOut:
    return PreferencesOut(items=[PreferenceOut(**p.__dict__, label=prefs.KIND_LABELS[p.event_kind]) for p in items])


@router.get("/profile", response_model=ProfileOut, responses=_ERRORS)
def get_profile(principal: Caller, db: Db) -> ProfileOut:
    return _profile_out(svc.get_profile(db, principal))


@router.patch("/profile", response_model=ProfileOut, responses={**_ERRORS, 409: {"description": "Changed since"}})
def patch_profile(body: ProfilePatch, principal: Caller, db: Db) -> ProfileOut:
    current = svc.get_profile(db, principal)

    def pick(value: str | None, fallback: str | None) -> str | None:
        return fallback if value is None else value

    return _profile_out(
        svc.update_profile(
            db,
            principal,
            full_name=pick(body.full_name, current.full_name),
            phone=pick(body.phone, current.phone),
            timezone=pick(body.timezone, current.timezone),
            locale=pick(body.locale, current.locale),
            expected_version=body.version,
        )
    )


@router.get("/notification-preferences", response_model=PreferencesOut, responses=_ERRORS)
def get_notification_preferences(principal: Caller, db: Db) -> PreferencesOut:
    return _prefs_out(prefs.get_preferences(db, principal))


@router.put("/notification-preferences", response_model=PreferencesOut, responses=_ERRORS)
def put_notification_preferences(body: PreferencesBody, principal: Caller, db: Db) -> PreferencesOut:
    return _prefs_out(prefs.save_preferences(db, principal, [i.model_dump() for i in body.items]))


@router.get("/users", response_model=CompanyUsersOut, responses=_ADMIN_ERRORS)
def list_users(principal: Caller, db: Db) -> CompanyUsersOut:
    return CompanyUsersOut(items=[CompanyUserOut(**u.__dict__) for u in svc.list_company_users(db, principal)])


@router.post(
    "/users", status_code=201, response_model=NewCompanyUserOut,
    responses={**_ADMIN_ERRORS, 409: {"description": "Email already in use"}},
)
def create_user(body: NewCompanyUserBody, principal: Caller, db: Db) -> NewCompanyUserOut:
    created = svc.create_company_user(db, principal, body.email, body.full_name, body.role)
    return NewCompanyUserOut(user=CompanyUserOut(**created.user.__dict__), temporary_password=created.temporary_password)


@router.patch("/users/{user_id}", response_model=CompanyUserOut, responses={**_ADMIN_ERRORS, 404: {"description": "No such colleague"}})
def patch_user(user_id: Id, body: CompanyUserPatch, principal: Caller, db: Db) -> CompanyUserOut:
    return CompanyUserOut(**svc.update_company_user(db, principal, user_id, role=body.role, active=body.active).__dict__)
