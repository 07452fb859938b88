"""The organisation: branches (offices), teams, customer companies and staff accounts.

Staff accounts belong to the forwarder company and hold one of the staff roles (ops agent, ops manager,
administrator); customer accounts are managed by each customer's own admins (``services/accounts.py``). An
administrator cannot change their own role or deactivate themselves, and the last active administrator stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import available_timezones

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import Branch, Company, Team, User
from models.enums import CompanyKind, Role
from portal_app.auth.passwords import hash_password
from portal_app.auth.permissions import ROLE_LABELS, STAFF_ROLES
from portal_app.auth.principal import Principal
from portal_app.auth.sessions import forget_principals, normalize_email, revoke_user_sessions
from portal_app.services import clock
from portal_app.services.accounts import _temporary_password
from portal_app.services.config.common import NOTHING_SAVED, int_in, record, refuse_if, require_admin, text_in
from portal_app.services.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from portal_app.services.paging import Page, check_paging
from portal_app.services.trade_codes import CURRENCY_DIGITS

STAFF_ROLE_VALUES = tuple(r.value for r in (Role.OPS_AGENT, Role.OPS_MANAGER, Role.ADMIN))
_BRANCH_CODE = re.compile(r"^[A-Z0-9]{2,20}$")
_COMPANY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ------------------------------------------------------------------------------------------------ branches


@dataclass(frozen=True)
class BranchView:
    id: int
    code: str
    name: str
    location_code: str | None
    timezone: str


def _branch(b: Branch) -> BranchView:
    assert b.id is not None  # a stored row
    return BranchView(b.id, b.code, b.name, b.location_code, b.timezone)


def list_branches(db: Session, principal: Principal) -> list[BranchView]:
    require_admin(principal)
    return [_branch(b) for b in db.exec(select(Branch).order_by(Branch.name)).all()]


def save_branch(db: Session, principal: Principal, *, code: str, name: str, location_code: str | None = None,
                timezone: str = "UTC", branch_id: int | None = None) -> BranchView:
    require_admin(principal)
    problems: dict[str, str] = {}
    code = str(code or "").strip().upper()
    if not _BRANCH_CODE.match(code):
        problems["code"] = "use 2 to 20 capital letters or digits, e.g. RTM"
    name = text_in(name, 2, 120, problems, "name")
    loc = (str(location_code).strip().upper() or None) if location_code else None
    if loc is not None and not _LOCODE.match(loc):
        problems["location_code"] = "give a UN/LOCODE of 5 characters, e.g. NLRTM, or leave it empty"
    tz = str(timezone or "").strip()
    if tz not in available_timezones():
        problems["timezone"] = "give an IANA time zone such as Europe/Amsterdam"
    refuse_if(problems, "The branch")
    same = db.exec(select(Branch).where(Branch.code == code)).first()
    row = Branch(code=code, name=name) if branch_id is None else db.get(Branch, int(branch_id))
    if row is None:
        raise NotFound(f"There is no branch #{branch_id}. Reload the list. {NOTHING_SAVED}")
    if same is not None and same.id != row.id:
        raise Conflict(f"Branch code {code} is taken by {same.name}. Pick another code. {NOTHING_SAVED}",
                       code=ErrorCode.DUPLICATE_CODE)
    before = None if branch_id is None else {"code": row.code, "name": row.name, "location_code": row.location_code,
                                             "timezone": row.timezone}
    row.code, row.name, row.location_code, row.timezone = code, name, loc, tz
    after = {"code": code, "name": name, "location_code": loc, "timezone": tz}
    if after != before:
        db.add(row)
        db.flush()
        record(db, principal, "config_branch_saved", "branch", row.id, before, after)
        db.commit()
    return _branch(row)


# ------------------------------------------------------------------------------------------------ teams


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    branch_id: int | None
    branch_name: str | None
    members: int


def list_teams(db: Session, principal: Principal) -> list[TeamView]:
    require_admin(principal)
    members = sa.select(sa.func.count()).select_from(User).where(col(User.team_id) == col(Team.id),
                                                                 col(User.is_active).is_(True)).scalar_subquery()
    rows = db.execute(sa.select(col(Team.id), col(Team.name), col(Team.branch_id), col(Branch.name), members)
                      .join(Branch, col(Branch.id) == col(Team.branch_id), isouter=True).order_by(col(Team.name))).all()
    return [TeamView(*r) for r in rows]


def save_team(db: Session, principal: Principal, *, name: str, branch_id: int | None,
              team_id: int | None = None) -> TeamView:
    require_admin(principal)
    problems: dict[str, str] = {}
    name = text_in(name, 2, 120, problems, "name")
    branch = db.get(Branch, int(branch_id)) if branch_id not in (None, "") else None
    if branch_id not in (None, "") and branch is None:
        problems["branch_id"] = "choose one of the branches"
    refuse_if(problems, "The team")
    # Compared here, not in SQL: SQLite's lower() folds only ASCII, so "Équipe" twice slipped past it into the
    # unique index (a 500). Teams are a short list.
    same = next((t for t in db.exec(select(Team)).all() if t.name.casefold() == name.casefold()), None)
    row = Team(name=name) if team_id is None else db.get(Team, int(team_id))
    if row is None:
        raise NotFound(f"There is no team #{team_id}. Reload the list. {NOTHING_SAVED}")
    if same is not None and same.id != row.id:
        raise Conflict(f"There is a team called {same.name} already. Pick another name. {NOTHING_SAVED}",
                       code=ErrorCode.DUPLICATE_NAME)
    before = None if team_id is None else {"name": row.name, "branch_id": row.branch_id}
    row.name, row.branch_id = name, branch.id if branch else None
    after = {"name": row.name, "branch_id": row.branch_id}
    if after != before:
        db.add(row)
        db.flush()
        record(db, principal, "config_team_saved", "team", row.id, before, after)
        db.commit()
    return next(t for t in list_teams(db, principal) if t.id == row.id)


# ------------------------------------------------------------------------------------------------ companies


@dataclass(frozen=True)
class CompanyView:
    id: int
    code: str
    name: str
    country: str | None
    billing_currency: str
    payment_terms_days: int
    is_active: bool
    version: int


def _company(c: Company) -> CompanyView:
    assert c.id is not None  # a stored row
    return CompanyView(c.id, c.code, c.name, c.country, c.billing_currency, c.payment_terms_days, c.is_active,
                       c.version)


def _company_snapshot(c: Company) -> dict:
    return {"code": c.code, "name": c.name, "country": c.country, "billing_currency": c.billing_currency,
            "payment_terms_days": c.payment_terms_days, "is_active": c.is_active}


def list_companies(db: Session, principal: Principal) -> list[CompanyView]:
    require_admin(principal)
    rows = db.exec(select(Company).where(Company.kind == CompanyKind.CUSTOMER.value).order_by(Company.name)).all()
    return [_company(c) for c in rows]


def save_company(db: Session, principal: Principal, *, code: str, name: str, country: str | None = None,
                 billing_currency: str = "USD", payment_terms_days: object = 30, is_active: bool = True,
                 company_id: int | None = None) -> CompanyView:
    """Create a customer company or change one. A deactivated company's users can no longer sign in (their
    sessions end at once); its records stay."""
    require_admin(principal)
    problems: dict[str, str] = {}
    code = str(code or "").strip().upper()
    if not _COMPANY_CODE.match(code):
        problems["code"] = "use 2 to 20 capital letters, digits or -, e.g. ACME"
    name = text_in(name, 2, 200, problems, "name")
    country = (str(country).strip().upper() or None) if country else None
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        problems["country"] = "give a two-letter ISO country code such as NL, or leave it empty"
    currency = str(billing_currency or "").strip().upper()
    if currency not in CURRENCY_DIGITS:
        problems["billing_currency"] = "give an ISO 4217 currency code such as EUR or USD"
    terms = int_in(payment_terms_days, 0, 180, problems, "payment_terms_days")
    if not isinstance(is_active, bool):
        problems["is_active"] = "give true or false"
    refuse_if(problems, "The company")
    assert terms is not None  # int_in recorded a problem otherwise
    same = db.exec(select(Company).where(Company.code == code)).first()
    row = (Company(kind=CompanyKind.CUSTOMER.value, code=code, name=name) if company_id is None
           else db.get(Company, int(company_id)))
    if row is None or row.kind != CompanyKind.CUSTOMER.value:
        raise NotFound(f"There is no customer company #{company_id}. Reload the list. {NOTHING_SAVED}")
    if same is not None and same.id != row.id:
        raise Conflict(f"Account code {code} is taken by {same.name}. Pick another code. {NOTHING_SAVED}",
                       code=ErrorCode.DUPLICATE_CODE)
    before = None if company_id is None else _company_snapshot(row)
    row.code, row.name, row.country, row.billing_currency = code, name, country, currency
    row.payment_terms_days, row.is_active = terms, is_active
    after = _company_snapshot(row)
    if after == before:
        return _company(row)
    if before is not None:
        row.version += 1
        row.updated_at = clock.now()
    db.add(row)
    db.flush()
    record(db, principal, "config_company_saved", "company", row.id, before, after)
    if before is not None and before["is_active"] and not is_active:
        for uid in db.exec(select(col(User.id)).where(User.company_id == row.id)).all():
            if uid is not None:
                revoke_user_sessions(db, uid, reason="company_deactivated")
    db.commit()
    return _company(row)


# ------------------------------------------------------------------------------------------------ a company's people

PEOPLE_PAGE_SIZE = 25


@dataclass(frozen=True)
class PersonView:
    """A person of a customer company as the administrator's list shows them."""

    id: int
    full_name: str
    email: str
    role: str
    role_label: str
    is_active: bool
    mfa_enabled: bool
    erased: bool


