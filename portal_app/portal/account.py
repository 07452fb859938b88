"""Portal: your account (profile, notification preferences, password link) and, for customer admins, colleagues.

Every handler re-authorizes from the session cookie. A colleague's id in a handler argument only says which row
was clicked; the service looks it up inside the admin's own company.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import reflex as rx

from models.enums import Role
from portal_app.auth.permissions import ROLE_LABELS, Permission
from portal_app.auth.principal import Principal
from portal_app.components.api_keys_panel import ApiKeysPanelBase, api_keys_panel
from portal_app.components.erase_person import (
    ErasePersonBase,
    erase_button,
    erase_dialog,
    erase_outcome,
    erased_name,
)
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.mfa_panel import MfaAdminBase, MfaPanelBase, mfa_panel, mfa_policy_form, mfa_reset_button
from portal_app.components.notification_prefs_form import NotificationPrefsBase, preferences_section
from portal_app.components.one_time_secret import one_time_secret, reveal
from portal_app.components.sessions_panel import SessionsPanelBase, sessions_section
from portal_app.components.ui import (
    ACCENT,
    MUTED_TEXT,
    error_callout,
    info_callout,
    labelled_input,
    primary_button,
    secondary_button,
    table_caption,
)
from portal_app.services import accounts as svc
from portal_app.services import notification_prefs as prefs
from portal_app.services.errors import PermissionDenied, ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

TEMPORARY_PASSWORD_ID = "temporary-password"
API_KEYS_INTRO = ("Keys let your company's software (an ERP, a spreadsheet, a script) read and, if you allow it, "
                  "change your shipments, documents and requests over the HTTP API, acting as the person who created "
                  "the key. Every administrator of your company sees and can revoke every key here.")

ROLE_CHOICES = [(r, ROLE_LABELS[Role(r)]) for r in svc.CUSTOMER_ROLE_VALUES]
FIELD_LABEL_STYLE = {"display": "block", "font_weight": "600", "margin_bottom": "4px"}
SELECT_STYLE = {"width": "100%", "padding": "6px 8px", "border": "1px solid var(--portal-field-border)",
                "border_radius": "6px", "background": "var(--portal-surface)", "min_height": "32px"}


@dataclass(frozen=True)
class ProfileForm:
    """The signed-in person's profile as the form shows it (empty until read)."""

    full_name: str = ""
    email: str = ""
    phone: str = ""
    timezone: str = ""
    locale: str = ""
    role: str = ""
    company: str = ""


class PortalAccountState(SessionsPanelBase, ApiKeysPanelBase, NotificationPrefsBase, SessionState):
    AREA: ClassVar[str] = "portal"

    profile: ProfileForm = ProfileForm()
    profile_version: int = 0
    profile_error: str = ""
    profile_done: str = ""
    profile_key: int = 0
    can_manage_colleagues: bool = False

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.profile_error = self.profile_done = ""
        self.can_manage_colleagues = principal.can(Permission.MANAGE_COMPANY_USERS)
        try:  # the preferences below are read even when the profile is refused
            self._show_profile(await run_db(svc.get_profile, principal))
        except ServiceError as exc:
            self.profile_error = exc.message
        await self._load_preferences(principal)
        await self._load_sessions(principal)
        await self._load_api_keys(principal)

    @page_event()
    async def save_profile(self, principal: Principal, form: dict) -> None:
        profile = await run_db(
            svc.update_profile, principal, str(form.get("full_name", "")), str(form.get("phone", "")),
            str(form.get("timezone", "")), str(form.get("locale", "")), expected_version=self.profile_version,
        )
        self._show_profile(profile)
        self.profile_error, self.profile_done = "", "Your profile is saved."

    def _service_refused(self, exc: ServiceError) -> None:
        """The profile's refusals show above the profile form (the preferences have their own place)."""
        self.profile_error, self.profile_done = exc.message, ""

    def _show_profile(self, p: svc.Profile) -> None:
        self.profile = ProfileForm(full_name=p.full_name, email=p.email, phone=p.phone or "", timezone=p.timezone,
                                   locale=p.locale, role=p.role_label, company=p.company_name)
        self.profile_version = p.version
        self.user_name = p.full_name  # the header shows the saved name at once
        self.profile_key += 1  # re-renders the form with the saved values


