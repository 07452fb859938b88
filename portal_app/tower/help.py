"""Tower: the help centre's articles and the questions customers searched without a good answer.

Every member of staff reads the list (drafts too) and the gaps; writing, publishing and the audience are for ops
managers and administrators (``Permission.MANAGE_HELP``), and the service refuses anyone else whatever the page
shows. The editor saves only over the version it opened: when someone saved in between, nothing is written and
the page says so, keeping what was typed. Below the Markdown the editor shows the article as readers will see it,
rendered on the server by the same code as the reader's page, each time the text field loses focus.
"""

from __future__ import annotations

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.components.formatting import fmt_date
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    ACCENT,
    BUTTON_STYLE,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    error_callout,
    info_callout,
    pager,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import checked_input, field_error, filter_form, native_select
from portal_app.services import help_centre as svc
from portal_app.services.errors import Conflict, FormInvalid, ServiceError
from portal_app.services.help_centre import render
from portal_app.services.help_centre.articles import BODY_MAX, KEYWORDS_MAX, SLUG_MAX, TITLE_MAX
from portal_app.tower.config_base import form_bool, form_text
from portal_app.ui.session import SessionState, run_db

PAGE_SIZE = 25
GAP_PAGE_SIZE = 15
GAP_DAYS = 90
STATUS_CHOICES = [("", "Published and drafts"), ("published", "Published"), ("draft", "Drafts")]
AUDIENCE_CHOICES = [(a, svc.AUDIENCE_LABELS[a]) for a in svc.AUDIENCES]
EDITORS_ONLY = (
    "Articles are written and published by ops managers and administrators. You can read them and the "
    "questions without an answer here."
)
BLANK = {"title": "", "slug": "", "audience": "public", "keywords": "", "body_markdown": "", "published": ""}


def _preview(title: str, markdown: str) -> str:
    return render.to_html(title, markdown) if markdown.strip() else ""


def _page(db, principal, q: str, status: str, page: int, gap_page: int):  # noqa: ANN001, ANN202
    return (
        svc.manage_articles(db, principal, q=q, status=status, page=page, page_size=PAGE_SIZE),
        svc.list_gaps(db, principal, days=GAP_DAYS, page=gap_page, page_size=GAP_PAGE_SIZE),
        svc.search_summary(db, principal, days=GAP_DAYS),
    )