def list_company_people(db: Session, principal: Principal, company_id: int, *, page: int = 1,
                        page_size: int = PEOPLE_PAGE_SIZE) -> Page[PersonView]:
    """One page of a customer company's people (customer users and admins), by name: for the administrators of the
    forwarder, who erase a person or reset their second factor from it."""
    require_admin(principal)
    check_paging(page, page_size, PEOPLE_PAGE_SIZE)
    company = db.get(Company, int(company_id))
    if company is None or company.kind != CompanyKind.CUSTOMER.value:
        raise NotFound("There is no such customer company. Reload the list; nothing was changed.")
    where = col(User.company_id) == company.id
    total = db.exec(select(sa.func.count()).select_from(User).where(where)).one()
    rows = db.exec(select(User).where(where).order_by(col(User.erased_at).is_not(None), col(User.full_name),
                                                      col(User.id))
                   .offset((page - 1) * page_size).limit(page_size)).all()
    return Page([PersonView(u.id or 0, u.full_name, u.email, u.role, ROLE_LABELS[Role(u.role)], u.is_active,
                            u.mfa_enabled_at is not None, u.erased_at is not None) for u in rows],
                total, page, page_size)


# ------------------------------------------------------------------------------------------------ staff users


@dataclass(frozen=True)
class StaffView:
    id: int
    email: str
    full_name: str
    role: str
    role_label: str
    team_id: int | None
    branch_id: int | None
    is_active: bool
    version: int
    mfa_enabled: bool = False  # two-factor sign-in is on
    erased: bool = False  # personal data erased (services/privacy.py): the name and email are a pseudonym


