"""Tower, one customer request: the page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.document_upload import file_dropzone
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    ACCENT,
    DANGER,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    download_link,
    error_callout,
    fact_list,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import (
    checked_input,
    native_select,
    stacked_form,
    text_field,
)
from portal_app.services import documents as docs
from portal_app.services import requests as svc
from portal_app.services.file_storage import ACCEPTED_DESCRIPTION
from portal_app.services.requests.opening import MAX_ATTACHMENTS
from portal_app.tower.request_detail.rows import (
    BODY_ID,
    CANNED_ID,
    CUSTOMER_BACKGROUND,
    NOTE_BACKGROUND,
    NOTE_BORDER,
    NOTE_TEXT,
    REPLY_STATUS_CHOICES,
    UPLOAD_ID,
)
from portal_app.tower.request_detail.state import TowerRequestState
from portal_app.tower.requests import ROUTE, priority_badge
from portal_app.ui import routes

S = TowerRequestState

# ------------------------------------------------------------------------------------------ page


def _fact(label: str, value: rx.Component | rx.Var | str) -> rx.Component:
    return rx.box(rx.text(label, size="1", color=MUTED_TEXT, as_="div"), rx.box(value, font_weight="500"))


def _timer(title: str, left: rx.Var, breached: rx.Var, due: rx.Var, test_id: str) -> rx.Component:
    return _fact(title, rx.vstack(
        rx.text(left, weight="bold", color=rx.cond(breached == "yes", DANGER, "inherit"), data_testid=test_id),
        rx.text("Due ", due, size="1", color=MUTED_TEXT),
        spacing="0",
    ))


def _section_messages(section: str) -> rx.Component:
    return rx.fragment(
        rx.cond(S.notices.contains(section), info_callout(S.notices[section], data_testid=f"{section}-notice"),
                rx.fragment()),
        rx.cond(S.errors.contains(section), error_callout(S.errors[section], data_testid=f"{section}-error"),
                rx.fragment()),
    )


def _card(title: str, test_id: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
                   width="100%", data_testid=test_id, **props)


def _summary() -> rx.Component:
    r = S.req
    return rx.card(
        rx.vstack(
            responsive_grid(
                _fact("Status", rx.text(r.status_label, data_testid="request-status")),
                _fact("Customer", r.customer),
                _fact("Raised by", r.raised_by),
                _fact("Category and priority", rx.hstack(rx.text(r.category_label),
                                                          priority_badge(r.priority, r.priority_label),
                                                          spacing="2", align="center")),
                _fact("Assignee", rx.text(r.assignee, data_testid="request-assignee")),
                _fact("Team", r.team),
                _fact("Shipment", rx.cond(r.shipment_href != "",
                                          rx.link(r.shipment, href=r.shipment_href, color=ACCENT,
                                                  data_testid="request-shipment"),
                                          rx.text("—"))),
                _fact("Invoice", rx.cond(r.invoice_href != "",
                                         download_link(r.invoice, r.invoice_href,
                                                       "Invoice " + r.invoice + " (PDF)"),
                                         rx.text("—"))),
                _timer("First response", r.first_left, r.first_breached, r.first_due, "first-response"),
                _timer("Resolution", r.res_left, r.res_breached, r.res_due, "resolution"),
                _fact("Opened", r.opened),
                _fact("Linked exception", rx.cond(r.exception_href != "",
                                                  rx.link("#" + r.exception_id + " " + r.exception_title,
                                                          href=r.exception_href, color=ACCENT,
                                                          data_testid="request-exception"),
                                                  rx.text("Not linked"))),
                narrow=2, middle=3, wide=4,
                spacing="3",
            ),
            rx.cond(r.merged_from != "", rx.text("Merged into this request: ", r.merged_from, size="2"),
                    rx.fragment()),
            rx.cond(r.satisfaction != "", rx.text("Customer's rating: ", r.satisfaction, size="2"),
                    rx.fragment()),
            rx.hstack(
                rx.cond(r.mine == "", secondary_button("Assign to me", type="button", on_click=S.take),
                        rx.text("You are the assignee.", size="2", color=MUTED_TEXT)),
                secondary_button(rx.cond(r.following == "yes", "Stop following", "Follow this request"),
                                 type="button", on_click=S.toggle_follow),
                spacing="3",
                wrap="wrap",
            ),
            _section_messages("follow"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _context() -> rx.Component:
    return rx.cond(
        S.context.length() > 0,
        _card("Where the request came from", "request-context",
              rx.text("Recorded by the portal when the customer raised it.", size="2", color=MUTED_TEXT),
              fact_list(S.context)),
        rx.fragment(),
    )


def _message(m: rx.Var) -> rx.Component:
    internal = m.internal == "yes"
    return rx.el.li(
        rx.el.article(
            rx.hstack(
                rx.cond(internal, rx.icon("lock", size=15, color=NOTE_TEXT, aria_hidden="true"), rx.fragment()),
                rx.text(m.kind_label, weight="bold",
                        color=rx.match(m.kind, ("note", NOTE_TEXT), ("reply", ACCENT), "var(--gray-12)"),
                        data_testid="message-kind"),
                spacing="1",
                align="center",
            ),
            rx.text(m.author, " (", m.who, ") · ", m.at, size="1", color=MUTED_TEXT),
            rx.text(m.body, style={"white_space": "pre-wrap", "overflow_wrap": "anywhere"}, margin_top="6px"),
            rx.foreach(S.files, lambda f: rx.cond(
                f.message_id == m.id,
                rx.box(download_link(f.name, f.href, "Download " + f.name),
                       rx.text(" (", f.size, ")", as_="span", size="1", color=MUTED_TEXT), margin_top="4px"),
                rx.fragment(),
            )),
            aria_label=m.kind_label + " by " + m.author,
            style={"padding": "10px 14px", "border_radius": "6px", "border": "1px solid var(--portal-border)"},
            background=rx.match(m.kind, ("note", NOTE_BACKGROUND), ("reply", "var(--portal-surface)"),
                                CUSTOMER_BACKGROUND),
            border_left=rx.match(m.kind, ("note", f"4px solid {NOTE_BORDER}"), ("reply", f"4px solid {ACCENT}"),
                                 "4px solid var(--portal-field-border)"),
        ),
        data_testid=rx.cond(internal, "internal-note", "thread-message"),
        style={"margin_bottom": "10px", "list_style": "none"},
    )


def _thread() -> rx.Component:
    return _card(
        "Conversation", "request-thread",
        rx.text("Oldest first. Internal notes (amber, with a lock and their own label) are for staff only; the "
                "customer sees the rest.",
                size="2", color=MUTED_TEXT),
        rx.cond(S.messages.length() > 0,
                rx.el.ol(rx.foreach(S.messages, _message), style={"padding": "0", "margin": "0", "width": "100%"}),
                rx.text("No messages yet.", color=MUTED_TEXT)),
    )


def _kind_choice(value: str, label: str) -> rx.Component:
    field_id = f"reply-kind-{value}"
    return rx.el.label(
        # The browser keeps the choice (it is sent with the form); the server hears of it to restyle the form.
        rx.el.input(type="radio", name="kind", value=value, id=field_id, default_checked=S.reply_kind == value,
                    on_change=S.set_reply_kind),
        " " + label,
        html_for=field_id,
        style={"display": "flex", "gap": "6px", "align_items": "center", "font_weight": "500"},
    )


def _reply_form() -> rx.Component:
    limit = docs.max_upload_mb()
    note = S.reply_kind == "note"
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Reply or add a note", size="4", as_="h2"),
                rx.el.fieldset(
                    rx.el.legend("Message type", style=LABEL_STYLE),
                    rx.hstack(_kind_choice("reply", "Reply to customer"),
                              _kind_choice("note", "Internal note"), spacing="5", wrap="wrap"),
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                rx.cond(note,
                        rx.hstack(rx.icon("lock", size=15, color=NOTE_TEXT, aria_hidden="true"),
                                  rx.text("Internal note — not visible to the customer. Nobody is notified.",
                                          weight="bold", color=NOTE_TEXT, data_testid="reply-mode"),
                                  spacing="1", align="center"),
                        rx.text("The customer reads this in the portal and is notified.", weight="medium",
                                data_testid="reply-mode")),
                rx.box(
                    rx.el.label("Insert a canned reply", html_for=CANNED_ID, style=LABEL_STYLE),
                    rx.el.select(
                        rx.el.option("Choose a canned reply…", value=""),
                        rx.foreach(S.canned, lambda c: rx.el.option(c.label, value=c.value)),
                        id=CANNED_ID, name="canned", default_value="", on_change=S.insert_canned,
                        style=NATIVE_SELECT_STYLE,
                    ),
                    rx.text("The text goes into the message box at the cursor; adapt it before sending.", size="1",
                            color=MUTED_TEXT),
                    width="100%",
                ),
                rx.box(
                    rx.el.label(rx.cond(note, "Internal note (staff only)", "Message to the customer"),
                                html_for=BODY_ID, style=LABEL_STYLE),
                    rx.el.textarea(id=BODY_ID, name="body", rows=7, max_length=10000,
                                   aria_describedby=f"{BODY_ID}-error",
                                   aria_invalid=rx.cond(S.field_errors.contains("body"), "true", "false"),
                                   style={"width": "100%", "padding": "8px",
                                          "border": "1px solid var(--portal-field-border)", "border_radius": "6px",
                                          "font": "inherit", "background": "var(--portal-surface)"}),
                    rx.cond(S.field_errors.contains("body"),
                            rx.text(S.field_errors["body"], id=f"{BODY_ID}-error", color=DANGER, size="2",
                                    role="alert"),
                            rx.fragment()),
                    width="100%",
                ),
                # Keyed by the request's version on the page: a status change elsewhere on the page updates
                # its default without clearing the message being written.
                rx.cond(note, rx.fragment(),
                        rx.box(native_select("Status after the reply", "status", REPLY_STATUS_CHOICES,
                                             value=S.req.reply_status, select_id="reply-status"),
                               key=S.form_key, width="100%")),
                file_dropzone("Attachments (optional)", UPLOAD_ID,
                              f"Up to {MAX_ATTACHMENTS} files of {limit} MB each: {ACCEPTED_DESCRIPTION}. Files "
                              "on an internal note stay internal.", limit * 1024 * 1024, S.files_rejected,
                              max_files=MAX_ATTACHMENTS),
                rx.hstack(
                    primary_button(rx.cond(note, "Add internal note", "Send reply to customer"), type="submit"),
                    rx.cond(rx.selected_files(UPLOAD_ID).length() > 0,
                            secondary_button("Remove the chosen files", type="button", on_click=S.clear_files),
                            rx.fragment()),
                    spacing="3",
                    wrap="wrap",
                ),
                _section_messages("reply"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.send_reply(rx.upload_files(upload_id=UPLOAD_ID), rx.event.FORM_DATA),
            aria_label="Reply or add an internal note",
            id="reply-form",
            key=S.reply_key,
            style={"width": "100%"},
        ),
        width="100%",
        data_testid="reply-card",
        style={"background": rx.cond(note, NOTE_BACKGROUND, "var(--portal-surface)"),
               "border_left": rx.cond(note, f"4px solid {NOTE_BORDER}", f"4px solid {ACCENT}")},
    )


def _triage() -> rx.Component:
    r = S.req
    return _card(
        "Triage", "request-triage",
        rx.text("A new category or priority recalculates both SLA due times from when the request was opened.",
                size="2", color=MUTED_TEXT),
        stacked_form(
            responsive_grid(
                native_select("Category", "category", list(svc.CATEGORY_LABELS.items()), value=r.category,
                              select_id="triage-category"),
                native_select("Priority", "priority", list(svc.PRIORITY_LABELS.items()), value=r.priority,
                              select_id="triage-priority"),
                native_select("Team", "team_id", [("", "No team")], value=r.team_id, select_id="triage-team",
                              more=S.teams),
                native_select("Assignee", "assignee_id", [("", "Unassigned"), ("me", "Me")],
                              value=r.assignee_id, select_id="triage-assignee", more=S.people),
                narrow=1, middle=2, wide=2,
                spacing="3",
            ),
            primary_button("Save triage", type="submit"),
            on_submit=S.save_triage, label="Triage", key=S.form_key,
        ),
        _section_messages("triage"),
    )


def _status() -> rx.Component:
    r = S.req
    return _card(
        "Resolve, close or reopen", "request-status-actions",
        rx.cond(
            r.done == "yes",
            rx.cond(
                r.can_reopen == "yes",
                stacked_form(
                    rx.text("It can be reopened until ", r.reopen_until, ". The reason goes into the thread, "
                            "where the customer reads it.", size="2", color=MUTED_TEXT),
                    text_field("Why it is reopened", "reason", "reopen-reason", S.field_errors),
                    secondary_button("Reopen request", type="submit"),
                    on_submit=S.reopen, label="Reopen the request", key=S.form_key,
                ),
                rx.text("The reopen window has ended. If the customer needs more, they open a new request "
                        "mentioning ", r.reference, ".", size="2", color=MUTED_TEXT),
            ),
            rx.vstack(
                rx.text("Resolving tells the customer, who can reply to reopen it. To send an answer with it, reply "
                        "and choose Resolved as the status after the reply.", size="2", color=MUTED_TEXT),
                rx.hstack(
                    primary_button("Mark resolved", type="button", on_click=S.resolve),
                    secondary_button("Close request", type="button", on_click=S.close),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        _section_messages("status"),
    )


def _merge() -> rx.Component:
    return _card(
        "Merge a duplicate", "request-merge",
        rx.text("Merge this request into another request of the same customer: this one closes and points there, "
                "its followers follow the other one, and both threads say so.", size="2", color=MUTED_TEXT),
        stacked_form(
            checked_input("Merge into (reference)", "into", S.field_errors, input_id="merge-into",
                          placeholder="REQ-000123", max_length=20),
            secondary_button("Merge into that request", type="submit"),
            on_submit=S.merge, label="Merge into another request", key=S.form_key,
        ),
        _section_messages("merge"),
    )


def _exception_link() -> rx.Component:
    r = S.req
    return _card(
        "Shipment exception", "request-exception-link",
        rx.cond(
            r.shipment == "",
            rx.text("This request is not about a shipment, so there is no exception to link.", size="2",
                    color=MUTED_TEXT),
            rx.vstack(
                rx.cond(
                    r.exception_href != "",
                    rx.hstack(
                        rx.text("Linked: "),
                        rx.link("Exception #" + r.exception_id + " " + r.exception_title,
                                href=r.exception_href, color=ACCENT),
                        secondary_button("Unlink", type="button", size="1", on_click=S.unlink_exception,
                                         aria_label="Unlink exception #" + r.exception_id),
                        spacing="2", align="center", wrap="wrap",
                    ),
                    rx.text("No exception is linked.", size="2", color=MUTED_TEXT),
                ),
                rx.cond(
                    S.exceptions.length() > 0,
                    stacked_form(
                        native_select("Open exceptions of " + r.shipment, "exception_id",
                                      [("", "Choose an exception…")], select_id="link-exception",
                                      more=S.exceptions, errors=S.field_errors, key="exception"),
                        secondary_button("Link exception", type="submit"),
                        on_submit=S.link_exception, label="Link an exception", key=S.form_key,
                    ),
                    rx.text("The shipment has no open exceptions.", size="2", color=MUTED_TEXT),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        _section_messages("exception"),
    )


@area_page("tower", routes.TOWER_REQUEST, "Request", TowerRequestState.load)
def tower_request_detail() -> rx.Component:
    r = S.req
    return rx.vstack(
        rx.link("← Requests", href=ROUTE, color=ACCENT),
        rx.heading(rx.cond(r, r.reference + ": " + r.subject, "Request"), size="7",
                   as_="h1"),
        rx.cond(S.load_error != "",
                rx.vstack(error_callout(S.load_error, data_testid="request-error"),
                          rx.link("Back to the request queue", href=ROUTE, color=ACCENT), spacing="2",
                          width="100%"),
                rx.fragment()),
        rx.cond(
            r,
            rx.vstack(
                rx.cond(r.merged_into != "",
                        rx.callout(rx.text("This request was merged into ",
                                           rx.link(r.merged_into, href=r.merged_into_href),
                                           "; work continues there. Nothing here can be changed any more."),
                                   icon="info", width="100%", data_testid="merged-notice"),
                        rx.fragment()),
                _summary(),
                _context(),
                _thread(),
                rx.cond(r.merged_into == "",
                        rx.vstack(
                            _reply_form(),
                            responsive_grid(_triage(), _status(), _exception_link(), _merge(), wide=2, spacing="4"),
                            spacing="4",
                            width="100%",
                        ),
                        rx.fragment()),
                spacing="4",
                width="100%",
            ),
            rx.fragment(),
        ),
        spacing="4",
        width="100%",
    )