class TowerHelpState(SessionState):
    rows: list[dict[str, str]] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    gaps: list[dict[str, str]] = []
    gap_page: int = 1
    gap_pages: int = 1
    gap_total: int = 0
    summary: str = ""
    filter_q: str = ""
    filter_status: str = ""
    filter_key: int = 0
    can_edit: bool = False
    editing: str = ""  # "" (closed), "new", or the title of the article being edited
    edit: dict[str, str] = dict(BLANK)
    preview_html: str = ""
    form_key: int = 0
    field_errors: dict[str, str] = {}
    conflict: bool = False
    notice: str = ""
    error: str = ""
    _edit_id: int = 0
    _edit_version: int = 0
    _versions: dict[str, int] = {}

    async def _staff(self):  # noqa: ANN202
        principal = await self._authorize("tower")
        if principal is not None:
            self.can_edit = principal.can(Permission.MANAGE_HELP)
        return principal

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
            {
                "id": str(r.id),
                "title": r.title,
                "slug": r.slug,
                "href": f"/help/{r.slug}",
                "audience": svc.AUDIENCE_LABELS.get(r.audience, r.audience),
                "status": "Published" if r.is_published else "Draft",
                "published": "yes" if r.is_published else "",
                "updated": fmt_date(r.updated_at),
            }
            for r in articles.rows
        ]
        self._versions = {str(r.id): r.version for r in articles.rows}
        self.total, self.pages = articles.total, articles.pages
        self.gaps = [
            {
                "query": g.query,
                "searches": str(g.searches),
                "last": fmt_date(g.last_searched_at),
                "answer_title": g.answered_now_by_title,
                "answer_href": f"/help/{g.answered_now_by_slug}" if g.answered_now_by_slug else "",
            }
            for g in gaps.rows
        ]
        self.gap_total, self.gap_pages = gaps.total, gaps.pages
        share = f" ({summary.gap_share:.0%})" if summary.searches else ""
        self.summary = (
            f"{summary.searches} searches in the last {summary.days} days; {summary.gaps} of them found no "
            f"good answer{share}."
        )

    async def load(self):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        self.page, self.gap_page, self.notice, self.error = 1, 1, "", ""
        self.editing, self.field_errors, self.conflict = "", {}, False
        await self._fetch(principal)
        return None

    async def go_to_page(self, delta: int):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        step = int(delta) if str(delta).lstrip("-").isdigit() else 0
        self.page = max(1, min(self.pages, self.page + step))
        await self._fetch(principal)
        return None

    async def go_to_gap_page(self, delta: int):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        step = int(delta) if str(delta).lstrip("-").isdigit() else 0
        self.gap_page = max(1, min(self.gap_pages, self.gap_page + step))
        await self._fetch(principal)
        return None

    async def apply_filters(self, form: dict):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        status = form_text(form, "status", 20)
        self.filter_q = form_text(form, "q", 100)
        self.filter_status = status if status in ("published", "draft") else ""
        self.page = 1
        await self._fetch(principal)
        return None

    async def clear_filters(self):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        self.filter_q, self.filter_status, self.page = "", "", 1
        self.filter_key += 1
        await self._fetch(principal)
        return None

    def _open(self, label: str, values: dict[str, str], article_id: int = 0, version: int = 0) -> None:
        self.editing, self.edit = label, values
        self.preview_html = _preview(values["title"], values["body_markdown"])
        self._edit_id, self._edit_version = article_id, version
        self.field_errors, self.conflict, self.notice, self.error = {}, False, "", ""
        self.form_key += 1

    async def new_article(self):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        self._open("new", dict(BLANK))
        return None

    async def write_for_gap(self, query: str):  # noqa: ANN201
        """A new article that starts from a question customers asked (the question only fills in the form)."""
        principal = await self._staff()
        if principal is None:
            return self._refused()
        text = " ".join(str(query or "").split())[:TITLE_MAX]
        self._open("new", {**BLANK, "title": text[:1].upper() + text[1:], "keywords": text[:KEYWORDS_MAX]})
        return None

    async def edit_article(self, article_id: str):  # noqa: ANN201
        """``article_id`` only names a row of the list; the service reads the article and checks the caller."""
        principal = await self._staff()
        if principal is None:
            return self._refused()
        if not str(article_id).isdigit():
            self.error = "That article is not in the list. Reload the page; nothing changed."
            return None
        await self._load_editor(principal, int(article_id))
        return None

    async def _load_editor(self, principal, article_id: int) -> None:  # noqa: ANN001
        try:
            a = await run_db(svc.get_article_for_edit, principal, article_id)
        except ServiceError as exc:
            self.error = exc.message
            return
        self._open(
            a.title,
            {
                "title": a.title,
                "slug": a.slug,
                "audience": a.audience,
                "keywords": a.keywords,
                "body_markdown": a.body_markdown,
                "published": "yes" if a.is_published else "",
            },
            a.id,
            a.version,
        )

    async def reload_article(self):  # noqa: ANN201
        """After a conflict: open the version saved meanwhile (what was typed here is discarded)."""
        principal = await self._staff()
        if principal is None:
            return self._refused()
        if self._edit_id:
            await self._load_editor(principal, self._edit_id)
        return None

    async def preview(self, markdown: str):  # noqa: ANN201
        """The text typed so far, as readers will see it (nothing is saved)."""
        principal = await self._staff()
        if principal is None:
            return self._refused()
        if self.editing:
            self.preview_html = _preview(self.edit["title"], str(markdown or "")[: BODY_MAX * 2])
        return None

    async def close_editor(self):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        self.editing, self.field_errors, self.conflict = "", {}, False
        return None

    async def save(self, form: dict):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        if not self.editing:
            return None
        data = svc.ArticleInput(
            title=form_text(form, "title", TITLE_MAX * 2),
            slug=form_text(form, "slug", SLUG_MAX * 2),
            audience=form_text(form, "audience", 20),
            keywords=form_text(form, "keywords", KEYWORDS_MAX * 2),
            body_markdown=str(form.get("body_markdown", "") or "")[: BODY_MAX * 2],
            is_published=form_bool(form.get("is_published")),
        )
        try:
            if self.editing == "new":
                saved = await run_db(svc.create_article, principal, data)
            else:
                saved = await run_db(
                    svc.update_article, principal, self._edit_id, data, expected_version=self._edit_version
                )
        except FormInvalid as exc:
            self.notice, self.error, self.field_errors, self.conflict = "", exc.message, dict(exc.fields), False
            return None
        except Conflict as exc:
            self.notice, self.error, self.field_errors, self.conflict = "", exc.message, {}, True
            return None
        except ServiceError as exc:
            self.notice, self.error, self.field_errors, self.conflict = "", exc.message, {}, False
            return None
        self.editing, self.field_errors, self.conflict, self.error = "", {}, False, ""
        self.notice = (
            f"Saved “{saved.title}”: published, readers see it now at /help/{saved.slug}."
            if saved.is_published
            else f"Saved “{saved.title}” as a draft: only staff see it until it is published."
        )
        await self._fetch(principal)
        return None

    async def toggle_published(self, article_id: str):  # noqa: ANN201
        principal = await self._staff()
        if principal is None:
            return self._refused()
        row = next((r for r in self.rows if r["id"] == str(article_id)), None)
        if row is None:
            self.error = "That article is not in the list. Reload the page; nothing changed."
            return None
        publish = row["published"] != "yes"
        try:
            await run_db(
                svc.set_published, principal, int(row["id"]), publish, expected_version=self._versions.get(row["id"])
            )
        except ServiceError as exc:
            self.notice, self.error = "", exc.message
        else:
            self.error = ""
            self.notice = (
                f"Published “{row['title']}”: readers see it now."
                if publish
                else f"Unpublished “{row['title']}”: only staff see it now."
            )
        await self._fetch(principal)
        return None


