"""Two-factor sign-in on the pages: the person's own panel (set up an authenticator app, turn it off) and the
admins' pieces (reset someone's second factor, require it for everyone), for the portal and the tower alike.

The secret, its QR code and the recovery codes are never page state (state is kept on the server for the tab and
sent again on reconnect): the handler answers with browser-only events that write them into fields already on the
page (components/one_time_secret.py), and the state holds only which notices are shown. Rules: docs/identity.md.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.one_time_secret import reveal
from portal_app.components.ui import (
    ACCENT,
    LABEL_STYLE,
    MUTED_TEXT,
    error_callout,
    info_callout,
    labelled_input,
    primary_button,
    secondary_button,
)
from portal_app.services import mfa
from portal_app.services.errors import ServiceError
from portal_app.ui.session import page_event, run_db

SECRET_ID = "mfa-secret"
QR_ID = "mfa-qr"
CODES_ID = "mfa-recovery-codes"


def _client_ip(state: rx.State) -> str | None:
    """The address the page's connection came from (decided by the client-address middleware)."""
    return getattr(state.router.session, "client_ip", None) or None


class MfaPanelBase(rx.State, mixin=True):
    """The signed-in person's own two-factor sign-in. Its handlers also answer someone who must set it up first."""

    AREA: ClassVar[str] = "portal"
    ENROLMENT_PAGE: ClassVar[bool] = True

    mfa_known: bool = False
    mfa_enabled: bool = False
    mfa_required: bool = False
    mfa_codes_left: int = 0
    mfa_setting_up: bool = False  # the QR code and secret are on screen, waiting for the first code
    mfa_codes_shown: bool = False  # the recovery codes are on screen (shown once)
    mfa_renewing: bool = False  # the form asking for a proof before new recovery codes is open
    mfa_error: str = ""
    mfa_done: str = ""
    mfa_form_key: int = 0

    @page_event()
    async def load_mfa(self, principal: Principal) -> None:
        self.mfa_error = self.mfa_done = ""
        self.mfa_setting_up = self.mfa_codes_shown = self.mfa_renewing = False
        self._show_mfa(await run_db(mfa.status, principal))

    @page_event()
    async def start_mfa(self, principal: Principal) -> Any:
        self.mfa_error = self.mfa_done = ""
        started = await run_db(mfa.start_enrolment, principal)
        self.mfa_setting_up, self.mfa_codes_shown = True, False
        self.mfa_form_key += 1
        return [reveal(SECRET_ID, started.secret),
                rx.call_script(f"document.getElementById('{QR_ID}').src = {json.dumps(started.qr_svg)}")]

    @page_event()
    async def confirm_mfa(self, principal: Principal, form: dict) -> Any:
        self.mfa_done = ""
        codes = await run_db(mfa.confirm_enrolment, principal, str(form.get("mfa_code", ""))[:32])
        self.mfa_error = ""
        self.mfa_setting_up, self.mfa_codes_shown = False, True
        self.mfa_done = ("Two-factor sign-in is on. From now on you sign in with your password and a code from "
                         "your authenticator app.")
        self._show_mfa(await run_db(mfa.status, principal))
        return [reveal(SECRET_ID, ""), reveal(CODES_ID, "\n".join(codes.recovery_codes))]

    @page_event()
    async def disable_mfa(self, principal: Principal, form: dict) -> None:
        self.mfa_done = ""
        status = await run_db(mfa.disable, principal, code=str(form.get("mfa_off_code", ""))[:32] or None,
                              password=str(form.get("mfa_off_password", ""))[:256] or None, ip=_client_ip(self))
        self.mfa_error, self.mfa_codes_shown = "", False
        self.mfa_done = "Two-factor sign-in is off. You sign in with your password alone."
        self._show_mfa(status)
        self.mfa_form_key += 1

    @page_event()
    async def ask_new_codes(self, principal: Principal, open_it: bool) -> None:
        """Open (or close) the form that asks for a proof before new recovery codes are made."""
        self.mfa_error = self.mfa_done = ""
        self.mfa_renewing, self.mfa_codes_shown = bool(open_it), False
        self.mfa_form_key += 1

    @page_event()
    async def renew_recovery_codes(self, principal: Principal, form: dict) -> Any:
        self.mfa_done = ""
        codes = await run_db(mfa.regenerate_recovery_codes, principal,
                             code=str(form.get("mfa_renew_code", ""))[:32] or None,
                             password=str(form.get("mfa_renew_password", ""))[:256] or None, ip=_client_ip(self))
        self.mfa_error, self.mfa_renewing, self.mfa_codes_shown = "", False, True
        self.mfa_done = ("You have ten new recovery codes, below. Your earlier recovery codes no longer work, used "
                         "or not.")
        self._show_mfa(await run_db(mfa.status, principal))
        self.mfa_form_key += 1
        return reveal(CODES_ID, "\n".join(codes.recovery_codes))

    def _service_refused(self, exc: ServiceError) -> None:
        self.mfa_error, self.mfa_done = exc.message, ""

    def _show_mfa(self, status: mfa.MfaStatus) -> None:
        self.mfa_known = True
        self.mfa_enabled, self.mfa_required, self.mfa_codes_left = status.enabled, status.required, \
            status.recovery_codes_left


