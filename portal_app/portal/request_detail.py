"""Portal: one request (``/portal/requests/{reference}``): the conversation with our team, a reply with an
optional file, follow, and once resolved: reopen (within the desk's window) or rate and close."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import reflex as rx

from portal_app.components.document_upload import file_dropzone
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.request_thread import files_by_message, message_view, thread
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
from portal_app.ui.session import SessionState, last_path_segment, run_db

UPLOAD_ID = "request-reply-file"
RATINGS = [("5", "5 — excellent"), ("4", "4 — good"), ("3", "3 — fair"), ("2", "2 — poor"), ("1", "1 — very poor")]


class PortalRequestState(SessionState):
    request: dict[str, str] = {}
    facts: list[list[str]] = []
    messages: list[dict[str, str]] = []
    files: dict[str, list[dict[str, str]]] = {}
    reply: str = ""
    not_found: str = ""
    error: str = ""
    notice: str = ""
    sending: bool = False

    async def load(self):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        self.error, self.reply, self.sending = "", "", False
        self.notice = ("Sent. Our team has your request and the context it came from." if
                       parse_qs(self.router.url.query).get("new") else "")
        await self._read(principal, last_path_segment(self.router.url.path)[:40])
        return None

    async def _read(self, principal, reference: str) -> None:  # noqa: ANN001
        try:
            d = await run_db(svc.get_request, principal, reference)
        except ServiceError as exc:
            self.not_found, self.request, self.messages, self.files, self.facts = exc.message, {}, [], {}, []
            return
        r = d.row
        self.not_found = ""
        self.request = {
            "reference": r.reference, "subject": r.subject, "status": r.status, "status_label": r.status_label,
            "shipment": r.shipment_reference or "", "invoice": r.invoice_number or "",
            "following": "yes" if d.following else "", "can_reopen": "yes" if d.can_reopen else "",
            "can_rate": "yes" if d.can_rate else "", "merged_into": d.merged_into or "",
            "closed": "yes" if r.status == "closed" else "",
            "rating": f"{d.satisfaction} of 5" if d.satisfaction else "",
            "reopen_until": fmt_datetime(d.reopen_until) if d.reopen_until else "",
        }
        answer = ("Answered" if r.first_response.label.startswith("Met") or r.first_response.label.startswith(
            "Missed") else f"We aim to answer by {r.first_response.due_local}")
        self.facts = [["Status", r.status_label], ["Category", r.category_label], ["Priority", r.priority.title()],
                      ["Raised by", f"{r.raised_by} on {fmt_datetime(r.created_at)}"], ["First answer", answer]]
        self.messages = [message_view(m, staff_page=False) for m in d.messages]
        self.files = files_by_message(d.messages)

    @property
    def _reference(self) -> str:
        return self.request.get("reference", "")

    async def set_reply(self, value: str):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        self.reply = str(value)[:svc.opening.MAX_BODY_CHARS]
        return None

    async def send_reply(self, files: list[rx.UploadFile]):  # noqa: ANN201
        principal = await self._authorize_upload("portal")
        if principal is None:
            yield self._refused()
            return
        if self.sending:
            return
        if not self.reply.strip():
            self.error = "Write your message first. Nothing was sent."
            return
        self.sending, self.error, self.notice = True, "", ""
        yield
        try:
            await run_db(svc.post_message, principal, self._reference, self.reply,
                         attachments=[(f.filename or "", f.file) for f in files][:1])
        except ServiceError as exc:
            self.error = exc.message
            return
        finally:
            self.sending = False
        self.reply, self.notice = "", "Your message was sent to our team."
        await self._read(principal, self._reference)
        yield rx.clear_selected_files(UPLOAD_ID)

    async def file_rejected(self, rejected: list[dict[str, Any]]):  # noqa: ANN201
        principal = await self._authorize("portal")
        if principal is None:
            return self._refused()
        self.error = (f"That file cannot be attached: choose one file of at most {docs.max_upload_mb()} MB "
                      f"({ACCEPTED}). Nothing was sent.")
        return rx.clear_selected_files(UPLOAD_ID)

    async def _act(self, action, *args: Any, done: str) -> None:  # noqa: ANN001
        principal = await self._authorize("portal")
        if principal is None:
            return
        self.error, self.notice = "", ""
        try:
            await run_db(action, principal, self._reference, *args)
        except ServiceError as exc:
            self.error = exc.message
            return
        self.notice = done
        await self._read(principal, self._reference)

    async def reopen(self, form: dict):  # noqa: ANN201
        await self._act(svc.reopen, str(form.get("reason", "")), done="Reopened: our team will look at it again.")

    async def rate(self, form: dict):  # noqa: ANN201
        score = str(form.get("score", ""))
        if not score.isdigit():
            self.error = "Choose a rating from 1 to 5 first. Nothing was saved."
            return
        await self._act(svc.rate, int(score), str(form.get("comment", "")), done="Thank you for your rating.")

    async def toggle_follow(self):  # noqa: ANN201
        follow = self.request.get("following") != "yes"
        await self._act(svc.set_following, follow,
                        done="You will hear about replies." if follow else "You no longer follow this request.")


S = PortalRequestState


def _about() -> rx.Component:
    return rx.hstack(
        rx.cond(S.request["shipment"] != "",
                rx.link("Shipment ", S.request["shipment"], href="/portal/shipments/" + S.request["shipment"]),
                rx.fragment()),
        rx.cond(S.request["invoice"] != "",
                rx.link("Invoice ", S.request["invoice"], href="/portal/invoices/" + S.request["invoice"]),
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
            rx.cond(S.request["status"] == "resolved",
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
            S.request["can_rate"] == "yes",
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
                    primary_button(rx.cond(S.request["rating"] != "", "Change rating", "Rate and close"),
                                   type="submit"),
                    rx.cond(S.request["rating"] != "", rx.text("You rated it ", S.request["rating"], "."),
                            rx.fragment()),
                    spacing="2", width="100%",
                ),
                on_submit=S.rate, aria_label="Rate this request", width="100%",
            ),
            rx.fragment(),
        ),
        rx.cond(
            S.request["can_reopen"] == "yes",
            rx.el.form(
                rx.vstack(
                    rx.heading("Not solved?", size="4", as_="h2"),
                    rx.el.label("Why does it need another look?", html_for="request-reopen-reason", style=LABEL_STYLE),
                    rx.text_area(id="request-reopen-reason", name="reason", max_length=2000, width="100%"),
                    secondary_button("Reopen the request", type="submit"),
                    rx.text("You can reopen it until ", S.request["reopen_until"], ".", size="2", color=MUTED_TEXT),
                    spacing="2", width="100%",
                ),
                on_submit=S.reopen, aria_label="Reopen this request", reset_on_submit=True, width="100%",
            ),
            rx.cond(S.request["closed"] == "yes",
                    rx.text("This request is closed. For anything new, raise a new request.", color=MUTED_TEXT),
                    rx.fragment()),
        ),
        spacing="5", width="100%",
    )


@area_page("portal", "/portal/requests/[reference]", "Request", PortalRequestState.load)
def portal_request() -> rx.Component:
    return rx.cond(
        S.not_found != "",
        rx.vstack(rx.heading("Request not found", size="7", as_="h1"), error_callout(S.not_found),
                  rx.link("Back to requests", href="/portal/requests")),
        rx.vstack(
            rx.link("← All requests", href="/portal/requests"),
            rx.hstack(
                rx.heading(S.request["reference"], ": ", S.request["subject"], size="6", as_="h1"),
                rx.spacer(),
                rx.button(rx.cond(S.request["following"] == "yes", "Unfollow", "Follow"), on_click=S.toggle_follow,
                          variant="outline", aria_pressed=S.request["following"] == "yes",
                          title="Following sends you the replies"),
                width="100%", align="center",
            ),
            rx.cond(S.notice != "", info_callout(S.notice), rx.fragment()),
            rx.cond(S.error != "", error_callout(S.error), rx.fragment()),
            rx.cond(S.request["merged_into"] != "",
                    info_callout(rx.text("This request continues in ",
                                         rx.link(S.request["merged_into"],
                                                 href="/portal/requests/" + S.request["merged_into"]), ".")),
                    rx.fragment()),
            fact_list(S.facts),
            _about(),
            thread(S.messages, S.files),
            rx.cond((S.request["closed"] != "yes") & (S.request["merged_into"] == ""), _reply_form(),
                    rx.fragment()),
            _done_forms(),
            spacing="4", width="100%", max_width="860px",
        ),
    )