# ------------------------------------------------------------------------------------------------ view


def _article_row(row: rx.Var) -> rx.Component:
    s = TowerHelpState
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link(row["title"], href=row["href"], color=ACCENT, weight="medium", underline="always"), scope="row"
        ),
        rx.table.cell(rx.el.code(row["slug"])),
        rx.table.cell(row["audience"]),
        rx.table.cell(
            rx.badge(
                row["status"],
                color_scheme=rx.cond(row["published"] == "yes", "green", "gray"),
                variant="soft",
                high_contrast=True,
            )
        ),
        rx.table.cell(row["updated"], white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                s.can_edit,
                rx.hstack(
                    secondary_button(
                        "Edit", size="1", aria_label="Edit " + row["title"], on_click=s.edit_article(row["id"])
                    ),
                    secondary_button(
                        rx.cond(row["published"] == "yes", "Unpublish", "Publish"),
                        size="1",
                        aria_label=rx.cond(row["published"] == "yes", "Unpublish ", "Publish ") + row["title"],
                        on_click=s.toggle_published(row["id"]),
                    ),
                    spacing="2",
                ),
                rx.text("—", color=MUTED_TEXT),
            ),
            white_space="nowrap",
        ),
    )


def _gap_row(row: rx.Var) -> rx.Component:
    s = TowerHelpState
    return rx.table.row(
        rx.table.row_header_cell(row["query"], scope="row"),
        rx.table.cell(row["searches"]),
        rx.table.cell(row["last"], white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                row["answer_href"] != "",
                rx.link(row["answer_title"], href=row["answer_href"], color=ACCENT, underline="always"),
                rx.text("No article yet", color=MUTED_TEXT),
            )
        ),
        rx.table.cell(
            rx.cond(
                s.can_edit,
                secondary_button(
                    "Write an article",
                    size="1",
                    aria_label="Write an article for: " + row["query"],
                    on_click=s.write_for_gap(row["query"]),
                ),
                rx.fragment(),
            )
        ),
    )


