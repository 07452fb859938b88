"""Required documents per transport mode and Incoterm: which document type, who provides it, how many days before
departure it is due, and whether only dangerous goods need it. The customer's checklist, the dashboard and the
``document_missing`` rule read these rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from models import DocumentRequirement
from models.enums import Mode
from portal_app.auth.principal import Principal
from portal_app.services.config.common import int_in, record, refuse_if, require_admin
from portal_app.services.documents import DOCUMENT_TYPE_NAMES
from portal_app.services.errors import Conflict, ErrorCode, NotFound
from portal_app.services.trade_codes import INCOTERMS, incoterm_valid_for_mode

MODES = tuple(m.value for m in Mode)
PROVIDERS = ("customer", "forwarder")


@dataclass(frozen=True)
class RequirementView:
    id: int
    mode: str
    incoterm: str | None
    doc_type: str
    doc_type_name: str
    due_days_before_departure: int
    provided_by: str
    dangerous_goods_only: bool
    is_active: bool


def _view(r: DocumentRequirement) -> RequirementView:
    assert r.id is not None  # a stored row
    return RequirementView(r.id, r.mode, r.incoterm, r.doc_type, DOCUMENT_TYPE_NAMES.get(r.doc_type, r.doc_type),
                           r.due_days_before_departure, r.provided_by, r.dangerous_goods_only, r.is_active)


def _snapshot(r: DocumentRequirement) -> dict:
    return {"mode": r.mode, "incoterm": r.incoterm, "doc_type": r.doc_type,
            "due_days_before_departure": r.due_days_before_departure, "provided_by": r.provided_by,
            "dangerous_goods_only": r.dangerous_goods_only, "is_active": r.is_active}


def list_requirements(db: Session, principal: Principal) -> list[RequirementView]:
    require_admin(principal)
    rows = db.exec(select(DocumentRequirement).order_by(col(DocumentRequirement.mode),
                                                        col(DocumentRequirement.incoterm),
                                                        DocumentRequirement.doc_type)).all()
    return [_view(r) for r in rows]


def save_requirement(db: Session, principal: Principal, *, mode: str, incoterm: str | None, doc_type: str,
                     due_days_before_departure: object, provided_by: str = "customer",
                     dangerous_goods_only: bool = False, is_active: bool = True,
                     requirement_id: int | None = None) -> RequirementView:
    """Add a required document (no ``requirement_id``) or change one."""
    require_admin(principal)
    problems: dict[str, str] = {}
    mode = str(mode or "").strip()
    term = (str(incoterm).strip().upper() or None) if incoterm else None
    doc = str(doc_type or "").strip()
    if mode not in MODES:
        problems["mode"] = f"choose one of {', '.join(MODES)}"
    if term is not None and term not in INCOTERMS:
        problems["incoterm"] = f"choose an Incoterm 2020 code ({', '.join(INCOTERMS)}) or none for every Incoterm"
    elif term is not None and mode in MODES and not incoterm_valid_for_mode(term, mode):
        problems["incoterm"] = f"{term} is for sea transport only; pick another Incoterm for {mode}"
    if doc not in DOCUMENT_TYPE_NAMES:
        problems["doc_type"] = f"choose one of {', '.join(DOCUMENT_TYPE_NAMES)}"
    days = int_in(due_days_before_departure, 0, 60, problems, "due_days_before_departure")
    if provided_by not in PROVIDERS:
        problems["provided_by"] = "choose customer or forwarder"
    for key, value in (("dangerous_goods_only", dangerous_goods_only), ("is_active", is_active)):
        if not isinstance(value, bool):
            problems[key] = "give true or false"
    refuse_if(problems, "The required document")
    assert days is not None  # int_in recorded a problem otherwise
    same = db.exec(select(DocumentRequirement).where(
        DocumentRequirement.mode == mode, DocumentRequirement.doc_type == doc,
        col(DocumentRequirement.dangerous_goods_only).is_(dangerous_goods_only),
        col(DocumentRequirement.incoterm).is_(None) if term is None else DocumentRequirement.incoterm == term)).first()
    if requirement_id is None:
        if same is not None:
            raise Conflict(f"{DOCUMENT_TYPE_NAMES[doc]} is already required for {mode} / {term or 'any Incoterm'} "
                           f"(#{same.id}). Edit that one instead. Nothing was saved.",
                           code=ErrorCode.DUPLICATE_REQUIREMENT)
        created = DocumentRequirement(mode=mode, incoterm=term, doc_type=doc, due_days_before_departure=days,
                                      provided_by=provided_by, dangerous_goods_only=dangerous_goods_only,
                                      is_active=is_active)
        db.add(created)
        db.flush()
        record(db, principal, "config_document_created", "document_requirement", created.id, None,
               _snapshot(created))
        db.commit()
        return _view(created)
    row = db.get(DocumentRequirement, int(requirement_id))
    if row is None:
        raise NotFound(f"There is no required document #{requirement_id}. Reload the list. Nothing was saved.")
    if same is not None and same.id != row.id:
        raise Conflict(f"Another rule (#{same.id}) already requires {DOCUMENT_TYPE_NAMES[doc]} for {mode} / "
                       f"{term or 'any Incoterm'}. Edit that one instead. Nothing was saved.",
                       code=ErrorCode.DUPLICATE_REQUIREMENT)
    before = _snapshot(row)
    row.mode, row.incoterm, row.doc_type, row.due_days_before_departure = mode, term, doc, days
    row.provided_by, row.dangerous_goods_only, row.is_active = provided_by, dangerous_goods_only, is_active
    after = _snapshot(row)
    if after != before:
        db.add(row)
        record(db, principal, "config_document_updated", "document_requirement", row.id, before, after)
        db.commit()
    return _view(row)