@dataclass(frozen=True)
class NewStaff:
    user: StaffView
    temporary_password: str  # shown once; only its hash is stored


def _staff(u: User) -> StaffView:
    assert u.id is not None  # a stored row
    return StaffView(u.id, u.email, u.full_name, u.role, ROLE_LABELS[Role(u.role)], u.team_id, u.branch_id,
                     u.is_active, u.version, u.mfa_enabled_at is not None, u.erased_at is not None)


def _staff_snapshot(u: User) -> dict:
    return {"email": u.email, "full_name": u.full_name, "role": u.role, "team_id": u.team_id,
            "branch_id": u.branch_id, "is_active": u.is_active}


def _forwarder_id(db: Session) -> int:
    found = db.exec(select(col(Company.id)).where(col(Company.kind) == CompanyKind.FORWARDER.value)
                    .order_by(col(Company.id))).first()
    if found is None:
        raise ValidationFailed("The installation has no forwarder company to hold staff accounts. " + NOTHING_SAVED)
    return found


def list_staff(db: Session, principal: Principal) -> list[StaffView]:
    require_admin(principal)
    rows = db.exec(select(User).where(col(User.role).in_([r.value for r in STAFF_ROLES]))
                   .order_by(User.full_name)).all()
    return [_staff(u) for u in rows]


def _placement(db: Session, team_id: object, branch_id: object, problems: dict[str, str]) -> tuple[int | None,
                                                                                                    int | None]:
    team = db.get(Team, int(str(team_id))) if str(team_id or "").isdigit() else None
    if team_id not in (None, "") and team is None:
        problems["team_id"] = "choose one of the teams"
    branch = db.get(Branch, int(str(branch_id))) if str(branch_id or "").isdigit() else None
    if branch_id not in (None, "") and branch is None:
        problems["branch_id"] = "choose one of the branches"
    branch_out = branch.id if branch else (team.branch_id if team else None)
    return (team.id if team else None), branch_out


