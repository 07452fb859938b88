"""A request's conversation as the portal and the tower show it: who wrote, when, the text and its files.
Internal notes reach this component only on staff pages (the service filters them for customers); they are
marked in words and by a different frame, never by colour alone."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.components.formatting import fmt_datetime
from portal_app.components.ui import MUTED_TEXT, download_link
from portal_app.services.requests import MessageView

INTERNAL_MARK = "Internal note — not visible to the customer"


@dataclass(frozen=True)
class MessageRow:
    """One message of the conversation as the page shows it."""

    id: str
    who: str
    at: str
    body: str
    internal: bool
    staff: bool


@dataclass(frozen=True)
class FileRow:
    """A file attached to a message: its name, where to download it and its size in words."""

    name: str
    href: str
    size: str


def message_view(m: MessageView, *, staff_page: bool, company: str = "") -> MessageRow:
    if staff_page:
        who = m.author + (" (staff)" if m.author_is_staff else f" ({company})" if company else "")
    else:
        who = m.author + (" · our team" if m.author_is_staff else "")
    return MessageRow(id=str(m.id), who=who, at=fmt_datetime(m.created_at), body=m.body, internal=m.internal,
                      staff=m.author_is_staff)


def files_by_message(messages: list[MessageView]) -> dict[str, list[FileRow]]:
    return {str(m.id): [FileRow(name=a.filename, href=f"/api/v1/documents/{a.document_id}/download",
                                size=f"{max(1, a.size_bytes // 1024)} KB") for a in m.attachments]
            for m in messages if m.attachments}


def _files(files: rx.Var, message_id: rx.Var) -> rx.Component:
    return rx.cond(
        files.contains(message_id),
        rx.el.ul(rx.foreach(files[message_id], lambda f: rx.el.li(
            download_link(f.name, f.href, "Download " + f.name), " (", f.size, ")")),
            aria_label="Attached files", style={"margin": "4px 0 0 18px"}),
        rx.fragment(),
    )


def thread(messages: rx.Var, files: rx.Var) -> rx.Component:
    """The messages oldest first, as an ordered list named "Conversation"."""
    def one(m: rx.Var) -> rx.Component:
        return rx.el.li(
            rx.cond(m.internal,
                    rx.text(INTERNAL_MARK, weight="bold", size="2", data_testid="internal-mark"), rx.fragment()),
            rx.hstack(rx.text(m.who, weight="bold"), rx.text(m.at, color=MUTED_TEXT, size="2"),
                      spacing="3", wrap="wrap"),
            rx.text(m.body, white_space="pre-wrap"),
            _files(files, m.id),
            data_testid=rx.cond(m.internal, "internal-note", "message"),
            style=rx.cond(
                m.internal,
                {"border": "2px dashed #9a6700", "background": "var(--portal-warning)", "padding": "10px 12px",
                 "border_radius": "8px", "list_style": "none"},
                {"border": "1px solid var(--portal-border)",
                 "background": rx.cond(m.staff, "var(--portal-page)", "var(--portal-surface)"),
                 "padding": "10px 12px", "border_radius": "8px", "list_style": "none"},
            ),
        )

    return rx.el.ol(rx.foreach(messages, one), aria_label="Conversation",
                    style={"display": "flex", "flex_direction": "column", "gap": "10px", "padding": "0",
                           "margin": "0", "width": "100%"})
