"""The account pages' "Where you are signed in" section (portal and tower alike): a person's live sessions, ending
one they do not recognise or all the others, and the download of everything the portal holds about them.

A session id in a handler argument only says which row was clicked: the service ends it only if it is one of the
verified person's own (services/account_sessions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.ui import ACCENT, MUTED_TEXT, data_table, error_callout, info_callout, secondary_button
from portal_app.services import account_sessions, words
from portal_app.services.errors import ServiceError
from portal_app.ui.session import page_event, run_db

PERSONAL_DATA_URL = "/api/v1/account/personal-data"


@dataclass(frozen=True)
class SessionLine:
    id: str
    device: str
    address: str
    started: str
    last_seen: str
    current: bool


def _line(s: account_sessions.SessionView) -> SessionLine:
    return SessionLine(id=str(s.id), device=s.device, address=s.address, started=fmt_datetime(s.started_at),
                       last_seen=fmt_datetime(s.last_seen_at) if s.last_seen_at else "—", current=s.current)


class SessionsPanelBase(rx.State, mixin=True):
    """Needs ``page_event`` handlers of its page to call ``_load_sessions`` on load."""

    signed_in_at: list[SessionLine] = []
    sessions_error: str = ""
    sessions_done: str = ""

    async def _load_sessions(self, principal: Principal) -> None:
        try:
            self.signed_in_at = [_line(s) for s in await run_db(account_sessions.list_sessions, principal)]
        except ServiceError as exc:
            self.sessions_error = exc.message

    @page_event()
    async def end_session(self, principal: Principal, session_id: str) -> None:
        self.sessions_error = self.sessions_done = ""
        if not str(session_id).isdigit():
            self.sessions_error = "That session is not in the list. Reload the page; nothing was changed."
            return
        try:
            await run_db(account_sessions.end_session, principal, int(session_id))
            self.sessions_done = "That session is ended: the browser is signed out at its next click."
        except ServiceError as exc:
            self.sessions_error = exc.message
        await self._load_sessions(principal)

    @page_event()
    async def end_other_sessions(self, principal: Principal) -> None:
        self.sessions_error = self.sessions_done = ""
        ended = await run_db(account_sessions.end_other_sessions, principal)
        self.sessions_done = (f"{words.count(ended, 'other session')} ended. You stay signed in here." if ended
                              else "You were signed in nowhere else.")
        await self._load_sessions(principal)


def _row(state: type[SessionsPanelBase]):  # noqa: ANN202
    def row(line: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(line.device, rx.cond(line.current, " (this browser)", ""), scope="row"),
            rx.table.cell(line.address),
            rx.table.cell(line.started),
            rx.table.cell(line.last_seen),
            rx.table.cell(rx.cond(
                line.current,
                rx.text("Use Sign out", color=MUTED_TEXT),
                secondary_button("End", size="1", aria_label="End the session on " + line.device + " at " +
                                 line.address, on_click=state.end_session(line.id)),
            )),
        )
    return row


def sessions_section(state: type[SessionsPanelBase]) -> rx.Component:
    return rx.el.section(
        rx.heading("Where you are signed in", size="5", as_="h2", id="sessions-heading"),
        rx.text("Every browser and program signed in as you. End any you do not recognise, then change your "
                "password.", color=MUTED_TEXT),
        rx.el.div(
            rx.cond(state.sessions_error != "", error_callout(state.sessions_error), rx.fragment()),
            rx.cond(state.sessions_done != "", info_callout(state.sessions_done), rx.fragment()),
            aria_live="polite",
        ),
        data_table("Your sessions", ["Device", "Address", "Signed in", "Last seen", ""], state.signed_in_at,
                   _row(state)),
        rx.hstack(
            secondary_button("End every other session", on_click=state.end_other_sessions),
            rx.link("Download your personal data", href=PERSONAL_DATA_URL, color=ACCENT, weight="medium",
                    is_external=False, download=True),
            spacing="5",
            align="center",
            wrap="wrap",
        ),
        rx.text("The download is one ZIP file with everything this portal holds about you: your profile, "
                "sessions, notifications, the requests you wrote and the audit entries about you.",
                color=MUTED_TEXT, size="2"),
        aria_labelledby="sessions-heading",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "12px"},
    )
