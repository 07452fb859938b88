"""Tower help centre: the page's state (the articles, the unanswered questions, the editor)."""

from __future__ import annotations

from dataclasses import dataclass

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_date
from portal_app.services import help_centre as svc
from portal_app.services.errors import Conflict, FormInvalid, ServiceError
from portal_app.services.help_centre import render
from portal_app.services.help_centre.articles import BODY_MAX, KEYWORDS_MAX, SLUG_MAX, TITLE_MAX
from portal_app.services.inputs import parse
from portal_app.tower.config_base import form_bool, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

PAGE_SIZE = 25
GAP_PAGE_SIZE = 15
GAP_DAYS = 90
STATUS_CHOICES = [("", "Published and drafts"), ("published", "Published"), ("draft", "Drafts")]
AUDIENCE_CHOICES = [(a, svc.AUDIENCE_LABELS[a]) for a in svc.AUDIENCES]
EDITORS_ONLY = (
    "Articles are written and published by ops managers and administrators. You can read them and the "
    "questions without an answer here."
)


@dataclass(frozen=True)
class ArticleRow:
    """One article of the list."""

    id: str
    title: str
    slug: str
    href: str
    audience: str
    status: str
    published: str
    updated: str


@dataclass(frozen=True)
class GapRow:
    """A question customers searched without a good answer, and the best article for it today."""

    query: str
    searches: str
    last: str
    answer_title: str
    answer_href: str


@dataclass(frozen=True)
class ArticleDraft:
    """What the editor opens with."""

    title: str = ""
    slug: str = ""
    audience: str = "public"
    keywords: str = ""
    body_markdown: str = ""
    published: str = ""


BLANK = ArticleDraft()


def _preview(title: str, markdown: str) -> str:
    return render.to_html(title, markdown) if markdown.strip() else ""


def _page(db, principal, q: str, status: str, page: int, gap_page: int):  # noqa: ANN001, ANN202
    return (
        svc.manage_articles(db, principal, q=q, status=status, page=page, page_size=PAGE_SIZE),
        svc.list_gaps(db, principal, days=GAP_DAYS, page=gap_page, page_size=GAP_PAGE_SIZE),
        svc.search_summary(db, principal, days=GAP_DAYS),
    )


