"""REST v1: the help centre. Searching and reading work without signing in (public articles); with a session or an
API key, a customer also finds the articles for signed-in customers. Managing articles and the questions without
a good answer are for staff; writing needs the help editor right (ops managers and administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import current_principal, get_db, optional_principal
from portal_app.auth.principal import Principal
from portal_app.services import help_centre as svc
from portal_app.services.help_centre import articles as art
from portal_app.services.help_centre import search as srch
from portal_app.services.inputs import Body, Id, PageNo, Version, rows_per_page
from portal_app.services.paging import BarePage

router = APIRouter(prefix="/api/v1/help", tags=["help centre"])


def staff(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    art.require_staff(principal)
    return principal


def editor(principal: Annotated[Principal, Depends(staff)]) -> Principal:
    art.require_editor(principal)
    return principal


Staff = Annotated[Principal, Depends(staff)]  # refused before the body is read: a customer gets 403, never 422
Editor = Annotated[Principal, Depends(editor)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]
Db = Annotated[Session, Depends(get_db)]
PageSize = rows_per_page(art.MAX_PAGE_SIZE)
Errors = {
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed for your role"},
    404: {"description": "No such article"},
    409: {"description": "Changed by someone else meanwhile"},
    422: {"description": "Invalid input"},
}


class SearchOut(BaseModel):
    query: str
    is_gap: bool = Field(description=f"No article reached the gap threshold ({srch.GAP_THRESHOLD})")
    top_score: float | None
    results: list[svc.ArticleSuggestion]


class ArticleUpdateIn(svc.ArticleInput, frozen=True):
    """An article as written, with the version it was edited from (API only: the editor page keeps it)."""

    expected_version: Version = Field(description="The version you edited (409 if it changed since)")


class PublishIn(Body):
    published: bool
    expected_version: Version


class AudienceIn(Body):
    audience: str
    expected_version: Version


class GapOut(BaseModel):
    query: str
    searches: int
    last_searched_at: datetime
    answered_now_by: str | None = Field(description="Slug of the article that answers it today, if one does")


class GapListOut(BarePage[GapOut]):
    days: int
    searches_in_period: int
    gaps_in_period: int


# ------------------------------------------------------------------------------------------------ reading


@router.get("/search", response_model=SearchOut, responses={422: Errors[422]})
def search(
    principal: MaybeCaller,
    db: Db,
    q: Annotated[str, Query(max_length=1000)] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> SearchOut:
    """The articles that answer a question, best first. Each search is recorded (so staff see questions without a
    good answer); the same question from the same person within a minute is recorded once."""
    result = svc.search_articles(db, principal, q, limit=limit)
    return SearchOut(
        query=result.query,
        is_gap=result.is_gap,
        top_score=result.top_score,
        results=result.hits,
    )


@router.get("/suggest", response_model=list[svc.ArticleSuggestion], responses={422: Errors[422]})
def suggest(
    principal: MaybeCaller,
    db: Db,
    text: Annotated[str, Query(max_length=8000)] = "",
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
) -> list[svc.ArticleSuggestion]:
    """Articles that may answer what someone is about to send as a request (not recorded)."""
    return svc.suggest_articles(db, principal, text, limit)


@router.get("/articles", response_model=BarePage[svc.ArticleSummary], responses={422: Errors[422]})
def list_articles(
    principal: MaybeCaller,
    db: Db,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> BarePage[svc.ArticleSummary]:
    """The published articles you may read, by title."""
    return BarePage.of(svc.list_articles(db, principal, page=page, page_size=page_size))


@router.get("/articles/{slug}", response_model=svc.ArticleView, responses={404: Errors[404]})
def get_article(slug: str, principal: MaybeCaller, db: Db) -> svc.ArticleView:
    """One article, its Markdown and its HTML. An article for signed-in customers is a 404 without signing in."""
    return svc.get_article(db, principal, slug)


# ------------------------------------------------------------------------------------------------ staff


@router.get("/manage/articles", response_model=BarePage[svc.ArticleRow], responses=Errors)
def manage_articles(
    principal: Staff,
    db: Db,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str, Query(pattern="^(|published|draft)$")] = "",
    page: PageNo = 1,
    page_size: PageSize = 25,
) -> BarePage[svc.ArticleRow]:
    """Staff: every article, drafts (unpublished) first."""
    return BarePage.of(svc.manage_articles(db, principal, q=q, status=status, page=page, page_size=page_size))


@router.post("/manage/articles", response_model=svc.ArticleEdit, status_code=201, responses=Errors)
def create_article(body: svc.ArticleInput, principal: Editor, db: Db) -> svc.ArticleEdit:
    """Help editors: a new article (unpublished unless ``is_published``)."""
    return svc.create_article(db, principal, body)


@router.get("/manage/articles/{article_id}", response_model=svc.ArticleEdit, responses=Errors)
def get_for_edit(article_id: Id, principal: Staff, db: Db) -> svc.ArticleEdit:
    """Staff: one article as the editor shows it, with its version."""
    return svc.get_article_for_edit(db, principal, article_id)


@router.put("/manage/articles/{article_id}", response_model=svc.ArticleEdit, responses=Errors)
def update_article(article_id: Id, body: ArticleUpdateIn, principal: Editor, db: Db) -> svc.ArticleEdit:
    """Help editors: replace an article's fields (409 when someone saved since ``expected_version``)."""
    return svc.update_article(db, principal, article_id, body, expected_version=body.expected_version)


@router.post("/manage/articles/{article_id}/publish", response_model=svc.ArticleEdit, responses=Errors)
def publish(article_id: Id, body: PublishIn, principal: Editor, db: Db) -> svc.ArticleEdit:
    """Help editors: publish (``published: true``) or unpublish an article."""
    return svc.set_published(db, principal, article_id, body.published, expected_version=body.expected_version)


@router.post("/manage/articles/{article_id}/audience", response_model=svc.ArticleEdit, responses=Errors)
def audience(article_id: Id, body: AudienceIn, principal: Editor, db: Db) -> svc.ArticleEdit:
    """Help editors: show an article to everyone (``public``) or to signed-in customers only (``customers``)."""
    return svc.set_audience(db, principal, article_id, body.audience, expected_version=body.expected_version)


@router.get("/gaps", response_model=GapListOut, responses=Errors)
def gaps(
    principal: Staff,
    db: Db,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
    page: PageNo = 1,
    page_size: PageSize = 25,
) -> GapListOut:
    """Staff: the questions searched without a good answer in the last ``days`` days, most frequent first."""
    result = svc.list_gaps(db, principal, days=days, page=page, page_size=page_size)
    summary = svc.search_summary(db, principal, days=days)
    return GapListOut(
        items=[
            GapOut(
                query=g.query,
                searches=g.searches,
                last_searched_at=g.last_searched_at,
                answered_now_by=g.answered_now_by_slug or None,
            )
            for g in result.rows
        ],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
        days=days,
        searches_in_period=summary.searches,
        gaps_in_period=summary.gaps,
    )