def _filters() -> rx.Component:
    s = TowerHelpState
    return filter_form(
        rx.hstack(
            rx.box(
                rx.el.label("Title or slug", html_for="help-filter-q", style=LABEL_STYLE),
                rx.el.input(
                    id="help-filter-q",
                    name="q",
                    default_value=s.filter_q,
                    type="search",
                    style={**NATIVE_SELECT_STYLE, "width": "100%"},
                ),
                flex="2",
                min_width="12rem",
            ),
            rx.box(
                native_select(
                    "Status", "status", STATUS_CHOICES, value=s.filter_status, select_id="help-filter-status"
                ),
                flex="1",
                min_width="10rem",
            ),
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        s,
        "Filter articles",
        key=s.filter_key,
    )


def _editor() -> rx.Component:
    s = TowerHelpState
    errors = s.field_errors
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading(
                    rx.cond(s.editing == "new", "New article", "Edit article: " + s.editing), size="5", as_="h2"
                ),
                rx.cond(
                    s.conflict,
                    rx.hstack(
                        rx.text("Your text is still in the form below.", size="2"),
                        secondary_button("Load the latest version", type="button", size="1", on_click=s.reload_article),
                        align="center",
                        spacing="3",
                        wrap="wrap",
                    ),
                    rx.fragment(),
                ),
                checked_input(
                    "Title",
                    "title",
                    errors,
                    input_id="help-title",
                    default_value=s.edit["title"],
                    required=True,
                    max_length=TITLE_MAX,
                ),
                checked_input(
                    "Slug (the article's address)",
                    "slug",
                    errors,
                    input_id="help-slug",
                    default_value=s.edit["slug"],
                    max_length=SLUG_MAX,
                    hint="Lower-case letters, digits and hyphens, e.g. change-delivery-address. Leave "
                    "empty on a new article to make it from the title.",
                ),
                native_select(
                    "Who can read it",
                    "audience",
                    AUDIENCE_CHOICES,
                    value=s.edit["audience"],
                    select_id="help-audience",
                    errors=errors,
                ),
                checked_input(
                    "Keywords",
                    "keywords",
                    errors,
                    input_id="help-keywords",
                    default_value=s.edit["keywords"],
                    hint="Comma-separated words customers use that the text may not, e.g. where is my "
                    "container, box, BL. They count three times as much as the body in search.",
                ),
                rx.box(
                    rx.el.label("Article (Markdown)", html_for="help-body", style=LABEL_STYLE),
                    rx.el.textarea(
                        id="help-body",
                        name="body_markdown",
                        default_value=s.edit["body_markdown"],
                        rows=16,
                        required=True,
                        aria_describedby="help-body-hint help-body-error",
                        aria_invalid=rx.cond(errors.contains("body_markdown"), "true", "false"),
                        on_blur=s.preview,
                        style={
                            "width": "100%",
                            "font_family": "monospace",
                            "padding": "8px",
                            "border": "1px solid #8b949e",
                            "border_radius": "6px",
                        },
                    ),
                    rx.text(
                        "Headings with #, lists with *, links as [text](https://…). HTML is shown as text, never run.",
                        id="help-body-hint",
                        size="1",
                        color=MUTED_TEXT,
                    ),
                    field_error(errors, "body_markdown", "help-body-error"),
                    width="100%",
                ),
                rx.el.section(
                    rx.heading("Preview", size="3", as_="h3", id="help-preview-heading"),
                    rx.cond(
                        s.preview_html != "",
                        rx.el.div(rx.html(s.preview_html), class_name="help-article"),
                        rx.text("The article appears here as readers will see it once you write it.", size="2",
                                color=MUTED_TEXT),
                    ),
                    aria_labelledby="help-preview-heading",
                    aria_live="polite",
                    data_testid="help-preview",
                    style={"border": "1px dashed #8b949e", "border_radius": "6px", "padding": "12px",
                           "background": "white", "width": "100%"},
                ),
                rx.el.label(
                    rx.el.input(
                        type="checkbox",
                        name="is_published",
                        id="help-published",
                        default_checked=s.edit["published"] == "yes",
                    ),
                    " Published (readers see it and search finds it)",
                    html_for="help-published",
                    style={"display": "flex", "gap": "6px", "align_items": "center"},
                ),
                rx.hstack(
                    rx.button("Save article", type="submit", style=BUTTON_STYLE, cursor="pointer"),
                    secondary_button("Cancel", type="button", on_click=s.close_editor),
                    spacing="3",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=s.save,
            reset_on_submit=False,
            key=s.form_key,
            aria_label="Article editor",
        ),
        width="100%",
        data_testid="help-editor",
    )


