"""REST v1 for configuration without code: milestone templates, required documents, exception rules, SLA
policies, branches, teams, customer companies, staff accounts, branding and the legal identity and bank details
printed on invoices. Administrators only, signed in (a
session, not an API key): everyone else gets 403 on every route here. Every change is audited with before/after."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db
from portal_app.auth.principal import Principal
from portal_app.services import mfa
from portal_app.services.config import branding, documents, invoice_identity, org, rules, sla, templates
from portal_app.services.config.common import require_admin
from portal_app.services.errors import ErrorCode, NotFound, ServiceError
from portal_app.services.inputs import Body, Id, Version, WholeNumber

router = APIRouter(prefix="/api/v1/config", tags=["configuration"])
public = APIRouter(tags=["configuration"])


def admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    require_admin(principal)
    return principal


Admin = Annotated[Principal, Depends(admin)]
Db = Annotated[Session, Depends(get_db)]
Errors = {403: {}, 404: {}, 409: {}, 422: {}}


class LogoTooLarge(ServiceError):
    status_code = 413
    code = ErrorCode.LOGO_TOO_LARGE


# ------------------------------------------------------------------------------------------------ templates


class TemplateIn(Body):
    name: str = Field(max_length=120)
    steps: list[templates.StepInput] = Field(max_length=templates.MAX_STEPS, description="In order")
    expected_version: Version | None = Field(None, description="The version you saw (409 if it changed since)")


@router.get("/templates", responses=Errors)
def list_templates(principal: Admin, db: Db) -> list[dict]:
    """The active milestone template of every transport mode."""
    return [asdict(t) for t in templates.list_templates(db, principal)]


@router.put("/templates/{mode}", responses=Errors)
def save_template(mode: str, body: TemplateIn, principal: Admin, db: Db) -> dict:
    """Replace a mode's template (a new version); bookings made from now on use it."""
    return asdict(templates.save_template(db, principal, mode, body.name, body.steps,
                                          expected_version=body.expected_version))


# ------------------------------------------------------------------------------------------------ documents


class RequirementIn(Body):
    mode: str
    incoterm: str | None = Field(None, description="Incoterm 2020 code; null for every Incoterm")
    doc_type: str
    due_days_before_departure: WholeNumber = 3
    provided_by: str = "customer"
    dangerous_goods_only: bool = False
    is_active: bool = True


@router.get("/documents", responses=Errors)
def list_requirements(principal: Admin, db: Db) -> list[dict]:
    return [asdict(r) for r in documents.list_requirements(db, principal)]


@router.post("/documents", status_code=201, responses=Errors)
def create_requirement(body: RequirementIn, principal: Admin, db: Db) -> dict:
    return asdict(documents.save_requirement(db, principal, **body.model_dump()))


@router.put("/documents/{requirement_id}", responses=Errors)
def update_requirement(requirement_id: Id, body: RequirementIn, principal: Admin, db: Db) -> dict:
    return asdict(documents.save_requirement(db, principal, requirement_id=requirement_id, **body.model_dump()))


# ------------------------------------------------------------------------------------------------ rules


class RuleIn(Body):
    is_active: bool
    severity: str
    threshold: WholeNumber | None = Field(None, description="Hours or days, by rule (see `unit` in the list)")
    expected_version: Version | None = None


@router.get("/rules", responses=Errors)
def list_rules(principal: Admin, db: Db) -> list[dict]:
    return [asdict(r) for r in rules.list_rules(db, principal)]


@router.put("/rules/{kind}", responses=Errors)
def update_rule(kind: str, body: RuleIn, principal: Admin, db: Db) -> dict:
    """Switch a rule on or off, set its severity and threshold; the next evaluation uses them."""
    return asdict(rules.update_rule(db, principal, kind, **body.model_dump()))


# ------------------------------------------------------------------------------------------------ SLA


