"""The audit page: who signed in, changed people, roles, keys and settings, downloaded and exported what, from where.

It reads the one audit log (services/audit.py) in categories. The forwarder's administrators see every entry; a
customer admin sees their own company's entries in the categories about access (sign-ins, people, API keys,
downloads, exports): never the forwarder's settings, nor the staff's work on records (internal notes among them).
Entries are kept ``PORTAL_AUDIT_RETENTION_DAYS`` days (services/retention.py removes older ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import AuditLog, Company, User
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit, display, words
from portal_app.services.errors import ErrorCode, PermissionDenied
from portal_app.services.inputs import Body, IsoDate
from portal_app.services.paging import Page, check_paging
from portal_app.services.spreadsheets import Sheet

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXPORT_LIMIT = 100_000

CATEGORY_WORDS: dict[str, str] = {
    "sign_in": "Sign-ins and sessions",
    "people": "People and roles",
    "api_keys": "API keys",
    "downloads": "Downloads",
    "exports": "Exports",
    "settings": "Settings",
    "records": "Work on records",
}
CUSTOMER_CATEGORIES = ("sign_in", "people", "api_keys", "downloads", "exports")
SIGN_IN_ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "session_ended", "sessions_ended", "password_changed")
DOWNLOAD_ACTIONS = ("document_downloaded", "archive_downloaded", "invoice_downloaded", "personal_data_downloaded")
ACTION_WORDS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in refused",
    "sign_out": "Signed out",
    "session_ended": "Ended a session",
    "sessions_ended": "Ended all other sessions",
    "password_changed": "Changed their password",
    "profile_updated": "Changed their profile",
    "company_user_created": "Added a person",
    "company_user_role_changed": "Changed a person's role",
    "company_user_deactivated": "Deactivated a person",
    "company_user_activated": "Reactivated a person",
    "config_staff_created": "Added a staff member",
    "config_staff_updated": "Changed a staff member",
    "user_erased": "Erased a person's personal data",
    "document_downloaded": "Downloaded a document",
    "archive_downloaded": "Downloaded a shipment's documents",
    "personal_data_downloaded": "Downloaded their personal data",
    "export": "Exported a list",
    "mfa_enabled": "Turned on two-factor sign-in",
    "mfa_disabled": "Turned off two-factor sign-in",
    "mfa_reset": "Reset a person's two-factor sign-in",
    "mfa_recovery_codes_regenerated": "Made new two-factor recovery codes",
    "mfa_policy_changed": "Changed who must use two-factor sign-in",
    "api_key_created": "Created an API key",
    "api_key_revoked": "Revoked an API key",
    "api_key_used": "Used an API key",
    "user_created_by_sso": "Joined at a first single sign-on",
    "config_sso_saved": "Connected or changed an identity provider",
    "config_sso_deleted": "Disconnected an identity provider",
}


ENTITY_WORDS = {"api_key": "API key", "sign_in": "Sign-in"}  # where field_words would not write them right


def _category_clause(category: str) -> sa.ColumnElement[bool]:
    action, kind = col(AuditLog.action), col(AuditLog.entity_type)
    sign_in = sa.or_(action.in_(SIGN_IN_ACTIONS), action.startswith("mfa_", autoescape=True),
                     action.startswith("sso_", autoescape=True))
    clauses: dict[str, sa.ColumnElement[bool]] = {
        "sign_in": sign_in,
        "api_keys": action.startswith("api_key_", autoescape=True),
        "downloads": action.in_(DOWNLOAD_ACTIONS),
        "exports": action == "export",
        "people": sa.and_(kind == "user", sa.not_(sign_in), action.not_in(DOWNLOAD_ACTIONS)),
        "settings": sa.and_(action.startswith("config_", autoescape=True), kind != "user"),
    }
    if category == "records":
        return sa.not_(sa.or_(*clauses.values()))
    return clauses[category]


def category_of(action: str, entity_type: str) -> str:
    """The category an entry belongs to (the same rule as the query's, for one row in hand)."""
    if action in SIGN_IN_ACTIONS or action.startswith(("mfa_", "sso_")):
        return "sign_in"
    if action.startswith("api_key_"):
        return "api_keys"
    if action in DOWNLOAD_ACTIONS:
        return "downloads"
    if action == "export":
        return "exports"
    if entity_type == "user":
        return "people"
    return "settings" if action.startswith("config_") else "records"


class AuditQuery(Body):
    """What the audit page and ``GET /api/v1/audit`` filter by; every field optional."""

    category: str | None = Field(default=None, max_length=20, description=f"One of {', '.join(CATEGORY_WORDS)}")
    q: str | None = Field(default=None, max_length=100, description="Words in the person's name or email, the "
                          "action or the record it concerns")
    since: IsoDate | None = Field(default=None, description="First day (in your time zone)")
    until: IsoDate | None = Field(default=None, description="Last day (in your time zone)")


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry as the audit page and the API show it."""

    id: int
    at: datetime
    category: str
    category_words: str
    action: str
    action_words: str
    actor: str
    company: str
    subject: str
    address: str
    detail: str


def _require(principal: Principal) -> None:
    if not principal.can(Permission.READ_AUDIT):
        raise PermissionDenied("Only administrators can read the audit trail. Ask your administrator.",
                               code=ErrorCode.ADMIN_ONLY)


def _scope(principal: Principal) -> list[sa.ColumnElement[bool]]:
    """Staff admins read everything; a customer admin their company's entries about access."""
    if principal.can(Permission.MANAGE_USERS):
        return []
    return [col(AuditLog.company_id) == principal.company_id,
            sa.or_(*(_category_clause(c) for c in CUSTOMER_CATEGORIES))]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=display.zone(display.current().timezone))


