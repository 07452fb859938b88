"""The banner a page shows when one of its actions failed on our side: what broke, that it may not have been saved,
what to do next, and an error id to quote (the log has the traceback under the same id, see ``page_errors``). When
the database did not answer, it says so: the action was not saved, and trying again in a few seconds is the remedy."""

from __future__ import annotations

import re

import reflex as rx

ERROR_ID = re.compile(r"^[0-9A-F]{8}$")


# The one cause the banner names: the database did not answer (the action was not saved; trying again helps).
DATABASE = "database"


class ProblemState(rx.State):
    """Only the id of the last unexpected error of this tab, and whether the database was the cause; nothing about
    the error itself reaches the browser."""

    error_id: str = ""
    database_down: bool = False

    def show(self, error_id: str, cause: str = "") -> None:
        """Queued by the backend exception handler. Callable from the browser too, where it can only show the
        tab's own banner, so it accepts nothing but an error id's form and a known cause."""
        if ERROR_ID.match(str(error_id)):
            self.error_id = str(error_id)
            self.database_down = cause == DATABASE

    def dismiss(self) -> None:
        self.error_id = ""
        self.database_down = False


def problem_banner() -> rx.Component:
    """Drawn once for every page (the app's overlay), above the content, only while there is an error id."""
    return rx.cond(
        ProblemState.error_id != "",
        rx.el.div(
            rx.cond(
                ProblemState.database_down,
                rx.el.div(
                    rx.el.strong("The database is not answering right now. "),
                    "Your last action on this page was not saved: it may be restarting. Try again in a few "
                    "seconds. If it keeps happening, contact us and quote error ",
                    rx.el.strong(ProblemState.error_id, data_testid="error-id"),
                    ".",
                ),
                rx.el.div(
                    rx.el.strong("Something went wrong on our side. "),
                    "Your last action on this page did not finish, and what it was doing may not have been saved. "
                    "Reload the page and check, then try again. If it happens again, contact us and quote error ",
                    rx.el.strong(ProblemState.error_id, data_testid="error-id"),
                    ".",
                ),
            ),
            rx.el.button("Dismiss", type="button", on_click=ProblemState.dismiss, class_name="problem-dismiss"),
            role="alert",
            class_name="problem-banner",
            data_testid="problem-banner",
        ),
        rx.fragment(),
    )