def _check_role(role: str, problems: dict[str, str]) -> str:
    if role not in STAFF_ROLE_VALUES:
        problems["role"] = (f"choose a staff role: {', '.join(STAFF_ROLE_VALUES)} (customer accounts are added by "
                            "the customer's own admins)")
    return role


def create_staff(db: Session, principal: Principal, *, email: str, full_name: str, role: str,
                 team_id: int | None = None, branch_id: int | None = None) -> NewStaff:
    require_admin(principal)
    problems: dict[str, str] = {}
    address = normalize_email(email or "")
    if len(address) > 254 or not _EMAIL.match(address):
        problems["email"] = "type a full address such as name@company.com"
    name = text_in(full_name, 2, 200, problems, "full_name")
    _check_role(role, problems)
    team, branch = _placement(db, team_id, branch_id, problems)
    refuse_if(problems, "The staff account")
    in_use = Conflict(f"{address} already has an account. Use another address. Nobody was added.",
                      code=ErrorCode.EMAIL_IN_USE)
    if db.exec(select(User.id).where(User.email == address)).first() is not None:
        raise in_use
    password = _temporary_password()
    user = User(email=address, full_name=name, role=role, company_id=_forwarder_id(db), team_id=team,
                branch_id=branch, password_hash=hash_password(password), is_active=True)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise in_use from None
    record(db, principal, "config_staff_created", "user", user.id, None, _staff_snapshot(user))
    db.commit()
    return NewStaff(_staff(user), password)


def update_staff(db: Session, principal: Principal, user_id: int, *, role: str, is_active: bool,
                 team_id: int | None = None, branch_id: int | None = None,
                 expected_version: int | None = None) -> StaffView:
    """Change a staff account's role, team, branch and active flag in one step (all or nothing). Deactivating
    ends the person's sessions at once."""
    require_admin(principal)
    user = db.get(User, int(user_id))
    if user is None or user.id is None or user.role not in STAFF_ROLE_VALUES:
        raise NotFound(f"There is no staff account #{user_id}. Reload the list. {NOTHING_SAVED}")
    if user.erased_at is not None:
        raise ValidationFailed(f"This person's personal data was erased; their account cannot be used again. Add a "
                               f"new staff account instead. {NOTHING_SAVED}", code=ErrorCode.ALREADY_ERASED)
    if expected_version is not None and int(expected_version) != user.version:
        raise Conflict(f"{user.full_name}'s account was changed by someone else after you opened it. Reload it and "
                       f"make your change again. {NOTHING_SAVED}", code=ErrorCode.EDIT_CONFLICT)
    problems: dict[str, str] = {}
    _check_role(role, problems)
    if not isinstance(is_active, bool):
        problems["is_active"] = "give true or false"
    team, branch = _placement(db, team_id, branch_id, problems)
    refuse_if(problems, "The staff account")
    if user.id == principal.user_id and (role != user.role or not is_active):
        raise ValidationFailed("You cannot change your own role or deactivate yourself. Ask another administrator. "
                               + NOTHING_SAVED, code=ErrorCode.SELF_CHANGE)
    loses_admin = user.role == Role.ADMIN.value and user.is_active and (role != Role.ADMIN.value or not is_active)
    if loses_admin:
        admins = db.exec(select(sa.func.count()).select_from(User).where(
            User.role == Role.ADMIN.value, col(User.is_active).is_(True))).one()
        if admins <= 1:
            raise ValidationFailed(f"{user.full_name} is the last active administrator. Make someone else an "
                                   f"administrator first. {NOTHING_SAVED}", code=ErrorCode.LAST_ADMIN)
    before = _staff_snapshot(user)
    user.role, user.is_active, user.team_id, user.branch_id = role, is_active, team, branch
    after = _staff_snapshot(user)
    if after == before:
        return _staff(user)
    forget_principals()  # a new role or flag applies to the next event
    user.version += 1
    user.updated_at = clock.now()
    db.add(user)
    record(db, principal, "config_staff_updated", "user", user.id, before, after)
    if before["is_active"] and not is_active:
        revoke_user_sessions(db, user.id, reason="deactivated")
    db.commit()
    return _staff(user)
