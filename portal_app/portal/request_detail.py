"""Portal: one request (``/portal/requests/{reference}``): the conversation with our team, a reply with an
optional file, follow, and once resolved: reopen (within the desk's window) or rate and close."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.document_upload import file_dropzone
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.request_thread import FileRow, MessageRow, files_by_message, message_view, thread
from portal_app.components.ui import (
    LABEL_STYLE,
    MUTED_TEXT,
    error_callout,
    fact_list,
    info_callout,
    primary_button,
    secondary_button,
)
from portal_app.services import documents as docs
from portal_app.services import requests as svc
from portal_app.services.errors import ServiceError
from portal_app.services.file_storage import ACCEPTED_DESCRIPTION as ACCEPTED
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db

UPLOAD_ID = "request-reply-file"
RATINGS = [("5", "5 — excellent"), ("4", "4 — good"), ("3", "3 — fair"), ("2", "2 — poor"), ("1", "1 — very poor")]


@dataclass(frozen=True)
class RequestSummary:
    """The request the page shows (empty until read)."""

    reference: str = ""
    subject: str = ""
    status: str = ""
    status_label: str = ""
    shipment: str = ""
    shipment_href: str = ""
    invoice: str = ""
    invoice_href: str = ""
    following: bool = False
    can_reopen: bool = False
    can_rate: bool = False
    merged_into: str = ""
    merged_href: str = ""
    closed: bool = False
    rating: str = ""
    reopen_until: str = ""


class PortalRequestState(SessionState):
    AREA: ClassVar[str] = "portal"

    request: RequestSummary = RequestSummary()
    facts: list[list[str]] = []
    messages: list[MessageRow] = []
    files: dict[str, list[FileRow]] = {}
    reply: str = ""
    not_found: str = ""
    error: str = ""
    notice: str = ""
    sending: bool = False

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.error, self.reply, self.sending = "", "", False
        self.notice = ("Sent. Our team has your request and the context it came from." if
                       parse_qs(self.router.url.query).get("new") else "")
        await self._read(principal, last_path_segment(self.router.url.path)[:40])

    async def _read(self, principal: Principal, reference: str) -> None:
        try:
            d = await run_db(svc.get_request, principal, reference)
        except ServiceError as exc:  # the page shows "not found" in place of the request
            self.not_found, self.request, self.messages, self.files, self.facts = (
                exc.message, RequestSummary(), [], {}, [])
            return
        r = d.row
        self.not_found = ""
        self.request = RequestSummary(
            reference=r.reference, subject=r.subject, status=r.status, status_label=r.status_label,
            shipment=r.shipment_reference or "",
            shipment_href=link(routes.PORTAL_SHIPMENT, reference=r.shipment_reference) if r.shipment_reference
            else "",
            invoice=r.invoice_number or "",
            invoice_href=link(routes.PORTAL_INVOICE, number=r.invoice_number) if r.invoice_number else "",
            following=bool(d.following), can_reopen=bool(d.can_reopen), can_rate=bool(d.can_rate),
            merged_into=d.merged_into or "",
            merged_href=link(routes.PORTAL_REQUEST, reference=d.merged_into) if d.merged_into else "",
            closed=r.status == "closed",
            rating=f"{d.satisfaction} of 5" if d.satisfaction else "",
            reopen_until=fmt_datetime(d.reopen_until) if d.reopen_until else "",
        )
        answer = "Answered" if r.first_response.settled else f"We aim to answer by {r.first_response.due_local}"
        self.facts = [["Status", r.status_label], ["Category", r.category_label], ["Priority", r.priority.title()],
                      ["Raised by", f"{r.raised_by} on {fmt_datetime(r.created_at)}"], ["First answer", answer]]
        self.messages = [message_view(m, staff_page=False) for m in d.messages]
        self.files = files_by_message(d.messages)

    @property
    def _reference(self) -> str:
        return self.request.reference

    @page_event()
    async def set_reply(self, principal: Principal, value: str) -> None:
        self.reply = str(value)[:svc.opening.MAX_BODY_CHARS]

    @page_event(upload=True)
    async def send_reply(self, principal: Principal, files: list[rx.UploadFile]) -> AsyncIterator[Any]:
        if self.sending:
            return
        if not self.reply.strip():
            self.error = "Write your message first. Nothing was sent."
            return
        self.sending, self.error, self.notice = True, "", ""
        yield None
        try:
            await run_db(svc.post_message, principal, self._reference, self.reply,
                         attachments=[(f.filename or "", f.file) for f in files][:1])
        finally:
            self.sending = False
        self.reply, self.notice = "", "Your message was sent to our team."
        await self._read(principal, self._reference)
        yield rx.clear_selected_files(UPLOAD_ID)

    @page_event()
    async def file_rejected(self, principal: Principal, rejected: list[dict[str, Any]]) -> Any:
        self.error = (f"That file cannot be attached: choose one file of at most {docs.max_upload_mb()} MB "
                      f"({ACCEPTED}). Nothing was sent.")
        return rx.clear_selected_files(UPLOAD_ID)

    async def _act(self, principal: Principal, action: Callable[..., Any], *args: Any, done: str) -> None:
        self.error, self.notice = "", ""
        await run_db(action, principal, self._reference, *args)
        self.notice = done
        await self._read(principal, self._reference)

    @page_event()
    async def reopen(self, principal: Principal, form: dict) -> None:
        await self._act(principal, svc.reopen, str(form.get("reason", "")),
                        done="Reopened: our team will look at it again.")

    @page_event()
    async def rate(self, principal: Principal, form: dict) -> None:
        score = str(form.get("score", ""))
        if not score.isdigit():
            self.error = "Choose a rating from 1 to 5 first. Nothing was saved."
            return
        await self._act(principal, svc.rate, int(score), str(form.get("comment", "")),
                        done="Thank you for your rating.")

    @page_event()
    async def toggle_follow(self, principal: Principal) -> None:
        follow = not self.request.following
        await self._act(principal, svc.set_following, follow,
                        done="You will hear about replies." if follow else "You no longer follow this request.")


S = PortalRequestState


def _about() -> rx.Component:
    return rx.hstack(
        rx.cond(S.request.shipment != "",
                rx.link("Shipment ", S.request.shipment, href=S.request.shipment_href),
                rx.fragment()),
        rx.cond(S.request.invoice != "",
                rx.link("Invoice ", S.request.invoice, href=S.request.invoice_href),
                rx.fragment()),
        spacing="4",
    )


def _reply_form() -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.heading("Reply", size="4", as_="h2"),
            rx.el.label("Your message", html_for="request-reply", style=LABEL_STYLE),
            rx.text_area(id="request-reply", value=S.reply, on_change=S.set_reply, debounce_timeout=300, rows="4",
                         width="100%", max_length=svc.opening.MAX_BODY_CHARS),
            file_dropzone("Attach a file (optional)", UPLOAD_ID, f"{ACCEPTED}; up to {docs.max_upload_mb()} MB.",
                          docs.max_upload_bytes(), S.file_rejected),
            primary_button(rx.cond(S.sending, "Sending…", "Send reply"), type="button", disabled=S.sending,
                           on_click=S.send_reply(rx.upload_files(upload_id=UPLOAD_ID))),
            rx.cond(S.request.status == "resolved",
                    rx.text("Replying reopens this request.", size="2", color=MUTED_TEXT), rx.fragment()),
            spacing="2", width="100%",
        ),
        aria_label="Reply",
        on_submit=rx.prevent_default,
        width="100%",
    )


def _done_forms() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.request.can_rate,
            rx.el.form(
                rx.vstack(
                    rx.heading("How did we do?", size="4", as_="h2"),
                    rx.el.fieldset(
                        rx.el.legend("Your rating", style={"font_weight": "600"}),
                        *[rx.el.label(rx.el.input(type="radio", name="score", value=v), " ", text,
                                      style={"display": "block"}) for v, text in RATINGS],
                    ),
                    rx.el.label("Comment (optional)", html_for="request-rating-comment", style=LABEL_STYLE),
                    rx.text_area(id="request-rating-comment", name="comment", max_length=1000, width="100%"),
                    primary_button(rx.cond(S.request.rating != "", "Change rating", "Rate and close"),
                                   type="submit"),
                    rx.cond(S.request.rating != "", rx.text("You rated it ", S.request.rating, "."),
                            rx.fragment()),
                    spacing="2", width="100%",
                ),
                on_submit=S.rate, aria_label="Rate this request", width="100%",
            ),
            rx.fragment(),
        ),
        rx.cond(
            S.request.can_reopen,
            rx.el.form(
                rx.vstack(
                    rx.heading("Not solved?", size="4", as_="h2"),
                    rx.el.label("Why does it need another look?", html_for="request-reopen-reason", style=LABEL_STYLE),
                    rx.text_area(id="request-reopen-reason", name="reason", max_length=2000, width="100%"),
                    secondary_button("Reopen the request", type="submit"),
                    rx.text("You can reopen it until ", S.request.reopen_until, ".", size="2", color=MUTED_TEXT),
                    spacing="2", width="100%",
                ),
                on_submit=S.reopen, aria_label="Reopen this request", width="100%",  # refused: the text stays
            ),
            rx.cond(S.request.closed,
                    rx.text("This request is closed. For anything new, raise a new request.", color=MUTED_TEXT),
                    rx.fragment()),
        ),
        spacing="5", width="100%",
    )


@area_page("portal", routes.PORTAL_REQUEST, "Request", PortalRequestState.load)
def portal_request() -> rx.Component:
    return rx.cond(
        S.not_found != "",
        rx.vstack(rx.heading("Request not found", size="7", as_="h1"), error_callout(S.not_found),
                  rx.link("Back to requests", href=routes.PORTAL_REQUESTS)),
        rx.vstack(
            rx.link("← All requests", href=routes.PORTAL_REQUESTS),
            rx.hstack(
                rx.heading(S.request.reference, ": ", S.request.subject, size="6", as_="h1"),
                rx.spacer(),
                rx.button(rx.cond(S.request.following, "Unfollow", "Follow"), on_click=S.toggle_follow,
                          variant="outline", aria_pressed=S.request.following,
                          title="Following sends you the replies"),
                width="100%", align="center",
            ),
            rx.cond(S.notice != "", info_callout(S.notice), rx.fragment()),
            rx.cond(S.error != "", error_callout(S.error), rx.fragment()),
            rx.cond(S.request.merged_into != "",
                    info_callout(rx.text("This request continues in ",
                                         rx.link(S.request.merged_into, href=S.request.merged_href), ".")),
                    rx.fragment()),
            fact_list(S.facts),
            _about(),
            thread(S.messages, S.files),
            rx.cond(~S.request.closed & (S.request.merged_into == ""), _reply_form(),
                    rx.fragment()),
            _done_forms(),
            spacing="4", width="100%", max_width="860px",
        ),
    )
