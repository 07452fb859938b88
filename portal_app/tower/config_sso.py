"""Tower: configuration, single sign-on. Which identity provider signs in the staff and each customer company, for
which email domains, the role of people it creates and whether passwords stay allowed. Administrators only; the
rules (issuer checks, one company per domain, the encrypted secret) are ``services/config/sso.py``'s."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.ops import PickerOption
from portal_app.components.ui import MUTED_TEXT, data_table, primary_button, responsive_grid, secondary_button
from portal_app.components.work_queue import checked_input, native_select, stacked_form
from portal_app.services.config import sso as svc
from portal_app.services.errors import FormInvalid, NotFound
from portal_app.services.inputs import parse
from portal_app.tower.config_base import ConfigMixin, check, config_page, form_bool, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CONFIG_SSO
STAFF = "staff"
ROLE_WORDS = {"customer_user": "Customer user", "customer_admin": "Customer administrator",
              "ops_agent": "Ops agent", "ops_manager": "Ops manager"}


@dataclass(frozen=True)
class SsoOverviewLine:
    """One company (or the staff) in the "who signs in how" table."""

    company: str
    status: str
    domains: str
    passwords: str


def settings_from_form(form: dict) -> svc.SsoSettingsIn:
    """The form as the service's input model; domains separated by commas, spaces or lines."""
    domains = [d for d in form_text(form, "email_domains", 2000).replace(",", " ").split() if d]
    return parse(svc.SsoSettingsIn, {
        "issuer": form_text(form, "issuer", 300), "client_id": form_text(form, "client_id", 300),
        "client_secret": form_text(form, "client_secret", 1100) or None, "email_domains": domains,
        "default_role": form_text(form, "default_role", 40),
        "password_login_allowed": form_bool(form.get("password_login_allowed")),
        "trust_provider_mfa": form_bool(form.get("trust_provider_mfa")),
    })


def _read(db, principal, company: str):  # noqa: ANN001, ANN202
    """The overview and the chosen company's settings (None when it has no provider)."""
    rows = svc.overview(db, principal)
    try:
        current = (svc.get_staff_sso(db, principal) if company == STAFF
                   else svc.get_company_sso(db, principal, int(company)))
    except (NotFound, ValueError):
        current = None
    return rows, current