def _filters(principal: Principal, query: AuditQuery, actor: type[User]) -> list[sa.ColumnElement[bool]]:
    clauses = _scope(principal)
    if query.category in CATEGORY_WORDS:
        clauses.append(_category_clause(query.category))
    if query.since:
        clauses.append(col(AuditLog.created_at) >= _day_start(query.since))
    if query.until:
        clauses.append(col(AuditLog.created_at) < _day_start(query.until + timedelta(days=1)))
    text = (query.q or "").strip().lower()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        clauses.append(sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in (
            col(actor.email), col(actor.full_name), col(AuditLog.action), col(AuditLog.entity_id),
            col(AuditLog.ip_address)))))
    return clauses


def _statement(principal: Principal, query: AuditQuery) -> tuple[Any, list[sa.ColumnElement[bool]]]:
    actor = aliased(User)
    stmt = (select(AuditLog, actor.full_name, actor.email, Company.name)
            .outerjoin(actor, col(actor.id) == col(AuditLog.actor_id))
            .outerjoin(Company, col(Company.id) == col(AuditLog.company_id)))
    return stmt, _filters(principal, query, actor)


def _detail(row: AuditLog) -> str:
    after, before = audit.load(row.after), audit.load(row.before)
    shown = after or before
    parts = [f"{words.field_words(k)}: {v}" for k, v in list(shown.items())[:4] if k not in {"version"}]
    return "; ".join(parts)[:300]


def _entry(row: AuditLog, actor_name: str | None, actor_email: str | None, company: str | None) -> AuditEntry:
    category = category_of(row.action, row.entity_type)
    actor = f"{actor_name} ({actor_email})" if actor_email else "The system"
    kind = ENTITY_WORDS.get(row.entity_type) or words.field_words(row.entity_type)
    return AuditEntry(
        id=row.id or 0, at=row.created_at, category=category, category_words=CATEGORY_WORDS[category],
        action=row.action, action_words=ACTION_WORDS.get(row.action) or words.code_words(row.action),
        actor=actor, company=company or "", subject=f"{kind} {row.entity_id}",
        address=row.ip_address or "", detail=_detail(row),
    )


def list_entries(db: Session, principal: Principal, query: AuditQuery, *, page: int = 1,
                 page_size: int = PAGE_SIZE) -> Page[AuditEntry]:
    """One page of the entries ``principal`` may read, newest first."""
    _require(principal)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    stmt, clauses = _statement(principal, query)
    total = db.exec(select(sa.func.count()).select_from(stmt.where(*clauses).subquery())).one()
    rows = db.exec(stmt.where(*clauses).order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
                   .offset((page - 1) * page_size).limit(page_size)).all()
    return Page([_entry(*r) for r in rows], int(total), page, page_size)


EXPORT_COLUMNS = {"at": "Time ({zone})", "category_words": "Category", "action_words": "What happened",
                  "actor": "Who", "company": "Company", "subject": "Record", "address": "Address",
                  "detail": "Detail"}


def export_sheet(db: Session, principal: Principal, query: AuditQuery) -> Sheet:
    """Every entry the filters match (newest first, at most EXPORT_LIMIT) as a sheet; the export is audited too."""
    _require(principal)
    stmt, clauses = _statement(principal, query)
    audit.exported(db, principal, "audit", "csv", query.model_dump(exclude_none=True, mode="json"))

    def rows() -> Iterator[AuditEntry]:
        result = db.exec(stmt.where(*clauses).order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
                         .limit(EXPORT_LIMIT).execution_options(yield_per=1000))
        for r in result:
            yield _entry(*r)

    return Sheet.of("Audit", EXPORT_COLUMNS, rows(), timezone=principal.timezone)
