"""A user's saved list filters ("views"), private to that user."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from models import SavedView
from portal_app.auth.principal import Principal
from portal_app.services.errors import NotFound, ValidationFailed

PAGES = ("portal_shipments", "tower_shipments")
MAX_VIEWS_PER_PAGE = 30


@dataclass(frozen=True)
class View:
    id: int
    name: str
    params: dict[str, str]


def _check_page(page: str) -> None:
    if page not in PAGES:
        raise ValidationFailed(f"Views cannot be saved for {page!r}.")


def list_views(db: Session, principal: Principal, page: str) -> list[View]:
    _check_page(page)
    rows = db.exec(
        select(SavedView).where(SavedView.user_id == principal.user_id, SavedView.page == page).order_by(SavedView.name)
    ).all()
    return [View(r.id, r.name, json.loads(r.filters)) for r in rows if r.id is not None]


def save_view(db: Session, principal: Principal, page: str, name: str, params: dict[str, str]) -> View:
    """Save (or overwrite, by name) the acting user's view of ``page``."""
    _check_page(page)
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ValidationFailed("Give the view a name, e.g. 'Arriving Rotterdam'. Nothing was saved.")
    clean = {str(k)[:20]: str(v)[:40] for k, v in params.items() if v}
    existing = db.exec(
        select(SavedView).where(SavedView.user_id == principal.user_id, SavedView.page == page, SavedView.name == name)
    ).first()
    if existing is None:
        count = db.exec(
            select(sa.func.count()).select_from(SavedView)
            .where(SavedView.user_id == principal.user_id, SavedView.page == page)
        ).one()
        if count >= MAX_VIEWS_PER_PAGE:
            raise ValidationFailed(f"You already have {MAX_VIEWS_PER_PAGE} saved views here. Delete one first; "
                                   "nothing was saved.")
        existing = SavedView(user_id=principal.user_id, page=page, name=name, filters="{}")
    existing.filters = json.dumps(clean, sort_keys=True)
    db.add(existing)
    db.commit()
    assert existing.id is not None  # stored by the commit
    return View(existing.id, existing.name, clean)


def delete_view(db: Session, principal: Principal, view_id: int) -> None:
    row = db.exec(select(SavedView).where(SavedView.id == view_id, SavedView.user_id == principal.user_id)).first()
    if row is None:
        raise NotFound("That saved view no longer exists. Reload the page.")
    db.delete(row)
    db.commit()
