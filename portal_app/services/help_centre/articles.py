"""Help articles: who may read which, and staff management (create, edit, publish, audience), every change audited.

Audience: anonymous visitors read public published articles; signed-in customers also read ``customers`` ones;
staff read everything, unpublished articles included (a preview before publishing). Writing needs
``Permission.MANAGE_HELP`` (ops managers and administrators). Every write checks the version the editor saw
(optimistic locking: a stale save is refused with what to do, and nothing is written) and adds one audit row with
the before and after values in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from models import HelpArticle
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import audit
from portal_app.services.errors import Conflict, ErrorCode, FormInvalid, NotFound, PermissionDenied
from portal_app.services.help_centre import render
from portal_app.services.inputs import Body
from portal_app.services.paging import Page, check_paging
from portal_app.services.versioning import update_versioned

PUBLIC = "public"
CUSTOMERS = "customers"
AUDIENCES = (PUBLIC, CUSTOMERS)
AUDIENCE_LABELS = {PUBLIC: "Everyone", CUSTOMERS: "Signed-in customers"}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
TITLE_MIN, TITLE_MAX = 3, 200
KEYWORDS_MAX = 400
BODY_MAX = 20_000
MAX_PAGE_SIZE = 100
NOTHING_SAVED = "Nothing was saved."


def audiences_for(principal: Principal | None) -> frozenset[str]:
    """The audiences someone may read: anonymous visitors only public articles, anyone signed in both."""
    return frozenset({PUBLIC}) if principal is None else frozenset(AUDIENCES)


def _is_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.can(Permission.USE_TOWER)


def require_staff(principal: Principal) -> None:
    if not _is_staff(principal):
        raise PermissionDenied(
            "The help centre's management is for the forwarder's staff. Search and read articles "
            "at /help instead. Nothing was changed.",
            code=ErrorCode.STAFF_ONLY,
        )


def require_editor(principal: Principal) -> None:
    if not principal.can(Permission.MANAGE_HELP):
        raise PermissionDenied(
            "Only ops managers and administrators can change help articles. Ask one of them to "
            "make the change. " + NOTHING_SAVED,
            code=ErrorCode.HELP_EDITORS_ONLY,
        )


# ------------------------------------------------------------------------------------------------------ DTOs


def article_url(slug: str) -> str:
    """Where an article is read."""
    return f"/help/{slug}"


@dataclass(frozen=True)
class ArticleSummary:
    """A published article in the help centre's list (the API serves this record as it is)."""

    slug: str
    title: str
    audience: str
    summary: str
    updated_at: datetime
    url: str  # the article's page, ``/help/<slug>``


@dataclass(frozen=True)
class ArticleView:
    """One article as a reader sees it: ``html`` is rendered on the server and safe to show as it is."""

    slug: str
    title: str
    audience: str
    html: str
    body_markdown: str
    is_published: bool
    updated_at: datetime


@dataclass(frozen=True)
class ArticleRow:
    """An article in the staff list (published or not)."""

    id: int
    slug: str
    title: str
    audience: str
    is_published: bool
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class ArticleEdit:
    """Everything the staff editor shows, with the version to send back on save."""

    id: int
    slug: str
    title: str
    audience: str
    keywords: str
    body_markdown: str
    is_published: bool
    updated_at: datetime
    version: int


class ArticleInput(Body, frozen=True):
    """What a staff member writes: the API's request body and what the tower's editor is parsed into. An empty
    ``slug`` on a new article is made from the title. Sizes here are the hard limits of a value; the words a
    reader gets for a title, keywords or body that is too long are :func:`_clean`'s (its limits are lower)."""

    title: str = Field(max_length=TITLE_MAX)
    body_markdown: str = Field(max_length=BODY_MAX * 2)
    slug: str = Field("", max_length=SLUG_MAX,
                      description="Lower-case letters, digits and hyphens; empty on create: made from the title")
    audience: str = Field(PUBLIC, description="public (everyone) or customers (signed-in customers only)")
    keywords: str = Field("", max_length=KEYWORDS_MAX * 2, description="Comma-separated words customers use")
    is_published: bool = False


def _edit(row: HelpArticle) -> ArticleEdit:
    assert row.id is not None  # a stored row
    return ArticleEdit(
        row.id,
        row.slug,
        row.title,
        row.audience,
        row.keywords or "",
        row.body_markdown,
        row.is_published,
        row.updated_at,
        row.version,
    )


def _snapshot(row: HelpArticle) -> dict:
    return {
        "slug": row.slug,
        "title": row.title,
        "audience": row.audience,
        "keywords": row.keywords,
        "is_published": row.is_published,
        "body_markdown": row.body_markdown,
        "version": row.version,
    }


def first_sentence(row: HelpArticle) -> str:
    parts = render.sentences(render.to_text(row.title, row.body_markdown))
    return render.shorten(parts[0] if parts else "", 180)


# ------------------------------------------------------------------------------------------------------ reading