def _messages(state: type[MfaPanelBase]) -> rx.Component:
    return rx.fragment(
        rx.cond(state.mfa_error != "", error_callout(state.mfa_error, high_contrast=True), rx.fragment()),
        rx.cond(state.mfa_done != "", info_callout(state.mfa_done), rx.fragment()),
    )


def _set_up(state: type[MfaPanelBase]) -> rx.Component:
    """Scan or type the secret, then confirm with the app's first code; always on the page, shown while setting up."""
    return rx.el.div(
        rx.el.ol(
            rx.el.li(
                rx.el.p("Open an authenticator app (for example Google Authenticator, Microsoft Authenticator, "
                        "1Password or Aegis) and add an account by scanning this QR code:"),
                rx.el.img(id=QR_ID, alt="QR code holding your two-factor secret", width="200", height="200",
                          style={"margin": "8px 0", "background": "white", "display": "block"}),
            ),
            rx.el.li(
                rx.el.p("Or type this secret key into the app instead:"),
                rx.el.div(
                    rx.el.label("Secret key", html_for=SECRET_ID, style=LABEL_STYLE),
                    rx.el.input(id=SECRET_ID, read_only=True, auto_complete="off", spell_check=False,
                                class_name="text-input", data_testid="mfa-secret",
                                style={"font_family": "monospace", "max_width": "24em"}),
                    style={"margin": "4px 0 12px"},
                ),
            ),
            rx.el.li(rx.el.p("Enter the 6-digit code the app shows now:")),
            style={"padding_left": "24px", "list_style": "decimal", "margin": "0 0 8px"},
        ),
        rx.el.form(
            rx.vstack(
                labelled_input("Code from the app", "mfa_code", id="mfa-code", input_mode="numeric",
                               auto_complete="one-time-code", required=True, max_length=6, pattern="[0-9]{6}"),
                primary_button("Turn on two-factor sign-in", type="submit"),
                spacing="3", max_width="320px",
            ),
            on_submit=state.confirm_mfa, reset_on_submit=True, key=state.mfa_form_key,
        ),
        display=rx.cond(state.mfa_setting_up, "block", "none"),
        width="100%",
    )


def _recovery_codes(state: type[MfaPanelBase]) -> rx.Component:
    return rx.el.div(
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.el.div(
                rx.el.label("Recovery codes", html_for=CODES_ID, style=LABEL_STYLE),
                rx.el.textarea(id=CODES_ID, read_only=True, rows=11, spell_check=False, data_testid="mfa-codes",
                               class_name="text-input",
                               style={"font_family": "monospace", "max_width": "14em", "height": "auto"}),
                rx.text("Shown only now. Keep them somewhere safe (a password manager, or printed): each one signs "
                        "you in once if you lose your phone.", size="2"),
                style={"display": "flex", "flex_direction": "column", "gap": "6px"},
            ),
            role="status", width="100%",
        ),
        display=rx.cond(state.mfa_codes_shown, "block", "none"),
        width="100%",
    )


def _turn_off(state: type[MfaPanelBase]) -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.text("To turn it off, enter a current code from the app (or a recovery code) or your password.",
                    color=MUTED_TEXT),
            labelled_input("Code from the app", "mfa_off_code", id="mfa-off-code", auto_complete="one-time-code",
                           max_length=12),
            labelled_input("Or your password", "mfa_off_password", id="mfa-off-password", type="password",
                           auto_complete="current-password"),
            secondary_button("Turn off two-factor sign-in", type="submit"),
            spacing="3", max_width="320px",
        ),
        on_submit=state.disable_mfa, reset_on_submit=True, key=state.mfa_form_key,
    )


def _new_codes(state: type[MfaPanelBase]) -> rx.Component:
    """New recovery codes (lost, or nearly used up): the person proves it is them; the old codes stop working."""
    return rx.cond(
        state.mfa_renewing,
        rx.el.form(
            rx.vstack(
                rx.text("Make ten new recovery codes: enter a current code from the app (or a recovery code) or "
                        "your password. Your earlier recovery codes stop working at once.", color=MUTED_TEXT),
                labelled_input("Current code or recovery code", "mfa_renew_code", id="mfa-renew-code",
                               auto_complete="one-time-code", max_length=12),
                labelled_input("Your password instead", "mfa_renew_password", id="mfa-renew-password",
                               type="password", auto_complete="current-password"),
                rx.hstack(
                    primary_button("Make new recovery codes", type="submit"),
                    secondary_button("Keep my codes", type="button", on_click=state.ask_new_codes(False)),
                    spacing="3", wrap="wrap",
                ),
                spacing="3", max_width="360px",
            ),
            on_submit=state.renew_recovery_codes, reset_on_submit=True, key=state.mfa_form_key,
            aria_label="New recovery codes",
        ),
        rx.box(secondary_button("New recovery codes", type="button", on_click=state.ask_new_codes(True))),
    )


