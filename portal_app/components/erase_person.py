"""Erasing a person's personal data (GDPR) from an administrator's list of people: the portal's colleagues page and
the tower's organisation page share it (the service is ``services/privacy.erase_person``).

A row's Erase button opens a dialog (components/decision_dialog.py) that says what will happen and that it cannot
be undone. The row's id only names which row was clicked: the state looks it up among the rows it showed, and the
service decides from the verified session who may be erased. A refusal stays in the dialog, beside its button; the
result is said next to the list (``erase_outcome``), where focus goes when the dialog closes (the clicked button
has gone with the row's actions), and the erased person's row shows their pseudonym, marked Erased, with no actions.
"""

from __future__ import annotations

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.decision_dialog import cancel_button, decision_dialog
from portal_app.components.outcome import outcome
from portal_app.components.ui import MUTED_TEXT, primary_button, secondary_button, tone_badge
from portal_app.services import privacy
from portal_app.services.errors import ServiceError
from portal_app.ui.session import page_event, run_db

WHAT_HAPPENS = ("Their name and email are replaced by a pseudonym everywhere the portal keeps them, they can never "
                "sign in again, and their sessions and API keys end at once. Shipments, invoices and request "
                "threads stay, signed by the pseudonym. This cannot be undone.")


class ErasePersonBase(rx.State, mixin=True):
    """Ask, confirm and say the result of erasing a person of the page's list.

    The state using it names the rows it showed in ``_erase_candidate``, reads its list again in
    ``_fetch(principal)`` and clears its other messages in ``_erase_said``.
    """

    erase_id: str = ""  # the person whose erasure waits for the dialog's confirmation (only names the row)
    erase_name: str = ""
    erase_at: str = ""  # which list of the page the person is in: the result is said next to it
    erase_notice: str = ""
    erase_error: str = ""

    def _erase_candidate(self, person: str) -> tuple[str, str] | None:
        """The row ``person`` names among those shown, not erased yet: (its name, which list), or None."""
        raise NotImplementedError

    def _erase_said(self) -> None:
        """Clear the page's other result lines: the erasure's result is the latest word."""

    @page_event()
    async def ask_erase(self, principal: Principal, person: str) -> None:
        self.erase_error = self.erase_notice = ""
        person = str(person)[:12]
        found = self._erase_candidate(person) if person.isdigit() else None
        if found is None:
            self.erase_id = self.erase_name = ""
            return
        self.erase_id = person
        self.erase_name, self.erase_at = found

    @page_event()
    async def erase_dialog_open(self, principal: Principal, open_it: bool) -> None:
        """Escape or Keep them closes the dialog: nothing is erased."""
        if not open_it:
            self.erase_id = self.erase_name = self.erase_error = ""

    @page_event()
    async def confirm_erase(self, principal: Principal) -> None:
        person, name = self.erase_id, self.erase_name
        if not person.isdigit():
            self.erase_id = self.erase_name = ""
            return
        try:
            pseudonym = await run_db(privacy.erase_person, principal, int(person))
        except ServiceError as exc:  # said in the dialog, which stays open
            self.erase_error = exc.message
            return
        self.erase_id = self.erase_name = self.erase_error = ""
        self._erase_said()
        self.erase_notice = (f"{name}'s personal data is erased: they appear as {pseudonym} from now on, cannot "
                             "sign in, and their sessions and API keys have ended. Business records are unchanged.")
        await self._fetch(principal)  # type: ignore[attr-defined]


def erase_button(state: type[ErasePersonBase], person_id: rx.Var, name: rx.Var) -> rx.Component:
    return secondary_button("Erase", size="1", type="button", aria_label="Erase the personal data of " + name,
                            aria_haspopup="dialog", on_click=state.ask_erase(person_id))


def erased_label() -> rx.Component:
    return tone_badge("Erased", "gray")


def erased_name(name: rx.Var) -> rx.Component:
    """An erased person as lists show them: the pseudonym and the Erased label."""
    return rx.hstack(rx.text(name, color=MUTED_TEXT), erased_label(), spacing="2", align="center", wrap="wrap")


def erase_dialog(state: type[ErasePersonBase]) -> rx.Component:
    return decision_dialog(
        "Erase the personal data of " + state.erase_name + "?",
        WHAT_HAPPENS,
        rx.hstack(
            primary_button("Erase personal data", type="button", on_click=state.confirm_erase),
            cancel_button("Keep them"),
            spacing="3", wrap="wrap",
        ),
        outcome("", state.erase_error, error_test_id="erase-error"),
        open=state.erase_id != "",
        on_open_change=state.erase_dialog_open,
        test_id="erase-dialog",
        width="520px",
    )


def erase_outcome(state: type[ErasePersonBase], here: str) -> rx.Component:
    """The result of an erasure from the list ``here``, placed next to that list; focus lands here when the
    dialog closes."""
    return rx.box(
        outcome(state.erase_notice, "", where=state.erase_at, here=here, test_id="erase-notice"),
        data_focus_after_dialog=rx.cond(state.erase_at == here, "1", None),
        tab_index=-1,
        width="100%",
    )