def list_articles(
    db: Session, principal: Principal | None, *, page: int = 1, page_size: int = 50
) -> Page[ArticleSummary]:
    """The published articles this person may read, by title."""
    check_paging(page, page_size, MAX_PAGE_SIZE)
    where = [col(HelpArticle.is_published).is_(True), col(HelpArticle.audience).in_(sorted(audiences_for(principal)))]
    total = db.exec(select(sa.func.count(col(HelpArticle.id))).where(*where)).one()
    rows = db.exec(
        select(HelpArticle)
        .where(*where)
        .order_by(col(HelpArticle.title), col(HelpArticle.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(
        [ArticleSummary(r.slug, r.title, r.audience, first_sentence(r), r.updated_at, article_url(r.slug))
         for r in rows],
        int(total),
        page,
        page_size,
    )


def _not_found(slug: str, principal: Principal | None) -> NotFound:
    hint = "" if principal is not None else ", or it is only for signed-in customers (sign in and open it again)"
    return NotFound(
        f"There is no help article at “{slug[:80]}”{hint}. Search the help centre for your question instead.",
        code=ErrorCode.ARTICLE_NOT_FOUND,
    )


def get_article(db: Session, principal: Principal | None, slug: str) -> ArticleView:
    """One article to read. Unpublished articles exist only for staff (a preview); an article of an audience the
    person may not read is reported exactly like a missing one."""
    key = str(slug or "").strip().lower()[: SLUG_MAX + 40]
    row = db.exec(select(HelpArticle).where(HelpArticle.slug == key)).first()
    if row is None:
        raise _not_found(key, principal)
    if not _is_staff(principal) and (not row.is_published or row.audience not in audiences_for(principal)):
        raise _not_found(key, principal)
    return ArticleView(
        row.slug,
        row.title,
        row.audience,
        render.to_html(row.title, row.body_markdown),
        row.body_markdown,
        row.is_published,
        row.updated_at,
    )


def manage_articles(
    db: Session, principal: Principal, *, q: str = "", status: str = "", page: int = 1, page_size: int = 25
) -> Page[ArticleRow]:
    """Staff: every article, unpublished ones too; ``q`` matches title or slug; ``status`` is ``published``,
    ``draft`` or empty for both. Drafts first, then by title."""
    require_staff(principal)
    check_paging(page, page_size, MAX_PAGE_SIZE)
    where = []
    text = " ".join(str(q or "").split())[:100].lower()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            sa.or_(sa.func.lower(HelpArticle.title).like(like, escape="\\"),
                   col(HelpArticle.slug).like(like, escape="\\"))
        )
    if status == "published":
        where.append(col(HelpArticle.is_published).is_(True))
    elif status == "draft":
        where.append(col(HelpArticle.is_published).is_(False))
    total = db.exec(select(sa.func.count(col(HelpArticle.id))).where(*where)).one()
    rows = db.exec(
        select(HelpArticle)
        .where(*where)
        .order_by(col(HelpArticle.is_published), col(HelpArticle.title))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(
        [ArticleRow(r.id, r.slug, r.title, r.audience, r.is_published, r.updated_at, r.version) for r in rows
         if r.id is not None],
        int(total),
        page,
        page_size,
    )


def _row(db: Session, article_id: int) -> HelpArticle:
    row = db.get(HelpArticle, int(article_id))
    if row is None:
        raise NotFound(
            f"There is no help article #{article_id}. Reload the list of articles. {NOTHING_SAVED}",
            code=ErrorCode.ARTICLE_NOT_FOUND,
        )
    return row


def get_article_for_edit(db: Session, principal: Principal, article_id: int) -> ArticleEdit:
    require_staff(principal)
    return _edit(_row(db, article_id))


# ------------------------------------------------------------------------------------------------------ writing


def slugify(title: str) -> str:
    """A slug from a title: "Change the delivery address!" -> "change-the-delivery-address"."""
    from portal_app.services.help_centre.text import words

    return "-".join(words(title))[:SLUG_MAX].strip("-")


def _clean(data: ArticleInput, problems: dict[str, str], *, new: bool) -> dict:
    title = " ".join(str(data.title or "").split())
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        problems["title"] = f"give a title of {TITLE_MIN} to {TITLE_MAX} characters"
    slug = str(data.slug or "").strip().lower()
    if not slug and new:
        slug = slugify(title)
    if not slug:
        problems["slug"] = "give a slug: lower-case letters, digits and single hyphens, e.g. change-delivery-address"
    elif len(slug) > SLUG_MAX or not SLUG.match(slug):
        problems["slug"] = (
            f"use lower-case letters, digits and single hyphens only (no spaces, at most {SLUG_MAX} "
            "characters), e.g. change-delivery-address"
        )
    audience = str(data.audience or "").strip().lower()
    if audience not in AUDIENCES:
        problems["audience"] = "choose public (everyone, signed out too) or customers (signed-in customers only)"
    keywords = ", ".join(
        dict.fromkeys(k.strip() for k in str(data.keywords or "").replace("\n", ",").split(",") if k.strip())
    )
    if len(keywords) > KEYWORDS_MAX:
        problems["keywords"] = f"keep the keywords under {KEYWORDS_MAX} characters (now {len(keywords)})"
    body = str(data.body_markdown or "").replace("\r\n", "\n").strip()
    if not body:
        problems["body_markdown"] = "write the article (Markdown)"
    elif len(body) > BODY_MAX:
        problems["body_markdown"] = f"keep the article under {BODY_MAX} characters (now {len(body)}); split it in two"
    if not isinstance(data.is_published, bool):
        problems["is_published"] = "give true or false"
    return {
        "title": title,
        "slug": slug,
        "audience": audience,
        "keywords": keywords or None,
        "body_markdown": body,
        "is_published": data.is_published,
    }


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        first = "; ".join(f"{k}: {v}" for k, v in list(problems.items())[:3])
        raise FormInvalid(f"The article was not saved: {first}. Correct the marked fields. {NOTHING_SAVED}", problems)


def _slug_taken(db: Session, slug: str, article_id: int | None) -> None:
    other = db.exec(select(HelpArticle.id).where(HelpArticle.slug == slug)).first()
    if other is not None and other != article_id:
        raise FormInvalid(
            f"The article was not saved: the slug “{slug}” belongs to another article. Choose another "
            f"slug. {NOTHING_SAVED}",
            {"slug": "another article has this slug; choose another"},
            code=ErrorCode.SLUG_TAKEN,
        )


def _stale(row: HelpArticle, expected: int) -> Conflict:
    return Conflict(
        f"“{row.title}” was changed by someone else after you opened it (you had version {expected}, "
        f"it is now {row.version}). Reload the article and make your change again. {NOTHING_SAVED}",
        code=ErrorCode.EDIT_CONFLICT,
    )


def create_article(db: Session, principal: Principal, data: ArticleInput) -> ArticleEdit:
    require_editor(principal)
    problems: dict[str, str] = {}
    values = _clean(data, problems, new=True)
    _refuse(problems)
    _slug_taken(db, values["slug"], None)
    row = HelpArticle(**values)
    db.add(row)
    try:
        db.flush()
    except sa.exc.IntegrityError:  # the same slug saved by someone else a moment ago
        db.rollback()
        _slug_taken(db, values["slug"], None)
        raise
    audit.record(db, principal, "help_article_created", "help_article", row.id, None, None, _snapshot(row))
    db.commit()
    return _edit(row)


def _write(
    db: Session, principal: Principal, row: HelpArticle, values: dict, expected_version: int | None, action: str
) -> ArticleEdit:
    if expected_version is None:
        raise FormInvalid(
            "The article was not saved: send the version you edited (expected_version), so a change "
            f"made meanwhile is not overwritten. {NOTHING_SAVED}",
            {"expected_version": "send the version you opened"},
        )
    expected = int(expected_version)
    assert row.id is not None  # a stored row
    if row.version != expected:
        raise _stale(row, expected)
    before = _snapshot(row)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return _edit(row)
    try:
        update_versioned(db, HelpArticle, row, expected, "", **changed)
    except Conflict:
        raise _stale(_row(db, row.id), expected) from None
    except sa.exc.IntegrityError:
        db.rollback()
        _slug_taken(db, values.get("slug", row.slug), row.id)
        raise
    audit.record(db, principal, action, "help_article", row.id, None, before, _snapshot(row))
    db.commit()
    return _edit(row)


def update_article(
    db: Session, principal: Principal, article_id: int, data: ArticleInput, *, expected_version: int | None
) -> ArticleEdit:
    """Replace an article's title, slug (empty: unchanged), audience, keywords, body and published flag."""
    require_editor(principal)
    row = _row(db, article_id)
    if not str(data.slug or "").strip():  # no slug given: the article keeps its address
        data = data.model_copy(update={"slug": row.slug})
    problems: dict[str, str] = {}
    values = _clean(data, problems, new=False)
    _refuse(problems)
    _slug_taken(db, values["slug"], row.id)
    return _write(db, principal, row, values, expected_version, "help_article_updated")


def set_published(
    db: Session, principal: Principal, article_id: int, published: bool, *, expected_version: int | None
) -> ArticleEdit:
    """Publish (readers see it, search finds it) or unpublish (only staff see it) an article."""
    require_editor(principal)
    if not isinstance(published, bool):
        _refuse({"published": "give true or false"})
    row = _row(db, article_id)
    return _write(
        db,
        principal,
        row,
        {"is_published": published},
        expected_version,
        "help_article_published" if published else "help_article_unpublished",
    )


def set_audience(
    db: Session, principal: Principal, article_id: int, audience: str, *, expected_version: int | None
) -> ArticleEdit:
    """Show an article to everyone (``public``) or to signed-in customers only (``customers``)."""
    require_editor(principal)
    value = str(audience or "").strip().lower()
    if value not in AUDIENCES:
        _refuse({"audience": "choose public (everyone, signed out too) or customers (signed-in customers only)"})
    row = _row(db, article_id)
    return _write(db, principal, row, {"audience": value}, expected_version, "help_article_audience")


def preview(principal: Principal, title: str, body_markdown: str) -> str:
    """Staff: the HTML an article body would show, before saving it."""
    require_staff(principal)
    return render.to_html(" ".join(str(title or "").split()), str(body_markdown or "")[:BODY_MAX])
