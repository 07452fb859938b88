"""Drafts kept between visits: one per user, saved half-filled, discarded or copied from an earlier request."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    QuoteCargoLine,
    QuoteRequest,
)
from models.enums import PortalEventKind, QuoteStatus
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, funnel, rating
from portal_app.services.errors import Conflict
from portal_app.services.locations import find_location
from portal_app.services.quotes.common import (
    _date,
    _decimal,
    _find,
    _integer,
    _lines,
    _services,
    _text,
    _view,
    quote_reference,
)
from portal_app.services.quotes.shapes import MAX_LINES, CargoLineInput, QuoteInput, QuoteView
from portal_app.services.quotes.validation import _code, _problems
from portal_app.services.trade_codes import (
    SERVICES,
    normalize_un_number,
)


def _draft(db: Session, principal: Principal) -> QuoteRequest | None:
    return db.exec(
        select(QuoteRequest)
        .where(QuoteRequest.requested_by_id == principal.user_id, QuoteRequest.status == QuoteStatus.DRAFT.value,
               QuoteRequest.company_id == principal.company_id)
        .order_by(col(QuoteRequest.updated_at).desc(), col(QuoteRequest.id).desc())
        .limit(1)
    ).first()


def get_draft(db: Session, principal: Principal) -> QuoteView | None:
    """The acting user's current draft (one per user), with what still stops it from being submitted."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _draft(db, principal)
    if q is None:
        return None
    lines = _lines(db, q)
    return _view(db, q, lines=lines, problems=_problems(db, q, lines, clock.today()))


def _apply(db: Session, q: QuoteRequest, data: QuoteInput, problems: dict[str, str]) -> list[QuoteCargoLine]:
    """Copy the form onto the request; values that cannot be stored become blank with a problem."""
    mode = _text(data.mode, 12)
    q.mode = mode.lower() if mode else None
    for key in ("origin", "destination"):
        code = _text(getattr(data, key), 10)
        loc = find_location(db, code) if code else None
        setattr(q, f"{key}_id", loc.id if loc else None)
        if code and loc is None:
            problems[key] = (f"We do not know the place {code!r}. Start typing the city, port or airport name and "
                             "pick it from the list.")
    q.ready_date = _date(data.ready_date, "ready_date", problems)
    incoterm = _text(data.incoterm, 3)
    q.incoterm = incoterm.upper() if incoterm else None
    services = sorted({s.strip().lower() for s in data.services if s and s.strip()})
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        problems["services"] = f"Unknown service {unknown[0][:40]!r}. Choose from: {', '.join(SERVICES)}."
    q.services = json.dumps([s for s in services if s in SERVICES])  # known names only: always fits, always whole
    q.cargo_value = _decimal(data.cargo_value, "cargo_value", "The cargo value", problems)
    if q.cargo_value is not None:
        q.cargo_value = q.cargo_value.quantize(Decimal("0.01"))
        if abs(q.cargo_value) >= Decimal("1e13"):
            problems["cargo_value"] = "The cargo value is too large."
            q.cargo_value = None
    currency = _text(data.cargo_currency, 3)
    q.cargo_currency = currency.upper() if currency else None
    q.customer_reference = _text(data.customer_reference, 40)
    assert q.id is not None  # flushed: the row has its key
    lines = []
    for i, raw in enumerate(data.lines[:MAX_LINES]):
        k = f"lines.{i}."
        n = i + 1
        un_raw = _text(raw.un_number, 10)
        un = normalize_un_number(un_raw)
        if un_raw and un is None:
            problems[k + "un_number"] = f"Line {n}: UN numbers have four digits, e.g. UN 1263."

        def dim(name: str, label: str, *, _k: str = k, _n: int = n, _raw: CargoLineInput = raw) -> Decimal | None:
            value = _decimal(getattr(_raw, name), _k + name, f"Line {_n}: the {label}", problems)
            if value is not None and not Decimal("-1e9") < value < Decimal("1e9"):
                problems[_k + name] = f"Line {_n}: the {label} is too large."
                return None
            return None if value is None else value.quantize(rating.KG_QUANTUM)

        size_type = _text(raw.container_size_type, 4)
        dg_class = _text(raw.dg_class, 4)
        packages = _integer(raw.packages, k + "packages", f"Line {n}: the number of packages", problems)
        count = _integer(raw.container_count, k + "container_count", f"Line {n}: the number of containers", problems)
        lines.append(QuoteCargoLine(
            quote_request_id=q.id, description=_text(raw.description, 200),
            packages=packages if packages is None or abs(packages) < 10**9 else None,
            length_cm=dim("length_cm", "length"), width_cm=dim("width_cm", "width"),
            height_cm=dim("height_cm", "height"), weight_kg=dim("weight_kg", "weight"),
            container_size_type=size_type.upper() if size_type else None,
            container_count=count if count is None or abs(count) < 10**9 else None,
            is_dangerous_goods=bool(raw.is_dangerous_goods), un_number=un or (un_raw[:4] if un_raw else None),
            dg_class=dg_class,
        ))
    if len(data.lines) > MAX_LINES:
        problems["lines"] = f"A request can have at most {MAX_LINES} cargo lines; the rest were not kept."
    return lines