class PolicyIn(Body):
    subject: str = Field(description="exception, ticket or quote")
    kind: str = Field(description="exception kind, request category or mode; '*' for any")
    severity: str = Field(description="severity or priority; '*' for any")
    resolution_hours: WholeNumber
    first_response_hours: WholeNumber | None = None
    is_active: bool = True


@router.get("/sla", responses=Errors)
def list_policies(principal: Admin, db: Db) -> list[dict]:
    return [asdict(p) for p in sla.list_policies(db, principal)]


@router.post("/sla", status_code=201, responses=Errors)
def create_policy(body: PolicyIn, principal: Admin, db: Db) -> dict:
    return asdict(sla.save_policy(db, principal, **body.model_dump()))


@router.put("/sla/{policy_id}", responses=Errors)
def update_policy(policy_id: Id, body: PolicyIn, principal: Admin, db: Db) -> dict:
    return asdict(sla.save_policy(db, principal, policy_id=policy_id, **body.model_dump()))


# ------------------------------------------------------------------------------------------------ organisation


class BranchIn(Body):
    code: str = Field(max_length=20)
    name: str = Field(max_length=120)
    location_code: str | None = Field(None, max_length=5)
    timezone: str = Field("UTC", max_length=64)


class TeamIn(Body):
    name: str = Field(max_length=120)
    branch_id: Id | None = None


class CompanyIn(Body):
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    country: str | None = Field(None, max_length=2)
    billing_currency: str = Field("USD", max_length=3)
    payment_terms_days: WholeNumber = 30
    is_active: bool = True


class StaffIn(Body):
    email: str = Field(max_length=254)
    full_name: str = Field(max_length=200)
    role: str = Field(description=", ".join(org.STAFF_ROLE_VALUES))
    team_id: Id | None = None
    branch_id: Id | None = None


class StaffUpdateIn(Body):
    role: str
    is_active: bool
    team_id: Id | None = None
    branch_id: Id | None = None
    expected_version: Version | None = None


@router.get("/branches", responses=Errors)
def list_branches(principal: Admin, db: Db) -> list[dict]:
    return [asdict(b) for b in org.list_branches(db, principal)]


@router.post("/branches", status_code=201, responses=Errors)
def create_branch(body: BranchIn, principal: Admin, db: Db) -> dict:
    return asdict(org.save_branch(db, principal, **body.model_dump()))


@router.put("/branches/{branch_id}", responses=Errors)
def update_branch(branch_id: Id, body: BranchIn, principal: Admin, db: Db) -> dict:
    return asdict(org.save_branch(db, principal, branch_id=branch_id, **body.model_dump()))


@router.get("/teams", responses=Errors)
def list_teams(principal: Admin, db: Db) -> list[dict]:
    return [asdict(t) for t in org.list_teams(db, principal)]


@router.post("/teams", status_code=201, responses=Errors)
def create_team(body: TeamIn, principal: Admin, db: Db) -> dict:
    return asdict(org.save_team(db, principal, **body.model_dump()))


@router.put("/teams/{team_id}", responses=Errors)
def update_team(team_id: Id, body: TeamIn, principal: Admin, db: Db) -> dict:
    return asdict(org.save_team(db, principal, team_id=team_id, **body.model_dump()))


@router.get("/companies", responses=Errors)
def list_companies(principal: Admin, db: Db) -> list[dict]:
    return [asdict(c) for c in org.list_companies(db, principal)]


@router.post("/companies", status_code=201, responses=Errors)
def create_company(body: CompanyIn, principal: Admin, db: Db) -> dict:
    return asdict(org.save_company(db, principal, **body.model_dump()))


@router.put("/companies/{company_id}", responses=Errors)
def update_company(company_id: Id, body: CompanyIn, principal: Admin, db: Db) -> dict:
    return asdict(org.save_company(db, principal, company_id=company_id, **body.model_dump()))


@router.get("/staff", responses=Errors)
def list_staff(principal: Admin, db: Db) -> list[dict]:
    return [asdict(u) for u in org.list_staff(db, principal)]