class TowerHelpState(SessionState):
    rows: list[ArticleRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    gaps: list[GapRow] = []
    gap_page: int = 1
    gap_pages: int = 1
    gap_total: int = 0
    summary: str = ""
    filter_q: str = ""
    filter_status: str = ""
    filter_key: int = 0
    can_edit: bool = False
    editing: str = ""  # "" (closed), "new", or the title of the article being edited
    edit: ArticleDraft = BLANK
    preview_html: str = ""
    form_key: int = 0
    field_errors: dict[str, str] = {}
    conflict: bool = False
    notice: str = ""
    error: str = ""
    _edit_id: int = 0
    _edit_version: int = 0
    _versions: dict[str, int] = {}

    def _staff(self, principal: Principal) -> None:
        """What the page offers this member of staff (the service decides what they may do)."""
        self.can_edit = principal.can(Permission.MANAGE_HELP)

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        try:
            articles, gaps, summary = await run_db(
                _page, principal, self.filter_q, self.filter_status, self.page, self.gap_page
            )
        except ServiceError as exc:
            self.error = exc.message
            return
        if articles.page > articles.pages > 0 and articles.page > 1:
            self.page = articles.pages
            await self._fetch(principal)
            return
        self.rows = [
            ArticleRow(
                id=str(r.id),
                title=r.title,
                slug=r.slug,
                href=routes.link(routes.HELP_ARTICLE, slug=r.slug),
                audience=svc.AUDIENCE_LABELS.get(r.audience, r.audience),
                status="Published" if r.is_published else "Draft",
                published="yes" if r.is_published else "",
                updated=fmt_date(r.updated_at),
            )
            for r in articles.rows
        ]
        self._versions = {str(r.id): r.version for r in articles.rows}
        self.total, self.pages = articles.total, articles.pages
        self.gaps = [
            GapRow(
                query=g.query,
                searches=str(g.searches),
                last=fmt_date(g.last_searched_at),
                answer_title=g.answered_now_by_title,
                answer_href=routes.link(routes.HELP_ARTICLE, slug=g.answered_now_by_slug)
                if g.answered_now_by_slug else "",
            )
            for g in gaps.rows
        ]
        self.gap_total, self.gap_pages = gaps.total, gaps.pages
        share = f" ({summary.gap_share:.0%})" if summary.searches else ""
        self.summary = (
            f"{summary.searches} searches in the last {summary.days} days; {summary.gaps} of them found no "
            f"good answer{share}."
        )

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        self._staff(principal)
        self.page, self.gap_page, self.notice, self.error = 1, 1, "", ""
        self.editing, self.field_errors, self.conflict = "", {}, False
        await self._fetch(principal)

    @page_event("tower")
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        self._staff(principal)
        step = int(delta) if str(delta).lstrip("-").isdigit() else 0
        self.page = max(1, min(self.pages, self.page + step))
        await self._fetch(principal)

    @page_event("tower")
    async def go_to_gap_page(self, principal: Principal, delta: int) -> None:
        self._staff(principal)
        step = int(delta) if str(delta).lstrip("-").isdigit() else 0
        self.gap_page = max(1, min(self.gap_pages, self.gap_page + step))
        await self._fetch(principal)

    @page_event("tower")
    async def apply_filters(self, principal: Principal, form: dict) -> None:
        self._staff(principal)
        status = form_text(form, "status", 20)
        self.filter_q = form_text(form, "q", 100)
        self.filter_status = status if status in ("published", "draft") else ""
        self.page = 1
        await self._fetch(principal)

    @page_event("tower")
    async def clear_filters(self, principal: Principal) -> None:
        self._staff(principal)
        self.filter_q, self.filter_status, self.page = "", "", 1
        self.filter_key += 1
        await self._fetch(principal)

    def _open(self, label: str, values: ArticleDraft, article_id: int = 0, version: int = 0) -> None:
        self.editing, self.edit = label, values
        self.preview_html = _preview(values.title, values.body_markdown)
        self._edit_id, self._edit_version = article_id, version
        self.field_errors, self.conflict, self.notice, self.error = {}, False, "", ""
        self.form_key += 1

    @page_event("tower")
    async def new_article(self, principal: Principal) -> None:
        self._staff(principal)
        self._open("new", BLANK)

    @page_event("tower")
    async def write_for_gap(self, principal: Principal, query: str) -> None:
        """A new article that starts from a question customers asked (the question only fills in the form)."""
        self._staff(principal)
        text = " ".join(str(query or "").split())[:TITLE_MAX]
        self._open("new", ArticleDraft(title=text[:1].upper() + text[1:], keywords=text[:KEYWORDS_MAX]))

    @page_event("tower")
    async def edit_article(self, principal: Principal, article_id: str) -> None:
        """``article_id`` only names a row of the list; the service reads the article and checks the caller."""
        self._staff(principal)
        if not str(article_id).isdigit():
            self.error = "That article is not in the list. Reload the page; nothing changed."
            return
        await self._load_editor(principal, int(article_id))

    async def _load_editor(self, principal, article_id: int) -> None:  # noqa: ANN001
        try:
            a = await run_db(svc.get_article_for_edit, principal, article_id)
        except ServiceError as exc:
            self.error = exc.message
            return
        self._open(
            a.title,
            ArticleDraft(
                title=a.title,
                slug=a.slug,
                audience=a.audience,
                keywords=a.keywords,
                body_markdown=a.body_markdown,
                published="yes" if a.is_published else "",
            ),
            a.id,
            a.version,
        )

    @page_event("tower")
    async def reload_article(self, principal: Principal) -> None:
        """After a conflict: open the version saved meanwhile (what was typed here is discarded)."""
        self._staff(principal)
        if self._edit_id:
            await self._load_editor(principal, self._edit_id)

    @page_event("tower")
    async def preview(self, principal: Principal, markdown: str) -> None:
        """The text typed so far, as readers will see it (nothing is saved)."""
        self._staff(principal)
        if self.editing:
            self.preview_html = _preview(self.edit.title, str(markdown or "")[: BODY_MAX * 2])

    @page_event("tower")
    async def close_editor(self, principal: Principal) -> None:
        self._staff(principal)
        self.editing, self.field_errors, self.conflict = "", {}, False

    @page_event("tower")
    async def save(self, principal: Principal, form: dict) -> None:
        self._staff(principal)
        if not self.editing:
            return
        try:
            data = parse(svc.ArticleInput, {
                "title": form_text(form, "title", TITLE_MAX * 2),
                "slug": form_text(form, "slug", SLUG_MAX * 2),
                "audience": form_text(form, "audience", 20),
                "keywords": form_text(form, "keywords", KEYWORDS_MAX * 4),
                "body_markdown": str(form.get("body_markdown", "") or "")[: BODY_MAX * 4],
                "is_published": form_bool(form.get("is_published")),
            })
            if self.editing == "new":
                saved = await run_db(svc.create_article, principal, data)
            else:
                saved = await run_db(
                    svc.update_article, principal, self._edit_id, data, expected_version=self._edit_version
                )
        except FormInvalid as exc:
            self.notice, self.error, self.field_errors, self.conflict = "", exc.message, dict(exc.fields), False
            return
        except Conflict as exc:
            self.notice, self.error, self.field_errors, self.conflict = "", exc.message, {}, True
            return
        except ServiceError as exc:
            self.notice, self.error, self.field_errors, self.conflict = "", exc.message, {}, False
            return
        self.editing, self.field_errors, self.conflict, self.error = "", {}, False, ""
        address = routes.link(routes.HELP_ARTICLE, slug=saved.slug)
        self.notice = (
            f"Saved “{saved.title}”: published, readers see it now at {address}."
            if saved.is_published
            else f"Saved “{saved.title}” as a draft: only staff see it until it is published."
        )
        await self._fetch(principal)

    @page_event("tower")
    async def toggle_published(self, principal: Principal, article_id: str) -> None:
        self._staff(principal)
        row = next((r for r in self.rows if r.id == str(article_id)), None)
        if row is None:
            self.error = "That article is not in the list. Reload the page; nothing changed."
            return
        publish = row.published != "yes"
        try:
            await run_db(
                svc.set_published, principal, int(row.id), publish, expected_version=self._versions.get(row.id)
            )
        except ServiceError as exc:
            self.notice, self.error = "", exc.message
        else:
            self.error = ""
            self.notice = (
                f"Published “{row.title}”: readers see it now."
                if publish
                else f"Unpublished “{row.title}”: only staff see it now."
            )
        await self._fetch(principal)