def save_draft(
    db: Session, principal: Principal, data: QuoteInput, *, reference: str | None = None,
    expected_version: int | None = None,
) -> QuoteView:
    """Save the acting user's draft (creating it on first save): half-filled is fine. Returns the draft with
    ``problems``: every field still missing or wrong, so the page can show them before submitting.

    ``reference`` (optional) must name that draft (a stale page may not overwrite another request);
    ``expected_version`` (optional) refuses to overwrite a draft saved since in another tab."""
    principal.require(Permission.REQUEST_QUOTES)
    now = clock.now()
    q = _draft(db, principal)
    if reference is not None and (q is None or q.reference != reference.strip().upper()):
        _find(db, principal, reference)  # NotFound for a reference that is not the company's
        raise Conflict(f"Quote {reference.strip().upper()} is not your draft any more (it was submitted or "
                       "discarded). Open your quotes to see it. Nothing was saved.")
    created = q is None
    if q is None:
        q = QuoteRequest(
            reference=f"TMP-{uuid.uuid4().hex[:16]}", company_id=principal.company_id,
            requested_by_id=principal.user_id, status=QuoteStatus.DRAFT.value, created_at=now, updated_at=now,
        )
        db.add(q)
        db.flush()
        assert q.id is not None  # flushed: the row has its key
        q.reference = quote_reference(q.id)
    elif expected_version is not None and q.version != expected_version:
        raise Conflict(
            "This draft was changed in another window since you opened it. Reload it to see the latest version, "
            "then make your change again. Nothing was saved."
        )
    else:
        q.version += 1
    problems: dict[str, str] = {}
    new_lines = _apply(db, q, data, problems)
    q.updated_at = now
    db.add(q)
    db.exec(sa.delete(QuoteCargoLine).where(col(QuoteCargoLine.quote_request_id) == q.id))
    for ln in new_lines:
        db.add(ln)
    if created:
        funnel.record(db, principal, PortalEventKind.QUOTE_STARTED, q.reference)
    db.commit()
    lines = _lines(db, q)
    return _view(db, q, lines=lines, problems={**_problems(db, q, lines, clock.today()), **problems})


def discard_draft(db: Session, principal: Principal, reference: str) -> None:
    """Delete the acting user's draft (counted as an abandoned quote)."""
    principal.require(Permission.REQUEST_QUOTES)
    q = _find(db, principal, reference)
    if q.status != QuoteStatus.DRAFT or q.requested_by_id != principal.user_id:
        raise Conflict(f"Quote {q.reference} is not your draft, so it cannot be discarded. Nothing was changed.")
    db.exec(sa.delete(QuoteCargoLine).where(col(QuoteCargoLine.quote_request_id) == q.id))
    db.delete(q)
    funnel.record(db, principal, PortalEventKind.QUOTE_ABANDONED, q.reference)
    db.commit()


def copy_to_draft(db: Session, principal: Principal, reference: str) -> QuoteView:
    """Start a new draft from an earlier request (e.g. after its prices expired), with today's ready date if
    the old one has passed."""
    principal.require(Permission.REQUEST_QUOTES)
    source = _find(db, principal, reference)
    current = _draft(db, principal)
    if current is not None:
        raise Conflict(
            f"You already have an unfinished quote request ({current.reference}). Submit or discard it first, "
            "then copy this one. Nothing was changed."
        )
    lines = _lines(db, source)
    today = clock.today()
    data = QuoteInput(
        mode=source.mode, origin=_code(db, source.origin_id), destination=_code(db, source.destination_id),
        ready_date=max(source.ready_date, today) if source.ready_date else None, incoterm=source.incoterm,
        services=_services(source), cargo_value=source.cargo_value, cargo_currency=source.cargo_currency,
        customer_reference=source.customer_reference,
        lines=tuple(CargoLineInput(**{name: getattr(ln, name) for name in CargoLineInput.model_fields})
                    for ln in lines),
    )
    return save_draft(db, principal, data)