def mfa_panel(state: type[MfaPanelBase], home: str) -> rx.Component:
    """The person's two-factor sign-in section (``home``: where to continue once it is on)."""
    return rx.el.section(
        rx.heading("Two-factor sign-in", size="5", as_="h2", id="mfa-heading"),
        rx.text("A second step at sign-in: after your password, a 6-digit code from an authenticator app on your "
                "phone. Someone who learns your password still cannot sign in.", color=MUTED_TEXT),
        _messages(state),
        _recovery_codes(state),
        rx.cond(
            state.mfa_enabled,
            rx.vstack(
                rx.text(rx.text.strong("On."), " ", state.mfa_codes_left, " unused recovery codes left.",
                        data_testid="mfa-status"),
                rx.cond(state.mfa_codes_shown,
                        rx.link("Continue", href=home, color=ACCENT, weight="medium"), rx.fragment()),
                rx.cond(state.mfa_required,
                        rx.text("Your company requires two-factor sign-in: if you turn it off, you set it up again "
                                "before anything else.", color=MUTED_TEXT), rx.fragment()),
                _new_codes(state),
                _turn_off(state),
                spacing="3", width="100%",
            ),
            rx.vstack(
                rx.text(rx.text.strong("Off."), data_testid="mfa-status"),
                rx.cond(state.mfa_required,
                        error_callout("Your company requires two-factor sign-in. Set it up now to continue; "
                                      "nothing else is available until then.", high_contrast=True),
                        rx.fragment()),
                rx.cond(state.mfa_known & ~state.mfa_setting_up,
                        primary_button("Set up two-factor sign-in", on_click=state.start_mfa), rx.fragment()),
                _set_up(state),
                spacing="3", width="100%",
            ),
        ),
        aria_labelledby="mfa-heading",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "12px"},
    )


# --- the admins' pieces -------------------------------------------------------------------------------------------


class MfaAdminBase(rx.State, mixin=True):
    """An admin's list of people: reset someone's second factor, require it for everyone of the company.

    The state using it reads the list again in ``_fetch(principal)`` and says what was done in ``_mfa_said``.
    """

    mfa_policy_required: bool = False

    async def _load_mfa_policy(self, principal: Principal) -> None:
        self.mfa_policy_required = (await run_db(mfa.policy, principal)).required

    @page_event()
    async def reset_mfa(self, principal: Principal, person: str) -> None:
        if not str(person).isdigit():
            return
        done = await run_db(mfa.reset, principal, int(person))
        self._mfa_said(f"{done.full_name}'s two-factor sign-in is reset: they were signed out and told by email, "
                       "and sign in with their password until they set it up again.")
        await self._fetch(principal)  # type: ignore[attr-defined]

    @page_event()
    async def set_mfa_policy(self, principal: Principal, form: dict) -> None:
        required = str(form.get("mfa_required", "")) == "on"
        self.mfa_policy_required = (await run_db(mfa.set_policy, principal, required)).required
        self._mfa_said("Saved: two-factor sign-in is now required of everyone." if required else
                       "Saved: two-factor sign-in is no longer required (people may still use it).")

    def _mfa_said(self, message: str) -> None:
        raise NotImplementedError


def mfa_reset_button(state: type[MfaAdminBase], person_id: rx.Var, name: rx.Var) -> rx.Component:
    return secondary_button("Reset two-factor", size="1", aria_label="Reset two-factor sign-in of " + name,
                            on_click=state.reset_mfa(person_id))


def mfa_policy_form(state: type[MfaAdminBase], who: str, note: str = "") -> rx.Component:
    """The switch that requires two-factor sign-in of ``who`` (e.g. "everyone at your company")."""
    return rx.el.form(
        rx.vstack(
            rx.el.label(
                rx.el.input(type="checkbox", name="mfa_required", id="mfa-required",
                            default_checked=state.mfa_policy_required, class_name="native-checkbox",
                            key=state.mfa_policy_required.to_string()),
                f" Require two-factor sign-in of {who}",
                html_for="mfa-required",
                style={"display": "flex", "gap": "6px", "align_items": "center", "font_weight": "600"},
            ),
            rx.text("Whoever has not set it up is taken to set it up right after signing in, and can do nothing "
                    "else first. Set it up for yourself before requiring it." + (f" {note}" if note else ""),
                    size="2", color=MUTED_TEXT),
            secondary_button("Save two-factor policy", type="submit", size="2"),
            spacing="2", align="start",
        ),
        on_submit=state.set_mfa_policy,
        aria_label="Two-factor policy",
    )
