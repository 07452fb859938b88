"""Tower help centre: the page."""

from __future__ import annotations

import reflex as rx

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
from portal_app.services.help_centre.articles import SLUG_MAX, TITLE_MAX
from portal_app.tower.help.state import (
    AUDIENCE_CHOICES,
    EDITORS_ONLY,
    GAP_DAYS,
    STATUS_CHOICES,
    TowerHelpState,
)
from portal_app.ui import routes

# ------------------------------------------------------------------------------------------------ view


def _article_row(row: rx.Var) -> rx.Component:
    s = TowerHelpState
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link(row.title, href=row.href, color=ACCENT, weight="medium", underline="always"), scope="row"
        ),
        rx.table.cell(rx.el.code(row.slug)),
        rx.table.cell(row.audience),
        rx.table.cell(
            rx.badge(
                row.status,
                color_scheme=rx.cond(row.published == "yes", "green", "gray"),
                variant="soft",
                high_contrast=True,
            )
        ),
        rx.table.cell(row.updated, white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                s.can_edit,
                rx.hstack(
                    secondary_button(
                        "Edit", size="1", aria_label="Edit " + row.title, on_click=s.edit_article(row.id)
                    ),
                    secondary_button(
                        rx.cond(row.published == "yes", "Unpublish", "Publish"),
                        size="1",
                        aria_label=rx.cond(row.published == "yes", "Unpublish ", "Publish ") + row.title,
                        on_click=s.toggle_published(row.id),
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
        rx.table.row_header_cell(row.query, scope="row"),
        rx.table.cell(row.searches),
        rx.table.cell(row.last, white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                row.answer_href != "",
                rx.link(row.answer_title, href=row.answer_href, color=ACCENT, underline="always"),
                rx.text("No article yet", color=MUTED_TEXT),
            )
        ),
        rx.table.cell(
            rx.cond(
                s.can_edit,
                secondary_button(
                    "Write an article",
                    size="1",
                    aria_label="Write an article for: " + row.query,
                    on_click=s.write_for_gap(row.query),
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
                    default_value=s.edit.title,
                    required=True,
                    max_length=TITLE_MAX,
                ),
                checked_input(
                    "Slug (the article's address)",
                    "slug",
                    errors,
                    input_id="help-slug",
                    default_value=s.edit.slug,
                    max_length=SLUG_MAX,
                    hint="Lower-case letters, digits and hyphens, e.g. change-delivery-address. Leave "
                    "empty on a new article to make it from the title.",
                ),
                native_select(
                    "Who can read it",
                    "audience",
                    AUDIENCE_CHOICES,
                    value=s.edit.audience,
                    select_id="help-audience",
                    errors=errors,
                ),
                checked_input(
                    "Keywords",
                    "keywords",
                    errors,
                    input_id="help-keywords",
                    default_value=s.edit.keywords,
                    hint="Comma-separated words customers use that the text may not, e.g. where is my "
                    "container, box, BL. They count three times as much as the body in search.",
                ),
                rx.box(
                    rx.el.label("Article (Markdown)", html_for="help-body", style=LABEL_STYLE),
                    rx.el.textarea(
                        id="help-body",
                        name="body_markdown",
                        default_value=s.edit.body_markdown,
                        rows=16,
                        required=True,
                        aria_describedby="help-body-hint help-body-error",
                        aria_invalid=rx.cond(errors.contains("body_markdown"), "true", "false"),
                        on_blur=s.preview,
                        style={
                            "width": "100%",
                            "font_family": "monospace",
                            "padding": "8px",
                            "border": "1px solid var(--portal-field-border)",
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
                    style={"border": "1px dashed var(--portal-field-border)", "border_radius": "6px", "padding": "12px",
                           "background": "var(--portal-surface)", "width": "100%"},
                ),
                rx.el.label(
                    rx.el.input(
                        type="checkbox",
                        name="is_published",
                        id="help-published",
                        default_checked=s.edit.published == "yes",
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


@area_page("tower", routes.TOWER_HELP, "Help centre", TowerHelpState.load)
def tower_help() -> rx.Component:
    s = TowerHelpState
    return rx.vstack(
        rx.heading("Help centre", size="7", as_="h1"),
        rx.text(
            "The articles customers read at ",
            rx.link(routes.HELP, href=routes.HELP, color=ACCENT, underline="always"),
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