class ConfigSsoState(ConfigMixin, SessionState):
    rows: list[SsoOverviewLine] = []
    companies: list[PickerOption] = []
    company: str = STAFF
    chosen_name: str = ""
    connected: bool = False
    secret_set: bool = False
    values: dict[str, str] = {}
    roles: list[PickerOption] = []

    async def _load_company(self, principal: Principal) -> None:
        rows, current = await run_db(_read, principal, self.company)
        self.rows = [SsoOverviewLine(company=r.company_name + (" (staff)" if r.is_staff else ""),
                                     status="Connected" if r.connected else "Passwords only",
                                     domains=", ".join(r.email_domains),
                                     passwords="allowed" if r.password_login_allowed else "not allowed")
                     for r in rows]
        self.companies = [PickerOption(value=STAFF if r.is_staff else str(r.company_id),
                                       label=r.company_name + (" (staff)" if r.is_staff else "")) for r in rows]
        chosen = next((r for r in rows if (STAFF if r.is_staff else str(r.company_id)) == self.company), None)
        if chosen is None:
            self.company, chosen = STAFF, rows[0]
        self.chosen_name = chosen.company_name
        roles = svc.STAFF_ROLES if chosen.is_staff else svc.CUSTOMER_ROLES
        self.roles = [PickerOption(value=r, label=ROLE_WORDS[r]) for r in roles]
        self.connected, self.secret_set = current is not None, bool(current and current.client_secret_set)
        self.values = {
            "issuer": current.issuer if current else "", "client_id": current.client_id if current else "",
            "email_domains": ", ".join(current.email_domains) if current else "",
            "default_role": current.default_role if current else roles[0],
            "password_login_allowed": "1" if current is None or current.password_login_allowed else "",
            "trust_provider_mfa": "1" if current is not None and current.trust_provider_mfa else "",
        }
        self.form_key += 1

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors = "", "", {}
        await self._load_company(principal)

    @page_event("tower")
    async def choose(self, principal: Principal, company: str) -> None:
        if not self._may_configure(principal):
            return
        self.company = str(company)[:20]
        self.notice, self.error, self.field_errors = "", "", {}
        await self._load_company(principal)

    @page_event("tower")
    async def save(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        try:
            body = settings_from_form(form)
        except FormInvalid as exc:
            self._service_refused(exc)
            return
        if self.company == STAFF:
            done = await self._save(principal, svc.save_staff_sso, body, done="Staff single sign-on saved.")
        else:
            done = await self._save(principal, svc.save_company_sso, int(self.company), body,
                                    done=f"Single sign-on for {self.chosen_name} saved.")
        if done is not None:
            await self._load_company(principal)

    @page_event("tower")
    async def disconnect(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        if self.company == STAFF:
            await self._save(principal, svc.delete_staff_sso, done="Staff single sign-on disconnected.")
        else:
            await self._save(principal, svc.delete_company_sso, int(self.company),
                             done=f"Single sign-on for {self.chosen_name} disconnected: its people sign in with "
                                  "passwords again.")
        if not self.error:  # the service answers nothing when it has disconnected
            await self._load_company(principal)


S = ConfigSsoState


def _overview() -> rx.Component:
    return data_table(
        "Who signs in how", ["Company", "Single sign-on", "Email domains", "Passwords"], S.rows,
        lambda r: rx.table.row(rx.table.cell(r.company), rx.table.cell(r.status),
                               rx.table.cell(r.domains), rx.table.cell(r.passwords)),
    )


def _form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.el.label("Company", html_for="sso-company", style={"font_weight": "600"}),
        rx.el.select(rx.foreach(S.companies, lambda o: rx.el.option(o.label, value=o.value)),
                     id="sso-company", value=S.company, on_change=S.choose,
                     style={"padding": "6px", "max_width": "28rem"}),
        rx.heading(S.chosen_name, size="5", as_="h2"),
        stacked_form(
            responsive_grid(
                checked_input("Issuer URL", "issuer", S.field_errors, input_id="sso-issuer",
                              default_value=S.values["issuer"],
                              hint="e.g. https://login.example.com; its /.well-known/openid-configuration is read"),
                checked_input("Client id", "client_id", S.field_errors, input_id="sso-client-id",
                              default_value=S.values["client_id"]),
                checked_input("Client secret", "client_secret", S.field_errors, input_id="sso-client-secret",
                              type="password", auto_complete="off"),
                checked_input("Email domains", "email_domains", S.field_errors, input_id="sso-domains",
                              default_value=S.values["email_domains"], hint="Separated by commas, e.g. acme.example"),
                native_select("Role of people created at their first sign-in", "default_role", [],
                              value=S.values["default_role"], select_id="sso-role", errors=S.field_errors,
                              more=S.roles),
                wide=2,
            ),
            check("Password sign-in stays allowed for this company", "password_login_allowed", "sso-passwords",
                  S.values["password_login_allowed"] == "1"),
            check("Trust the provider's two-factor sign-in (its amr claim) instead of asking for the portal's own",
                  "trust_provider_mfa", "sso-trust-mfa", S.values["trust_provider_mfa"] == "1"),
            rx.text("When ticked and two-factor sign-in is required, a sign-in whose provider reports several "
                    "factors (amr \"mfa\", or e.g. a password and a one-time code) is not sent to set up the "
                    "portal's authenticator app.", size="2", color=MUTED_TEXT),
            rx.text(rx.cond(S.secret_set, "A client secret is stored: leave the field empty to keep it.",
                            "The client secret is required: the one the provider issued for the portal."),
                    size="2", color=MUTED_TEXT),
            rx.text("Register ", rx.code("<portal address>/api/auth/sso/callback"),
                    " as the redirect URI at the provider.", size="2", color=MUTED_TEXT),
            rx.hstack(
                primary_button("Save single sign-on", type="submit"),
                rx.cond(S.connected, secondary_button("Disconnect", type="button", on_click=S.disconnect),
                        rx.fragment()),
            ),
            on_submit=S.save, label="Single sign-on settings", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


@area_page("tower", ROUTE, "Configuration: single sign-on", S.load)
def config_sso() -> rx.Component:
    return config_page(
        S, ROUTE, "Single sign-on",
        "Let the staff or a customer company sign in through its own identity provider (OpenID Connect). Every "
        "change is in the audit log; the client secret is stored encrypted and never shown again.",
        _overview(),
        _form(),
    )
