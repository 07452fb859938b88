"""The help centre (/help): search box, results and every article, signed in or not.

Signed out, only public articles exist here; a signed-in customer also finds the articles for customers. Who is
asking comes from the session cookie on the server, never from the page. Every search is recorded (with its best
article and score) so staff see the questions without a good answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import public_page
from portal_app.components.ui import ACCENT, BUTTON_STYLE, MUTED_TEXT, error_callout
from portal_app.services import help_centre as svc
from portal_app.services.errors import ServiceError
from portal_app.services.help_centre.search import QUERY_MAX
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, run_db

ARTICLE_PAGE_SIZE = 100
SIGN_IN_HERE = f"{routes.LOGIN}?next={quote(routes.HELP, safe='')}"  # sign in, then back to the help centre
EXAMPLES = ("where is my container", "can I change the delivery address", "how do I pay my invoice")


def _articles(db, principal):  # noqa: ANN001, ANN202
    return svc.list_articles(db, principal, page_size=ARTICLE_PAGE_SIZE)


@dataclass(frozen=True)
class HelpHit:
    """One search result, as shown."""

    slug: str
    title: str
    snippet: str
    href: str


@dataclass(frozen=True)
class HelpArticleLine:
    """One article in the list of every article, as shown."""

    slug: str
    title: str
    summary: str
    href: str
    for_customers: bool


class HelpCentreState(SessionState):
    query: str = ""
    searched: str = ""  # the question the results below answer ("" before any search)
    results: list[HelpHit] = []
    is_gap: bool = False
    articles: list[HelpArticleLine] = []
    error: str = ""

    async def load(self) -> None:
        principal = await self._identify()
        self.error = ""
        try:
            page = await run_db(_articles, principal)
        except ServiceError as exc:
            self.error = exc.message
            return
        self.articles = [
            HelpArticleLine(slug=a.slug, title=a.title, summary=a.summary, href=link(routes.HELP_ARTICLE, slug=a.slug),
                            for_customers=a.audience == "customers")
            for a in page.rows
        ]
        wanted = (parse_qs(self.router.url.query).get("q") or [""])[0]
        if wanted.strip():
            await self._search(principal, wanted)
        else:
            self.query, self.searched, self.results, self.is_gap = "", "", [], False

    async def search(self, form: dict) -> None:
        principal = await self._identify()
        text = " ".join(str(form.get("q", "") or "").split())[:QUERY_MAX]
        if not text:
            self.error = "Type a question first, for example “where is my container”. Nothing was searched."
            self.searched, self.results, self.is_gap = "", [], False
            return
        await self._search(principal, text)

    async def _search(self, principal: Principal | None, text: str) -> None:
        try:
            result = await run_db(svc.search_articles, principal, text)
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.query = self.searched = result.query
        self.is_gap = result.is_gap
        self.results = [HelpHit(slug=h.slug, title=h.title, snippet=h.snippet, href=h.url) for h in result.hits]


def _result(item: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.link(item.title, href=item.href, color=ACCENT, weight="bold", size="4", underline="always"),
        rx.text(item.snippet, color=MUTED_TEXT, size="2"),
        style={"padding": "10px 0", "border_bottom": "1px solid var(--portal-border)"},
    )


def _article_item(item: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.link(item.title, href=item.href, color=ACCENT, weight="medium", underline="always"),
        rx.cond(
            item.for_customers,
            rx.badge("For customers", variant="soft", high_contrast=True, margin_left="8px"),
            rx.fragment(),
        ),
        rx.text(item.summary, color=MUTED_TEXT, size="2"),
        style={"padding": "6px 0"},
    )


def _search_form() -> rx.Component:
    s = HelpCentreState
    return rx.el.form(
        rx.el.label(
            "Search the help centre",
            html_for="help-q",
            style={"display": "block", "font_weight": "600", "margin_bottom": "4px"},
        ),
        rx.hstack(
            rx.el.input(
                id="help-q",
                name="q",
                type="search",
                default_value=s.query,
                key=s.searched,
                placeholder="e.g. " + EXAMPLES[0],
                auto_complete="off",
                max_length=300,
                aria_describedby="help-q-hint",
                style={
                    "flex": "1",
                    "min_width": "0",
                    "padding": "8px 10px",
                    "border": "1px solid var(--portal-field-border)",
                    "border_radius": "6px",
                    "font_size": "16px",
                    "background": "var(--portal-surface)",
                },
            ),
            rx.button("Search", type="submit", style=BUTTON_STYLE, cursor="pointer", size="3"),
            width="100%",
            align="center",
        ),
        rx.text(
            "Ask the way you would ask us, for example “",
            EXAMPLES[1],
            "” or “",
            EXAMPLES[2],
            "”.",
            id="help-q-hint",
            size="2",
            color=MUTED_TEXT,
            margin_top="4px",
        ),
        on_submit=s.search,
        reset_on_submit=False,
        role="search",
        aria_label="Help centre search",
        style={"width": "100%"},
    )


def _results() -> rx.Component:
    s = HelpCentreState
    no_answer = rx.box(
        rx.text(
            "No article answers “",
            s.searched,
            "” well yet. We have noted the question, so our team can write one.",
            weight="medium",
        ),
        rx.cond(
            SessionState.auth_status == "ok",
            rx.cond(
                SessionState.is_staff,
                rx.fragment(),
                rx.text(
                    "Need an answer now? ",
                    rx.link("Raise a request", href=routes.PORTAL_REQUEST_NEW, color=ACCENT, underline="always"),
                    " and our team will answer you.",
                    size="2",
                ),
            ),
            rx.text(
                "Some articles are only for customers: ",
                rx.link("sign in", href=SIGN_IN_HERE, color=ACCENT, underline="always"),
                " to search them too, or contact your forwarder.",
                size="2",
            ),
        ),
        padding="12px",
        border_left="4px solid #b54708",
        background="var(--portal-surface)",
        data_testid="help-gap",
    )
    return rx.cond(
        s.searched != "",
        rx.el.section(
            rx.heading("Results for “", s.searched, "”", size="5", as_="h2", id="help-results-heading"),
            rx.text(
                rx.cond(
                    s.results.length() == 0,
                    "No matching articles.",
                    rx.cond(
                        s.results.length() == 1,
                        "1 article found.",
                        s.results.length().to_string() + " articles found, best match first.",
                    ),
                ),
                role="status",
                color=MUTED_TEXT,
                size="2",
            ),
            rx.cond(s.is_gap, no_answer, rx.fragment()),
            rx.cond(
                s.results.length() > 0,
                rx.el.ol(
                    rx.foreach(s.results, _result),
                    aria_label="Search results",
                    style={"list_style": "none", "padding": "0", "margin": "0"},
                ),
                rx.fragment(),
            ),
            aria_labelledby="help-results-heading",
            style={"display": "flex", "flex_direction": "column", "gap": "8px", "width": "100%"},
        ),
        rx.fragment(),
    )


@public_page(routes.HELP, "Help centre", HelpCentreState.load)
def help_centre() -> rx.Component:
    s = HelpCentreState
    return rx.vstack(
        rx.heading("Help centre", size="7", as_="h1"),
        rx.text(
            "Answers to what customers ask us most: tracking, bookings, documents, customs and invoices.",
            color=MUTED_TEXT,
        ),
        _search_form(),
        rx.cond(s.error != "", error_callout(s.error), rx.fragment()),
        _results(),
        rx.el.section(
            rx.heading("All articles", size="5", as_="h2", id="help-all-heading"),
            rx.cond(
                SessionState.auth_status == "ok",
                rx.fragment(),
                rx.text(
                    "Signed-in customers see more articles (documents, invoices, account).", size="2", color=MUTED_TEXT
                ),
            ),
            rx.el.ul(
                rx.foreach(s.articles, _article_item),
                aria_labelledby="help-all-heading",
                style={"list_style": "none", "padding": "0", "margin": "0"},
            ),
            aria_labelledby="help-all-heading",
            style={"width": "100%"},
        ),
        spacing="5",
        width="100%",
    )
