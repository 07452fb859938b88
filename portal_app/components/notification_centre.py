"""The notification centre (one page in the portal, one in the tower) and the header's unread count.

The user comes only from the session cookie; a notification id in a handler argument only names which row was
clicked, and the service looks it up among the caller's own notifications.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.ui import (
    ACCENT,
    BRAND_TEXT,
    MUTED_TEXT,
    error_callout,
    info_callout,
    pager,
    secondary_button,
    table_caption,
)
from portal_app.db import session_scope
from portal_app.services import notifications as svc
from portal_app.services.errors import ServiceError
from portal_app.services.paging import Page
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

PAGE_SIZE = 20


def _count(principal: Principal) -> int:
    with session_scope() as db:
        return svc.unread_count(db, principal)


class UnreadState(SessionState):
    """The header's unread count, refreshed whenever a page's header mounts and after marking read."""

    unread: int = 0

    async def refresh(self):  # noqa: ANN201
        principal = await self._principal()
        count = await asyncio.to_thread(_count, principal) if principal is not None else 0
        if count != self.unread:
            self.unread = count


def unread_link(area: str) -> rx.Component:
    """A link to the notification centre whose name carries the unread count ("Notifications, 3 unread")."""
    u = UnreadState
    return rx.link(
        "Notifications",
        rx.cond(
            u.unread > 0,
            rx.badge(u.unread.to_string(), " unread", color_scheme="red", variant="solid", high_contrast=True,
                     margin_left="6px", data_testid="unread-count"),
            rx.fragment(),
        ),
        href=routes.in_area(area, routes.PORTAL_NOTIFICATIONS, routes.TOWER_NOTIFICATIONS),
        color=BRAND_TEXT,
        size="2",
        on_mount=u.refresh,
    )


@dataclass(frozen=True)
class NotificationLine:
    """One notification in the centre, as shown."""

    id: str
    title: str
    body: str
    link: str
    when: str
    unread: bool


def _view(row: svc.NotificationRow) -> NotificationLine:
    return NotificationLine(id=str(row.id), title=row.title, body=row.body or "", link=row.link or "",
                            when=fmt_datetime(row.created_at), unread=row.read_at is None)


class NotificationCentreState(SessionState):
    rows: list[NotificationLine] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    unread_total: int = 0
    error: str = ""
    done: str = ""

    @property
    def AREA(self) -> str:
        """One state serves the centre in both areas: the page's own path says which."""
        return "tower" if self.router.url.path.startswith(routes.TOWER) else "portal"

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.page, self.error, self.done = 1, "", ""
        await self._fetch(principal)

    @page_event()
    async def go_to_page(self, principal: Principal, delta: int) -> None:
        step = int(delta) if str(delta).lstrip("-").isdigit() else 0
        self.page = max(1, min(self.pages, self.page + step))
        await self._fetch(principal)

    @page_event()
    async def mark_read(self, principal: Principal, notification_id: str) -> Any:
        if not str(notification_id).isdigit():
            self.error, self.done = "That notification is not in the list. Reload the page; nothing changed.", ""
            return None
        try:  # refused or not, the list is read again and the header's count refreshed
            await run_db(svc.mark_read, principal, int(notification_id))
        except ServiceError as exc:
            self.error, self.done = exc.message, ""
        else:
            self.error, self.done = "", "Marked as read."
        await self._fetch(principal)
        return UnreadState.refresh

    @page_event()
    async def mark_all_read(self, principal: Principal) -> Any:
        try:  # refused or not, the list is read again and the header's count refreshed
            n = await run_db(svc.mark_all_read, principal)
        except ServiceError as exc:
            self.error, self.done = exc.message, ""
        else:
            self.error, self.done = "", f"Marked {n} notification{'s' if n != 1 else ''} as read."
        await self._fetch(principal)
        return UnreadState.refresh

    async def _fetch(self, principal: Principal) -> None:
        def read(db: Session) -> tuple[Page[svc.NotificationRow], int]:
            return (svc.list_notifications(db, principal, page=self.page, page_size=PAGE_SIZE),
                    svc.unread_count(db, principal))

        result, unread = await run_db(read)
        self.rows = [_view(r) for r in result.rows]
        self.total, self.pages, self.unread_total = result.total, result.pages, unread


def _row(row: rx.Var) -> rx.Component:
    s = NotificationCentreState
    unread = row.unread
    return rx.table.row(
        rx.table.row_header_cell(
            rx.cond(unread, rx.badge("Unread", color_scheme="blue", high_contrast=True, margin_right="8px"),
                    rx.fragment()),
            rx.cond(row.link != "", rx.link(row.title, href=row.link, color=ACCENT, weight="medium"),
                    rx.text(row.title, as_="span")),
            scope="row",
        ),
        rx.table.cell(row.body),
        rx.table.cell(row.when, white_space="nowrap"),
        rx.table.cell(
            rx.cond(unread,
                    secondary_button("Mark read", size="1", aria_label="Mark read: " + row.title,
                                     on_click=s.mark_read(row.id)),
                    rx.text("Read", color=MUTED_TEXT, size="2")),
            white_space="nowrap",
        ),
        font_weight=rx.cond(unread, "600", "400"),
    )


def notification_centre(area: str) -> rx.Component:
    s = NotificationCentreState
    return rx.vstack(
        rx.heading("Notifications", size="7", as_="h1"),
        rx.hstack(
            rx.text(s.unread_total.to_string() + " unread of " + s.total.to_string(), color=MUTED_TEXT),
            secondary_button("Mark all as read", on_click=s.mark_all_read, disabled=s.unread_total == 0),
            align="center",
            spacing="4",
        ),
        rx.cond(s.error != "", error_callout(s.error), rx.fragment()),
        rx.cond(s.done != "", info_callout(s.done), rx.fragment()),
        rx.cond(
            s.total > 0,
            rx.fragment(
                rx.table.root(
                    table_caption("Your notifications"),
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Notification", scope="col"),
                        rx.table.column_header_cell("Details", scope="col"),
                        rx.table.column_header_cell("When", scope="col"),
                        rx.table.column_header_cell("Status", scope="col"),
                    )),
                    rx.table.body(rx.foreach(s.rows, _row)),
                    variant="surface",
                    width="100%",
                ),
                pager(s),
            ),
            rx.text("Nothing yet. Updates about your shipments, documents and bookings appear here.",
                    color=MUTED_TEXT),
        ),
        rx.text(f"Choose what you hear about, in the {'tower' if area == 'tower' else 'portal'} and by email, under ",
                rx.link("Your account", href=routes.in_area(area, routes.PORTAL_ACCOUNT, routes.TOWER_ACCOUNT),
                        color=ACCENT, underline="always"), ".",
                color=MUTED_TEXT, size="2"),
        spacing="4",
        width="100%",
    )