@router.post("/staff", status_code=201, responses=Errors)
def create_staff(body: StaffIn, principal: Admin, db: Db) -> dict:
    """A staff account with a temporary password, returned once in this answer."""
    made = org.create_staff(db, principal, **body.model_dump())
    return {"user": asdict(made.user), "temporary_password": made.temporary_password}


@router.put("/staff/{user_id}", responses=Errors)
def update_staff(user_id: Id, body: StaffUpdateIn, principal: Admin, db: Db) -> dict:
    return asdict(org.update_staff(db, principal, user_id, **body.model_dump()))


@router.delete("/users/{user_id}/mfa", response_model=mfa.MfaReset, responses=Errors)
def reset_user_mfa(user_id: Id, principal: Admin, db: Db) -> mfa.MfaReset:
    """Remove anyone's second factor, staff or customer (a lost phone): signed out, told by email, audited."""
    return mfa.reset(db, principal, user_id)


# ------------------------------------------------------------------------------------------------ branding


class BrandingIn(Body):
    product_name: str = Field(max_length=60)
    accent_color: str = Field(max_length=7, description="#rrggbb, at least 4.5:1 against white")
    remove_logo: bool = False


@router.get("/branding", responses=Errors)
def get_branding(principal: Admin, db: Db) -> dict:
    return asdict(branding.current(db))


@router.put("/branding", responses=Errors)
def save_branding(body: BrandingIn, principal: Admin, db: Db) -> dict:
    return asdict(branding.save_branding(db, principal, **body.model_dump()))


@router.put("/branding/logo", responses={**Errors, 413: {}},
            openapi_extra={"requestBody": {"required": True, "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_logo(request: Request, principal: Admin, db: Db) -> dict:
    """The logo as the raw request body (PNG or JPEG, checked from its bytes, at most 256 KB)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > branding.MAX_LOGO_BYTES:
        raise LogoTooLarge(f"The logo is larger than {branding.MAX_LOGO_BYTES // 1024} KB. Save it smaller and send "
                           "it again. Nothing was saved.")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > branding.MAX_LOGO_BYTES:
            raise LogoTooLarge(f"The logo is larger than {branding.MAX_LOGO_BYTES // 1024} KB. Save it smaller and "
                               "send it again. Nothing was saved.")
    current = await run_in_threadpool(branding.current, db)
    result = await run_in_threadpool(branding.save_branding, db, principal, product_name=current.product_name,
                                     accent_color=current.accent_color, logo=bytes(data))
    return asdict(result)


# ------------------------------------------------------------------------------------------------ invoice identity


@router.get("/invoice-identity", response_model=invoice_identity.InvoiceIdentity, responses=Errors)
def get_invoice_identity(principal: Admin, db: Db) -> invoice_identity.InvoiceIdentity:
    """The legal name, address, VAT number, bank details and payment reference rule printed on every invoice
    (empty text where nothing is set: the invoice then tells customers whom to ask)."""
    return invoice_identity.get_invoice_identity(db, principal)


@router.put("/invoice-identity", response_model=invoice_identity.InvoiceIdentity, responses=Errors)
def save_invoice_identity(body: invoice_identity.InvoiceIdentity, principal: Admin,
                          db: Db) -> invoice_identity.InvoiceIdentity:
    """Replace them all (IBAN check digits, BIC and VAT number checked; 422 with each wrong field, nothing saved).
    Invoice PDFs downloaded from now on show them."""
    return invoice_identity.save_invoice_identity(db, principal, body)


@public.get("/api/branding/logo", response_class=FileResponse, responses={404: {}})
def logo(db: Db) -> FileResponse:
    """The installation's logo (public: it is shown on every page, the sign-in page too)."""
    found = branding.logo_file(db)
    if found is None:
        raise NotFound("No logo has been set.")
    path, content_type = found
    return FileResponse(path, media_type=content_type,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"})
