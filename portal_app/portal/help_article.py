"""One help article (/help/<slug>), signed in or not.

The HTML comes from the server's Markdown renderer (raw HTML off, links checked), so an article cannot run script
in a reader's browser. The slug in the URL only names the article; the service decides whether this person may read
it (customers-only articles need a signed-in customer; unpublished ones are a preview for staff).
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import public_page
from portal_app.components.ui import ACCENT, MUTED_TEXT
from portal_app.services import help_centre as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, last_path_segment, run_db

SIGN_IN_HERE = f"{routes.LOGIN}?next={quote(routes.HELP, safe='')}"  # sign in, then back to the help centre


class HelpArticleState(SessionState):
    title: str = ""
    html: str = ""
    updated: str = ""
    for_customers: bool = False
    is_published: bool = True
    can_edit: bool = False
    not_found: str = ""

    async def load(self) -> None:
        principal = await self._identify()
        slug = last_path_segment(self.router.url.path)[:200]
        self.can_edit = principal is not None and principal.can(Permission.MANAGE_HELP)
        try:
            article = await run_db(svc.get_article, principal, slug)
        except ServiceError as exc:
            self.not_found, self.title, self.html = exc.message, "", ""
            return
        self.not_found = ""
        self.title, self.html = article.title, article.html
        self.updated = fmt_datetime(article.updated_at)
        self.for_customers = article.audience == "customers"
        self.is_published = article.is_published


def _missing() -> rx.Component:
    s = HelpArticleState
    return rx.vstack(
        rx.heading("Article not found", size="7", as_="h1"),
        rx.text(s.not_found, role="alert"),
        rx.cond(
            SessionState.auth_status == "ok",
            rx.fragment(),
            rx.link("Sign in", href=SIGN_IN_HERE, color=ACCENT, underline="always"),
        ),
        rx.link("Search the help centre", href=routes.HELP, color=ACCENT, underline="always"),
        spacing="3",
        data_testid="help-article-missing",
    )


def _article() -> rx.Component:
    s = HelpArticleState
    return rx.vstack(
        rx.el.nav(rx.link("← Help centre", href=routes.HELP, color=ACCENT, underline="always"),
                  aria_label="Breadcrumb"),
        rx.heading(s.title, size="7", as_="h1"),
        rx.hstack(
            rx.text("Updated ", s.updated, size="2", color=MUTED_TEXT),
            rx.cond(s.for_customers, rx.badge("For customers", variant="soft", high_contrast=True), rx.fragment()),
            rx.cond(
                s.is_published,
                rx.fragment(),
                rx.badge("Not published: only staff can see it", color_scheme="amber", high_contrast=True),
            ),
            rx.cond(
                s.can_edit,
                rx.link("Edit in the ops tower", href=routes.TOWER_HELP, color=ACCENT, size="2", underline="always"),
                rx.fragment(),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.el.article(rx.html(s.html), class_name="help-article", aria_label=s.title, data_testid="help-article"),
        rx.box(
            rx.text(
                "Did not answer your question? ",
                rx.link("Search the help centre again", href=routes.HELP, color=ACCENT, underline="always"),
                rx.cond(
                    (SessionState.auth_status == "ok") & ~SessionState.is_staff,
                    rx.fragment(
                        " or ",
                        rx.link("raise a request", href=routes.PORTAL_REQUEST_NEW, color=ACCENT, underline="always"),
                    ),
                    rx.fragment(),
                ),
                ".",
                size="2",
                color=MUTED_TEXT,
            ),
            border_top="1px solid var(--portal-border)",
            padding_top="12px",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@public_page(routes.HELP_ARTICLE, "Help article", HelpArticleState.load)
def help_article() -> rx.Component:
    s = HelpArticleState
    return rx.cond(
        s.not_found != "",
        _missing(),
        rx.cond(
            s.title != "",
            _article(),
            rx.hstack(rx.spinner(), rx.text("Loading the article…"), role="status", align="center"),
        ),
    )
