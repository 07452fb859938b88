"""Searching the help centre, suggesting articles before a request is sent, and the questions without an answer.

A search is a **gap** when no article reaches ``GAP_THRESHOLD`` (match score 0 to 1, see
:mod:`portal_app.services.help_centre.index`): a question whose words appear only in passing in some article's
body (about a third of their weight) is a gap; one whose words are in an article's title or keywords (about two
thirds) is answered. Staff see the gaps under "Questions without a good answer" (``list_gaps``). Every search made
from the search page (or ``GET /api/v1/help/search``) is recorded as a :class:`models.HelpSearch` row with its best
article and score; the same question from the same person within ``REPEAT_SECONDS`` is recorded once.

Anyone may search without signing in, so signed-out searches are recorded only up to
``settings.help_anonymous_searches_per_hour`` in any hour (``PORTAL_HELP_ANONYMOUS_SEARCHES_PER_HOUR``, default
200): past that they are still answered, but a flood of made-up questions can neither grow the table without bound
nor bury the real gaps. Signed-in people's searches are always recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import HelpArticle, HelpSearch
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.help_centre import index as search_index
from portal_app.services.help_centre.articles import MAX_PAGE_SIZE, article_url, audiences_for, require_staff
from portal_app.services.help_centre.render import sentences, shorten
from portal_app.services.help_centre.text import analyse
from portal_app.services.paging import Page, check_paging
from portal_app.settings import settings

GAP_THRESHOLD = 0.4
RESULT_MIN_SCORE = 0.15
RESULT_RELATIVE = 0.4
SUGGEST_MIN_SCORE = 0.15
SUGGEST_RELATIVE = 0.6
QUERY_MAX = 300  # HelpSearch.query
SUGGEST_TEXT_MAX = 4000
REPEAT_SECONDS = 60
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class ArticleSuggestion:
    """One article that answers a question: ``score`` is the match score (0 to 1); the article is at ``url``
    (the API serves this record as it is)."""

    slug: str
    title: str
    snippet: str
    score: float
    url: str


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[ArticleSuggestion]
    is_gap: bool  # no article reached GAP_THRESHOLD
    top_score: float | None


def clean_query(text: str, limit: int = QUERY_MAX) -> str:
    return " ".join(str(text or "").split())[:limit]


def _snippet(article: search_index.IndexedArticle, terms: set[str]) -> str:
    """The sentence of the article that shares most terms with the question (the first one when none does)."""
    parts = sentences(article.text)
    if not parts:
        return ""
    best = max(parts, key=lambda s: (len(terms & set(analyse(s))), -parts.index(s)))
    return shorten(best, SNIPPET_CHARS)


def _rank(db: Session, principal: Principal | None, text: str, limit: int) -> list[ArticleSuggestion]:
    terms = analyse(text)
    if not terms:
        return []
    matches = search_index.current(db).search(terms, audiences_for(principal), max(1, min(int(limit), 50)))
    wanted = set(terms)
    return [
        ArticleSuggestion(m.article.slug, m.article.title, _snippet(m.article, wanted), round(m.score, 3),
                          article_url(m.article.slug))
        for m in matches
    ]


def search_articles(
    db: Session, principal: Principal | None, text: str, *, limit: int = 10, record: bool = True
) -> SearchResult:
    """The articles that answer ``text`` best, best first (only those this person may read; at most ``limit``,
    and none scoring under ``RESULT_MIN_SCORE`` or under ``RESULT_RELATIVE`` of the best), and whether the
    question is a gap. With ``record`` the search is written to ``HelpSearch`` (committed here)."""
    query = clean_query(text)
    if not query:
        return SearchResult("", [], False, None)
    hits = _rank(db, principal, query, limit)
    top = hits[0] if hits else None
    is_gap = top is None or top.score < GAP_THRESHOLD
    if top is not None:  # leave out articles that only share a common word with the question
        hits = [h for h in hits if h.score >= max(RESULT_MIN_SCORE, RESULT_RELATIVE * top.score)]
    if record:
        _record(db, principal, query, top, is_gap)
    return SearchResult(query, hits, is_gap, top.score if top else None)


def suggest_articles(db: Session, principal: Principal | None, text: str, limit: int = 3) -> list[ArticleSuggestion]:
    """Articles that may answer what someone is about to ask in a request, best first: at most ``limit`` (up to
    10), among those ``principal`` may read (``None``: public ones only).

    ``text`` is what the person typed (a subject, a description, or both; only the first 4,000 characters count).
    A request's text is longer and chattier than a search, so the bar is lower than a search's gap threshold: an
    article is offered when its match score is at least ``SUGGEST_MIN_SCORE`` and at least ``SUGGEST_RELATIVE``
    of the best article's. Nothing is recorded and nothing is committed; an empty list means no article fits.
    """
    body = " ".join(str(text or "").split())[:SUGGEST_TEXT_MAX]
    hits = _rank(db, principal, body, max(1, min(int(limit), 10)))
    if not hits:
        return []
    floor = max(SUGGEST_MIN_SCORE, SUGGEST_RELATIVE * hits[0].score)
    return [h for h in hits if h.score >= floor]


def _anonymous_budget_spent(db: Session, now: datetime) -> bool:
    recorded = db.exec(
        select(sa.func.count(col(HelpSearch.id))).where(
            col(HelpSearch.user_id).is_(None), HelpSearch.created_at >= now - timedelta(hours=1)
        )
    ).one()
    return recorded >= settings.help_anonymous_searches_per_hour


def _record(db: Session, principal: Principal | None, query: str, top: ArticleSuggestion | None, is_gap: bool) -> None:
    now = clock.now()
    user_id = principal.user_id if principal is not None else None
    same_user = col(HelpSearch.user_id).is_(None) if user_id is None else HelpSearch.user_id == user_id
    repeat = db.exec(
        select(HelpSearch.id)
        .where(
            same_user,
            sa.func.lower(HelpSearch.query) == query.lower(),
            HelpSearch.created_at >= now - timedelta(seconds=REPEAT_SECONDS),
        )
        .limit(1)
    ).first()
    if repeat is not None or (user_id is None and _anonymous_budget_spent(db, now)):
        return
    article_id = None
    if top is not None:
        article_id = db.exec(select(HelpArticle.id).where(HelpArticle.slug == top.slug)).first()
    db.add(
        HelpSearch(
            query=query,
            user_id=user_id,
            top_article_id=article_id,
            top_score=top.score if top else None,
            is_gap=is_gap,
            created_at=now,
        )
    )
    db.commit()


# ------------------------------------------------------------------------------------------------------ gaps


@dataclass(frozen=True)
class GapRow:
    """A question asked without a good answer: how often (within the period), when last, and the best article it
    gets today (empty while it still is a gap)."""

    query: str
    searches: int
    last_searched_at: datetime
    answered_now_by_slug: str
    answered_now_by_title: str


@dataclass(frozen=True)
class SearchSummary:
    days: int
    searches: int
    gaps: int

    @property
    def gap_share(self) -> float:
        return self.gaps / self.searches if self.searches else 0.0


def _since(days: int) -> datetime:
    return clock.now() - timedelta(days=days)


def _check_days(days: int) -> int:
    from portal_app.services.errors import ValidationFailed

    if not 1 <= int(days) <= 3650:
        raise ValidationFailed("Give the period in days, from 1 to 3650.")
    return int(days)


def list_gaps(db: Session, principal: Principal, *, days: int = 90, page: int = 1, page_size: int = 25) -> Page[GapRow]:
    """Staff: the questions without a good answer in the last ``days`` days, most frequent first (the same words
    in any letter case count as one question), then most recent."""
    require_staff(principal)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    since = _since(_check_days(days))
    key = sa.func.lower(HelpSearch.query)
    where = (col(HelpSearch.is_gap).is_(True), HelpSearch.created_at >= since)
    total = db.exec(select(sa.func.count(sa.distinct(key))).where(*where)).one()
    n = sa.func.count(col(HelpSearch.id))
    last = sa.func.max(HelpSearch.created_at)
    rows = db.exec(
        select(key, n, last, sa.func.max(HelpSearch.query))
        .where(*where)
        .group_by(key)
        .order_by(n.desc(), last.desc(), key)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    out = []
    for _key, count, last_seen, shown in rows:
        latest = datetime.fromisoformat(last_seen) if isinstance(last_seen, str) else last_seen  # SQLite: text
        if latest.tzinfo is None:
            latest = latest.replace(tzinfo=clock.now().tzinfo)
        now = _rank(db, principal, shown, 1)
        answered = now[0] if now and now[0].score >= GAP_THRESHOLD else None
        out.append(
            GapRow(shown, int(count), latest, answered.slug if answered else "", answered.title if answered else "")
        )
    return Page(out, int(total), page, page_size)


def search_summary(db: Session, principal: Principal, *, days: int = 90) -> SearchSummary:
    """Staff: how many searches the last ``days`` days had, and how many of them were gaps."""
    require_staff(principal)
    since = _since(_check_days(days))
    searches, gaps = db.exec(
        select(sa.func.count(col(HelpSearch.id)),
               sa.func.sum(sa.case((col(HelpSearch.is_gap).is_(True), 1), else_=0)))
        .where(HelpSearch.created_at >= since)
    ).one()
    return SearchSummary(int(days), int(searches or 0), int(gaps or 0))
