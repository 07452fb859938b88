"""Changing your own password (portal and tower). Other sessions of the user end; this one stays."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.auth.sessions import change_password
from portal_app.components.ui import (
    MUTED_TEXT,
    error_callout,
    info_callout,
    labelled_input,
    primary_button,
)
from portal_app.ui.session import page_event, run_db


class PasswordChangeBase(rx.State, mixin=True):
    AREA: ClassVar[str] = "portal"  # "portal" or "tower"; subclasses override

    error: str = ""
    done: str = ""
    form_key: int = 0

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.error = self.done = ""

    @page_event()
    async def submit(self, principal: Principal, form: dict) -> None:
        self.done = ""
        new, repeat = str(form.get("new_password", "")), str(form.get("repeat_password", ""))
        if new != repeat:
            self.error = "The two new passwords differ. Type the same new password twice; nothing was changed."
            return
        ended = await run_db(change_password, principal, str(form.get("current_password", "")), new)
        self.error = ""
        self.done = (
            "Your password is changed and saved. "
            + (f"{ended} other session(s) were signed out." if ended else "You had no other sessions.")
        )
        self.form_key += 1  # clears the fields


def password_change_view(state: type[PasswordChangeBase]) -> rx.Component:
    return rx.vstack(
        rx.heading("Change your password", size="7", as_="h1"),
        rx.text("Use at least 10 characters, mixing letters with digits or symbols. "
                "Changing it signs you out everywhere else.", color=MUTED_TEXT),
        rx.cond(state.error != "", error_callout(state.error), rx.fragment()),
        rx.cond(state.done != "", info_callout(state.done), rx.fragment()),
        rx.el.form(
            rx.vstack(
                labelled_input("Current password", "current_password", type="password",
                               auto_complete="current-password", required=True),
                labelled_input("New password", "new_password", type="password", auto_complete="new-password",
                               required=True),
                labelled_input("Repeat the new password", "repeat_password", type="password",
                               auto_complete="new-password", required=True),
                primary_button("Change password", type="submit"),
                spacing="4",
                width="100%",
            ),
            on_submit=state.submit,
            reset_on_submit=True,
            key=state.form_key,
            max_width="420px",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
