"""Portal: raise a request (``/portal/requests/new``), from anywhere or from a shipment, invoice or document
(``?shipment=``, ``?invoice=``, ``?document=``), which the request then carries so nobody has to ask again.
One file may be attached here; more go into the conversation afterwards.

The fields are kept on the server as they are typed (debounced), so the file upload and the fields go in one
event: all or nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.document_upload import file_dropzone
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    DANGER,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    error_callout,
    primary_button,
)
from portal_app.services import documents as docs
from portal_app.services import help_centre
from portal_app.services import requests as svc
from portal_app.services.file_storage import ACCEPTED_DESCRIPTION as ACCEPTED
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, page_event, run_db

UPLOAD_ID = "request-attachment"
FIELDS = ("category", "priority", "subject", "body")


@dataclass(frozen=True)
class SuggestedArticle:
    """A help article that may answer the request, offered before it is sent."""

    title: str
    url: str
    snippet: str


class PortalNewRequestState(SessionState):
    AREA: ClassVar[str] = "portal"

    form: dict[str, str] = {"category": "other", "priority": "normal", "subject": "", "body": ""}
    about: dict[str, str] = {}  # shipment, invoice, document from the link that opened the form
    about_words: list[str] = []  # the same, as shown: "shipment SH0001234"
    problems: dict[str, str] = {}
    suggestions: list[SuggestedArticle] = []  # help articles that may answer it, offered before it is sent
    error: str = ""
    sending: bool = False

    @page_event()
    async def load(self, principal: Principal) -> None:
        query = parse_qs(self.router.url.query)
        about = {k: (query.get(k) or [""])[0].strip()[:40] for k in ("shipment", "invoice", "document")}
        self.about = {k: v for k, v in about.items() if v}
        self.about_words = [f"{k} {v}" for k, v in self.about.items()]
        category = (query.get("category") or [""])[0]
        if category not in svc.CATEGORY_LABELS:
            category = ("billing" if "invoice" in self.about else "documents" if "document" in self.about
                        else "tracking" if "shipment" in self.about else "other")
        self.form = {"category": category, "priority": "normal", "subject": "", "body": ""}
        self.problems, self.error, self.sending, self.suggestions = {}, "", False, []

    @page_event()
    async def set_field(self, principal: Principal, name: str, value: str) -> None:
        if name in FIELDS:
            self.form = {**self.form, name: str(value)[:svc.opening.MAX_BODY_CHARS]}
            self.problems = {k: v for k, v in self.problems.items() if k != name}
        if name in ("subject", "body"):
            await self._suggest(principal)

    async def _suggest(self, principal: Principal) -> None:
        text = f"{self.form['subject']} {self.form['body']}".strip()
        found = await run_db(help_centre.suggest_articles, principal, text) if len(text) >= 8 else []
        self.suggestions = [SuggestedArticle(title=a.title, url=a.url, snippet=a.snippet) for a in found]

    def _check(self) -> dict[str, str]:
        problems = {}
        if len(" ".join(self.form["subject"].split())) < 3:
            problems["subject"] = "Write a short subject, for example “New delivery address for SH0001234”."
        if not self.form["body"].strip():
            problems["body"] = "Tell us what you need; the more detail, the faster we can answer."
        return problems

    @page_event(upload=True)
    async def send(self, principal: Principal, files: list[rx.UploadFile]) -> AsyncIterator[Any]:
        if self.sending:
            return
        self.problems, self.error = self._check(), ""
        if self.problems:
            self.error = "Some fields need your attention (see below). Nothing was sent."
            return
        self.sending = True
        yield None
        try:
            attachments = [(f.filename or "", f.file) for f in files][:1]
            document = self.about.get("document", "")
            ticket = await run_db(
                svc.open_request, principal, category=self.form["category"], priority=self.form["priority"],
                subject=self.form["subject"], body=self.form["body"], attachments=attachments,
                shipment_reference=self.about.get("shipment") or None,
                invoice_number=self.about.get("invoice") or None,
                document_id=int(document) if document.isdigit() else None,
                context=self._context(),
            )
        finally:
            self.sending = False
        yield rx.clear_selected_files(UPLOAD_ID)
        yield rx.redirect(link(routes.PORTAL_REQUEST, reference=ticket.reference) + "?new=1")

    def _context(self) -> dict[str, Any]:
        return {"page": routes.PORTAL_REQUEST_NEW, "opened_from": dict(self.about), "source": "portal"}

    @page_event()
    async def file_rejected(self, principal: Principal, rejected: list[dict[str, Any]]) -> Any:
        self.error = (f"That file cannot be attached: choose one file of at most {docs.max_upload_mb()} MB "
                      f"({ACCEPTED}). Nothing was sent.")
        return rx.clear_selected_files(UPLOAD_ID)


S = PortalNewRequestState


def _problem(name: str) -> rx.Component:
    return rx.cond(S.problems.contains(name),
                   rx.text(S.problems[name], id=f"request-{name}-error", color=DANGER, size="2"), rx.fragment())


def _described(name: str) -> dict:
    return {"aria_describedby": f"request-{name}-error",
            "aria_invalid": rx.cond(S.problems.contains(name), "true", "false")}


def _select(label: str, name: str, choices: dict[str, str]) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=f"request-{name}", style=LABEL_STYLE),
        rx.el.select(*[rx.el.option(text, value=v) for v, text in choices.items()], id=f"request-{name}",
                     value=S.form[name], on_change=lambda v: S.set_field(name, v), style=NATIVE_SELECT_STYLE),
        width="100%",
    )


def _suggestions() -> rx.Component:
    return rx.cond(
        S.suggestions.length() > 0,
        rx.box(
            rx.heading("These help articles may answer it", size="3", as_="h2"),
            rx.el.ul(rx.foreach(S.suggestions, lambda a: rx.el.li(
                rx.link(a.title, rx.text(" (opens in a new tab, your request stays here)", as_="span",
                                        class_name="sr-only"), href=a.url, is_external=True),
                rx.text(a.snippet, size="2", color=MUTED_TEXT))),
                style={"margin": "6px 0 0 18px"}),
            rx.text("If they do not, send your request: our team will answer.", size="2", color=MUTED_TEXT),
            role="region", aria_label="Help articles that may answer it", data_testid="request-suggestions",
            style={"border": "1px solid var(--portal-border)", "border_radius": "8px", "padding": "10px 14px",
                   "background": "var(--portal-surface)", "width": "100%"},
        ),
        rx.fragment(),
    )


def _about() -> rx.Component:
    return rx.cond(
        S.about_words.length() > 0,
        rx.text("About: ", rx.foreach(S.about_words, lambda w: rx.text.strong(w, " ")),
                "— our team sees it with your request.", data_testid="request-about"),
        rx.fragment(),
    )


@area_page("portal", routes.PORTAL_REQUEST_NEW, "New request", PortalNewRequestState.load)
def portal_new_request() -> rx.Component:
    return rx.vstack(
        rx.heading("New request", size="7", as_="h1"),
        rx.text("Ask our team about a shipment, a document, an invoice or a change. We answer in the portal and "
                "by email.", color=MUTED_TEXT),
        _about(),
        rx.cond(S.error != "", error_callout(S.error), rx.fragment()),
        rx.el.form(
            rx.vstack(
                rx.hstack(_select("Category", "category", svc.CATEGORY_LABELS),
                          _select("Priority", "priority", svc.PRIORITY_LABELS), width="100%", spacing="3"),
                rx.box(
                    rx.el.label("Subject", html_for="request-subject", style=LABEL_STYLE),
                    rx.input(id="request-subject", value=S.form["subject"], max_length=200, width="100%",
                             on_change=lambda v: S.set_field("subject", v), debounce_timeout=300,
                             **_described("subject")),
                    _problem("subject"),
                    width="100%",
                ),
                rx.box(
                    rx.el.label("What do you need?", html_for="request-body", style=LABEL_STYLE),
                    rx.text_area(id="request-body", value=S.form["body"], rows="6", width="100%",
                                 on_change=lambda v: S.set_field("body", v), debounce_timeout=300,
                                 **_described("body")),
                    _problem("body"),
                    width="100%",
                ),
                file_dropzone("Attach a file (optional)", UPLOAD_ID, f"{ACCEPTED}; up to {docs.max_upload_mb()} MB.",
                              docs.max_upload_bytes(), S.file_rejected),
                _suggestions(),
                rx.hstack(
                    primary_button(rx.cond(S.sending, "Sending…", "Send request"), type="button",
                                   on_click=S.send(rx.upload_files(upload_id=UPLOAD_ID)), disabled=S.sending),
                    rx.link("Cancel", href=routes.PORTAL_REQUESTS),
                    align="center", spacing="4",
                ),
                spacing="4", width="100%",
            ),
            aria_label="New request",
            on_submit=rx.prevent_default,
        ),
        spacing="4",
        width="100%",
        max_width="760px",
    )