def _table(caption: str, headers: list[str], rows: rx.Var, row, empty: str) -> rx.Component:  # noqa: ANN001
    return rx.cond(
        rows.length() > 0,
        rx.table.root(
            table_caption(caption),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface",
            width="100%",
        ),
        rx.text(empty, color=MUTED_TEXT),
    )


@area_page("tower", "/tower/help", "Help centre", TowerHelpState.load)
def tower_help() -> rx.Component:
    s = TowerHelpState
    return rx.vstack(
        rx.heading("Help centre", size="7", as_="h1"),
        rx.text(
            "The articles customers read at ",
            rx.link("/help", href="/help", color=ACCENT, underline="always"),
            ", and what they searched for without finding a good answer.",
            color=MUTED_TEXT,
        ),
        rx.cond(s.notice != "", info_callout(s.notice, data_testid="help-notice"), rx.fragment()),
        rx.cond(s.error != "", error_callout(s.error, data_testid="help-error"), rx.fragment()),
        rx.cond(s.editing != "", _editor(), rx.fragment()),
        rx.el.section(
            rx.hstack(
                rx.heading("Articles", size="5", as_="h2", id="help-articles-heading"),
                rx.cond(
                    s.can_edit,
                    rx.button("New article", style=BUTTON_STYLE, cursor="pointer", on_click=s.new_article),
                    rx.fragment(),
                ),
                align="center",
                justify="between",
                width="100%",
            ),
            rx.cond(s.can_edit, rx.fragment(), rx.text(EDITORS_ONLY, size="2", color=MUTED_TEXT)),
            _filters(),
            _table(
                "Help articles",
                ["Title", "Slug", "Who can read it", "Status", "Updated", "Actions"],
                s.rows,
                _article_row,
                "No article matches these filters.",
            ),
            pager(s),
            aria_labelledby="help-articles-heading",
            style={"display": "flex", "flex_direction": "column", "gap": "12px", "width": "100%"},
        ),
        rx.el.section(
            rx.heading("Questions without a good answer", size="5", as_="h2", id="help-gaps-heading"),
            rx.text(s.summary, color=MUTED_TEXT, size="2"),
            _table(
                "Questions without a good answer",
                ["Question", "Times asked", "Last asked", "Best article today", "Action"],
                s.gaps,
                _gap_row,
                f"No unanswered questions in the last {GAP_DAYS} days.",
            ),
            rx.hstack(
                secondary_button("Previous questions", on_click=s.go_to_gap_page(-1), disabled=s.gap_page <= 1),
                rx.text("Page ", s.gap_page, " of ", s.gap_pages),
                secondary_button("More questions", on_click=s.go_to_gap_page(1), disabled=s.gap_page >= s.gap_pages),
                align="center",
            ),
            aria_labelledby="help-gaps-heading",
            style={"display": "flex", "flex_direction": "column", "gap": "12px", "width": "100%"},
        ),
        spacing="5",
        width="100%",
    )