def _labelled_select(label: str, name: str, options: list[tuple[str, str]], value: rx.Var | str) -> rx.Component:
    field_id = f"field-{name}"
    return rx.box(
        rx.el.label(label, html_for=field_id, style=FIELD_LABEL_STYLE),
        rx.el.select(
            *[rx.el.option(text, value=val) for val, text in options],
            id=field_id, name=name, default_value=value, style=SELECT_STYLE,
        ),
        width="100%",
    )


def _messages(error: rx.Var, done: rx.Var) -> rx.Component:
    return rx.fragment(
        rx.cond(error != "", error_callout(error), rx.fragment()),
        rx.cond(done != "", info_callout(done), rx.fragment()),
    )


def _profile_section() -> rx.Component:
    s = PortalAccountState
    return rx.el.section(
        rx.heading("Profile", size="5", as_="h2", id="profile-heading"),
        rx.text("Signed in as ", rx.text.strong(s.profile.email), " · ", s.profile.role, " at ",
                s.profile.company, color=MUTED_TEXT),
        _messages(s.profile_error, s.profile_done),
        rx.el.form(
            rx.vstack(
                labelled_input("Full name", "full_name", default_value=s.profile.full_name, required=True,
                               auto_complete="name", max_length=svc.NAME_MAX),
                labelled_input("Phone", "phone", default_value=s.profile.phone, type="tel", auto_complete="tel",
                               placeholder="+31 10 123 4567"),
                _labelled_select("Time zone", "timezone", [(z, z) for z in svc.timezones()], s.profile.timezone),
                _labelled_select("Language", "locale", list(svc.LOCALES.items()), s.profile.locale),
                primary_button("Save profile", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=s.save_profile,
            key=s.profile_key,
            max_width="480px",
            width="100%",
        ),
        aria_labelledby="profile-heading",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "12px"},
    )


class PortalMfaState(MfaPanelBase, SessionState):
    """Your two-factor sign-in (also answers someone who must set it up before anything else)."""

    AREA: ClassVar[str] = "portal"


@area_page("portal", routes.PORTAL_TWO_FACTOR, "Two-factor sign-in", PortalMfaState.load_mfa)
def portal_two_factor() -> rx.Component:
    return rx.vstack(
        rx.heading("Two-factor sign-in", size="7", as_="h1"),
        mfa_panel(PortalMfaState, routes.PORTAL),
        spacing="4",
        width="100%",
    )


@area_page("portal", routes.PORTAL_ACCOUNT, "Your account",
           [PortalAccountState.load, PortalMfaState.load_mfa])  # type: ignore[arg-type]
def portal_account() -> rx.Component:
    return rx.vstack(
        rx.heading("Your account", size="7", as_="h1"),
        _profile_section(),
        preferences_section(PortalAccountState, prefs.CUSTOMER_KINDS,
                            "Choose what we tell you about, in the portal and by email."),
        mfa_panel(PortalMfaState, routes.PORTAL),
        rx.el.section(
            rx.heading("Sign-in", size="5", as_="h2"),
            rx.hstack(
                rx.link("Change password", href=routes.PORTAL_PASSWORD, color=ACCENT, weight="medium"),
                rx.cond(
                    PortalAccountState.can_manage_colleagues,
                    rx.fragment(
                        rx.link("Manage colleagues", href=routes.PORTAL_COLLEAGUES, color=ACCENT, weight="medium"),
                        rx.link("Audit trail", href=routes.PORTAL_AUDIT, color=ACCENT, weight="medium"),
                        rx.link("Webhooks", href=routes.PORTAL_WEBHOOKS, color=ACCENT, weight="medium"),
                    ),
                    rx.fragment(),
                ),
                spacing="5",
            ),
        ),
        sessions_section(PortalAccountState),
        api_keys_panel(PortalAccountState, API_KEYS_INTRO),
        spacing="6",
        width="100%",
    )


# --- colleagues ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColleagueLine:
    """One colleague in the admin's list. ``id`` only names which row was clicked."""

    id: str
    full_name: str
    email: str
    role: str
    role_label: str
    active: bool
    status: str
    last_login: str
    is_you: bool
    mfa: str  # "On" or "Off"
    mfa_on: bool
    erased: bool = False  # personal data erased: the name is a pseudonym, and the row has no actions


def _colleague_view(u: svc.CompanyUser) -> ColleagueLine:
    return ColleagueLine(
        id=str(u.id),
        full_name=u.full_name,
        email=u.email,
        role=u.role,
        role_label=ROLE_LABELS[Role(u.role)],
        active=u.is_active,
        status="Erased" if u.erased else "Active" if u.is_active else "Deactivated",
        last_login=fmt_datetime(u.last_login_at) if u.last_login_at else "Never",
        is_you=u.is_you,
        mfa="On" if u.mfa_enabled else "Off",
        mfa_on=u.mfa_enabled,
        erased=u.erased,
    )


class PortalColleaguesState(ErasePersonBase, MfaAdminBase, SessionState):
    AREA: ClassVar[str] = "portal"

    colleagues: list[ColleagueLine] = []
    allowed: bool = False
    error: str = ""
    done: str = ""
    password_shown: bool = False  # the new colleague's temporary password is on screen (it is never a state value)
    add_key: int = 0

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.error = self.done = ""
        self.password_shown = False
        self.erase_notice = self.erase_error = self.erase_id = ""
        await self._fetch(principal)
        if self.allowed:
            await self._load_mfa_policy(principal)

    def _mfa_said(self, message: str) -> None:
        self.error, self.done, self.password_shown = "", message, False

    @page_event()
    async def add_colleague(self, principal: Principal, form: dict) -> Any:
        self.password_shown = False
        created = await run_db(
            svc.create_company_user, principal, str(form.get("new_email", "")),
            str(form.get("new_full_name", "")), str(form.get("new_role", "")),
        )
        self.error = ""
        self.done = f"{created.user.full_name} ({created.user.email}) is added."
        self.password_shown = True
        self.add_key += 1
        await self._fetch(principal)
        return reveal(TEMPORARY_PASSWORD_ID, created.temporary_password)

    @page_event()
    async def set_colleague_level(self, principal: Principal, colleague: str, level: str) -> None:
        await self._change(principal, colleague, role=str(level))

    @page_event()
    async def set_colleague_active(self, principal: Principal, colleague: str, active: bool) -> None:
        await self._change(principal, colleague, active=bool(active))

    def _erase_candidate(self, person: str) -> tuple[str, str] | None:
        row = next((c for c in self.colleagues if c.id == person and not c.is_you and not c.erased), None)
        return (row.full_name, "colleagues") if row is not None else None

    def _erase_said(self) -> None:
        self.error, self.done, self.password_shown = "", "", False

    def _service_refused(self, exc: ServiceError) -> None:
        self.error, self.done = exc.message, ""

    async def _change(self, principal: Principal, colleague: str, **change: Any) -> None:
        self.password_shown = False
        if not str(colleague).isdigit():
            self.error, self.done = "That colleague is not in the list. Reload the page; nothing was changed.", ""
            return
        try:  # refused or not, the list is read again
            row = await run_db(svc.update_company_user, principal, int(colleague), **change)
        except ServiceError as exc:
            self.error, self.done = exc.message, ""
        else:
            view = _colleague_view(row)
            self.error = ""
            self.done = f"Saved: {view.full_name} is now {view.role_label.lower()}, {view.status.lower()}."
        await self._fetch(principal)

    async def _fetch(self, principal: Principal) -> None:
        try:  # who may not manage colleagues sees why instead of the list
            rows = await run_db(svc.list_company_users, principal)
        except PermissionDenied:
            self.allowed, self.colleagues = False, []
            self.error = ("Only a customer admin of your company can manage colleagues. Ask one of them to add "
                          "or change people; nothing was changed.")
            return
        except ServiceError as exc:
            self.allowed, self.colleagues, self.error = False, [], exc.message
            return
        self.allowed = True
        self.colleagues = [_colleague_view(u) for u in rows]


def _erased_colleague_row(row: rx.Var) -> rx.Component:
    """An erased colleague: the pseudonym marked Erased, nothing to change."""
    return rx.table.row(
        rx.table.row_header_cell(erased_name(row.full_name), scope="row"),
        *[rx.table.cell(rx.text("—", color=MUTED_TEXT)) for _ in range(6)],
    )


def _colleague_row(row: rx.Var) -> rx.Component:
    return rx.cond(row.erased, _erased_colleague_row(row), _live_colleague_row(row))


def _live_colleague_row(row: rx.Var) -> rx.Component:
    s = PortalColleaguesState
    is_you = row.is_you
    return rx.table.row(
        rx.table.row_header_cell(row.full_name, rx.cond(is_you, " (you)", ""), scope="row"),
        rx.table.cell(row.email),
        rx.table.cell(
            rx.el.select(
                *[rx.el.option(text, value=val) for val, text in ROLE_CHOICES],
                value=row.role,
                on_change=lambda value: s.set_colleague_level(row.id, value),
                disabled=is_you,
                aria_label="Role of " + row.full_name,
                style=SELECT_STYLE,
            ),
        ),
        rx.table.cell(row.status),
        rx.table.cell(row.last_login),
        rx.table.cell(row.mfa),
        rx.table.cell(
            rx.cond(
                is_you,
                rx.text("—", color=MUTED_TEXT),
                rx.hstack(
                    rx.cond(
                        row.active,
                        secondary_button("Deactivate", size="1", aria_label="Deactivate " + row.full_name,
                                         on_click=s.set_colleague_active(row.id, False)),
                        secondary_button("Activate", size="1", aria_label="Activate " + row.full_name,
                                         on_click=s.set_colleague_active(row.id, True)),
                    ),
                    erase_button(s, row.id, row.full_name),
                    rx.cond(row.mfa_on, mfa_reset_button(s, row.id, row.full_name), rx.fragment()),
                    spacing="2", wrap="wrap",
                ),
            ),
        ),
    )


def _add_colleague_form() -> rx.Component:
    s = PortalColleaguesState
    return rx.el.section(
        rx.heading("Add a colleague", size="5", as_="h2", id="add-heading"),
        rx.text("They get a temporary password, shown here once. Share it securely; they should change it at "
                "first sign-in (Change password, at the top of every page).", color=MUTED_TEXT),
        rx.el.form(
            rx.vstack(
                labelled_input("Full name", "new_full_name", required=True, auto_complete="off",
                               max_length=svc.NAME_MAX),
                labelled_input("Email", "new_email", type="email", required=True, auto_complete="off"),
                _labelled_select("Role", "new_role", ROLE_CHOICES, svc.CUSTOMER_ROLE_VALUES[0]),
                primary_button("Add colleague", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=s.add_colleague,
            key=s.add_key,
            max_width="480px",
            width="100%",
        ),
        aria_labelledby="add-heading",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "12px"},
    )


def _new_password_notice() -> rx.Component:
    return one_time_secret(
        TEMPORARY_PASSWORD_ID, "Temporary password", PortalColleaguesState.password_shown,
        "It is shown only now. Share it securely; they should change it at first sign-in.", "temporary-password",
    )


@area_page("portal", routes.PORTAL_COLLEAGUES, "Colleagues", PortalColleaguesState.load)
def portal_colleagues() -> rx.Component:
    s = PortalColleaguesState
    headers = ["Name", "Email", "Role", "Status", "Last sign-in", "Two-factor", "Access"]
    return rx.vstack(
        rx.heading("Colleagues", size="7", as_="h1"),
        rx.link("Back to your account", href=routes.PORTAL_ACCOUNT, color=ACCENT),
        _messages(s.error, s.done),
        _new_password_notice(),
        erase_dialog(s),
        rx.cond(
            s.allowed,
            rx.vstack(
                rx.text("People of ", s.company_name, " who can sign in to this portal. Deactivated colleagues "
                        "are signed out at once and cannot sign in until activated again.", color=MUTED_TEXT),
                erase_outcome(s, "colleagues"),
                rx.table.root(
                    table_caption("Colleagues"),
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
                    rx.table.body(rx.foreach(s.colleagues, _colleague_row)),
                    variant="surface",
                    width="100%",
                ),
                mfa_policy_form(s, "everyone at your company"),
                _add_colleague_form(),
                spacing="5",
                width="100%",
            ),
            rx.fragment(),
        ),
        spacing="4",
        width="100%",
    )
