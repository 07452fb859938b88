"""Tower: configuration, organisation. Branches and teams, customer companies (add, switch off: its users can no
longer sign in; open a company's people, a page at a time) and staff accounts (add with a temporary password shown
once, change role among the staff roles, team, or switch off). Customer accounts are managed by each customer's own
admins; an administrator may reset a person's second factor or erase a person's personal data (GDPR) from the staff
list or a company's people (components/erase_person.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.permissions import ROLE_LABELS
from portal_app.auth.principal import Principal
from portal_app.components.erase_person import (
    ErasePersonBase,
    erase_button,
    erase_dialog,
    erase_outcome,
    erased_name,
)
from portal_app.components.layout import area_page
from portal_app.components.mfa_panel import MfaAdminBase, mfa_policy_form, mfa_reset_button
from portal_app.components.one_time_secret import one_time_secret, reveal
from portal_app.components.ui import MUTED_TEXT, primary_button, responsive_grid, secondary_button, table_caption
from portal_app.components.work_queue import checked_input, native_select, stacked_form
from portal_app.services import paging
from portal_app.services.config import org
from portal_app.tower.choices import Option
from portal_app.tower.config_base import ConfigMixin, config_page, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

NEW_PASSWORD_ID = "new-staff-password"

ROUTE = routes.TOWER_CONFIG_ORG
ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in org.STAFF_ROLE_VALUES]  # type: ignore[index]
CELL_SELECT = {"padding": "4px 6px", "border": "1px solid var(--portal-field-border)", "border_radius": "6px",
               "background": "var(--portal-surface)"}


def _everything(db, principal):  # noqa: ANN001, ANN202
    return (org.list_branches(db, principal), org.list_teams(db, principal), org.list_companies(db, principal),
            org.list_staff(db, principal))


@dataclass(frozen=True)
class BranchRow:
    id: str
    code: str
    name: str
    location: str
    timezone: str


@dataclass(frozen=True)
class TeamRow:
    id: str
    name: str
    branch: str
    branch_id: str
    members: str


@dataclass(frozen=True)
class CompanyRow:
    """A customer company as the list shows it."""

    id: str
    code: str
    name: str
    country: str
    currency: str
    terms: str
    active: str
    status: str


@dataclass(frozen=True)
class StaffRow:
    """A member of staff as the list shows and edits them; ``me`` marks the administrator's own row."""

    id: str
    name: str
    email: str
    role: str
    role_label: str
    team_id: str
    team: str
    active: str
    status: str
    me: str
    mfa: str = "Off"  # two-factor sign-in: "On" or "Off"
    erased: str = ""  # "yes": personal data erased, shown as the pseudonym without actions


@dataclass(frozen=True)
class PersonRow:
    """A person of a customer company in the administrator's list (``id`` only names the row clicked)."""

    id: str
    name: str
    email: str
    role: str
    active: str  # "Active" or "Off"
    mfa: str  # "On" or "Off"
    erased: str  # "yes" when the personal data is erased


class ConfigOrgState(ErasePersonBase, MfaAdminBase, ConfigMixin, SessionState):
    AREA: ClassVar[str] = "tower"
    branches: list[BranchRow] = []
    teams: list[TeamRow] = []
    companies: list[CompanyRow] = []
    staff: list[StaffRow] = []
    password_shown: bool = False  # the new staff account's temporary password is on screen (never a state value)
    editing: str = ""  # "branch:<id>" or "team:<id>": the row whose editor is open
    people_of: str = ""  # the customer company whose people are open (its name)
    people: list[PersonRow] = []  # one page of them
    people_page: int = 1
    people_pages: int = 1
    people_total: int = 0
    _people_company: str = ""  # that company's id, as the list showed it
    _versions: dict[str, int] = {}
    _companies: dict[str, dict] = {}

    @rx.var
    def teams_options(self) -> list[Option]:
        return [Option(t.id, t.name) for t in self.teams]

    @rx.var
    def branch_options(self) -> list[Option]:
        return [Option(b.id, b.name) for b in self.branches]

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        branches, teams, companies, staff = await run_db(_everything, principal)
        self.branches = [BranchRow(id=str(b.id), code=b.code, name=b.name, location=b.location_code or "",
                                   timezone=b.timezone) for b in branches]
        team_names = {t.id: t.name for t in teams}
        self.teams = [TeamRow(id=str(t.id), name=t.name, branch=t.branch_name or "No branch",
                              branch_id=str(t.branch_id or ""), members=str(t.members)) for t in teams]
        self.companies = [CompanyRow(id=str(c.id), code=c.code, name=c.name, country=c.country or "",
                                     currency=c.billing_currency, terms=str(c.payment_terms_days),
                                     active="yes" if c.is_active else "", status="Active" if c.is_active else "Off")
                          for c in companies]
        self._companies = {str(c.id): {"code": c.code, "name": c.name, "country": c.country,
                                       "billing_currency": c.billing_currency,
                                       "payment_terms_days": c.payment_terms_days} for c in companies}
        self.staff = [StaffRow(id=str(u.id), name=u.full_name, email=u.email, role=u.role,
                               role_label=u.role_label, team_id=str(u.team_id or ""),
                               team=team_names.get(u.team_id, "No team"), active="yes" if u.is_active else "",
                               status="Active" if u.is_active else "Off",
                               me="yes" if u.id == principal.user_id else "",
                               mfa="On" if u.mfa_enabled else "Off", erased="yes" if u.erased else "")
                      for u in staff]
        self._versions = {str(u.id): u.version for u in staff}
        self.form_key += 1
        await self._fetch_people(principal)

    async def _fetch_people(self, principal: Principal) -> None:
        """The open company's page of people (read again after every change on the page)."""
        if not self._people_company.isdigit():
            self.people, self.people_of, self.people_total, self.people_pages = [], "", 0, 1
            return
        page = await run_db(org.list_company_people, principal, int(self._people_company), page=self.people_page)
        if not page.rows and page.page > 1:  # the last page emptied: show the one before
            self.people_page = page.pages
            page = await run_db(org.list_company_people, principal, int(self._people_company),
                                page=self.people_page)
        self.people = [PersonRow(id=str(p.id), name=p.full_name, email=p.email, role=p.role_label,
                                 active="Active" if p.is_active else "Off", mfa="On" if p.mfa_enabled else "Off",
                                 erased="yes" if p.erased else "") for p in page.rows]
        self.people_total, self.people_pages = page.total, page.pages

    @page_event("tower")
    async def show_people(self, principal: Principal, row_key: str) -> None:
        """``row_key`` only names a company of the list this admin was shown; the service checks it."""
        if not self._may_configure(principal):
            return
        row = next((c for c in self.companies if c.id == str(row_key)), None)
        if row is None:
            return
        self._people_company, self.people_of, self.people_page = row.id, row.name, 1
        self.erase_notice = ""
        await self._fetch_people(principal)

    @page_event("tower")
    async def people_page_to(self, principal: Principal, page: int) -> None:
        if not self._may_configure(principal):
            return
        self.people_page = max(1, min(int(page) if str(page).isdigit() else 1, self.people_pages,
                                      paging.MAX_PAGE))
        await self._fetch_people(principal)

    @page_event("tower")
    async def close_people(self, principal: Principal) -> None:
        self._people_company, self.people_page = "", 1
        await self._fetch_people(principal)

    def _erase_candidate(self, person: str) -> tuple[str, str] | None:
        staff = next((u for u in self.staff if u.id == person and u.erased != "yes" and u.me != "yes"), None)
        if staff is not None:
            return staff.name, "staff"
        found = next((p for p in self.people if p.id == person and p.erased != "yes"), None)
        return (found.name, "people") if found is not None else None

    def _erase_said(self) -> None:
        self.notice, self.error, self.field_errors, self.password_shown = "", "", {}, False

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors, self.password_shown = "", "", {}, False
        self.erase_notice = self.erase_error = self.erase_id = ""
        await self._fetch(principal)
        await self._load_mfa_policy(principal)

    def _mfa_said(self, message: str) -> None:
        self.notice, self.error, self.password_shown = message, "", False

    async def _after(self, principal, saved) -> None:  # noqa: ANN001
        if saved is not None:
            await self._fetch(principal)

    @page_event("tower")
    async def edit_row(self, principal: Principal, row_key: str) -> None:
        if not self._may_configure(principal):
            return
        self.editing, self.field_errors, self.password_shown = str(row_key)[:30], {}, False

    @page_event("tower")
    async def close_editor(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.editing, self.field_errors = "", {}

    @page_event("tower")
    async def save_branch(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        row = next((b for b in self.branches if "branch:" + b.id == self.editing), None)
        if row is None:
            return
        name = form_text(form, "edit_branch_name", 160)
        saved = await self._save(principal, org.save_branch, branch_id=int(row.id), code=row.code, name=name,
                                 location_code=form_text(form, "edit_branch_location", 10) or None,
                                 timezone=form_text(form, "edit_branch_timezone", 64), done=f"Branch {name} saved.")
        if saved is not None:
            self.editing = ""
            await self._fetch(principal)

    @page_event("tower")
    async def save_team(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        row = next((t for t in self.teams if "team:" + t.id == self.editing), None)
        if row is None:
            return
        name, branch = form_text(form, "edit_team_name", 160), form_text(form, "edit_team_branch", 12)
        saved = await self._save(principal, org.save_team, team_id=int(row.id), name=name,
                                 branch_id=int(branch) if branch.isdigit() else None, done=f"Team {name} saved.")
        if saved is not None:
            self.editing = ""
            await self._fetch(principal)

    @page_event("tower")
    async def add_branch(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        self.password_shown = False
        name = form_text(form, "branch_name", 160)
        await self._after(principal, await self._save(
            principal, org.save_branch, code=form_text(form, "branch_code", 30), name=name,
            location_code=form_text(form, "branch_location", 10) or None,
            timezone=form_text(form, "branch_timezone", 64) or "UTC", done=f"Branch {name} added."))

    @page_event("tower")
    async def add_team(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        self.password_shown = False
        name, branch = form_text(form, "team_name", 160), form_text(form, "team_branch", 12)
        await self._after(principal, await self._save(principal, org.save_team, name=name,
                                                      branch_id=int(branch) if branch.isdigit() else None,
                                                      done=f"Team {name} added."))

    @page_event("tower")
    async def add_company(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        self.password_shown = False
        name = form_text(form, "company_name", 240)
        await self._after(principal, await self._save(
            principal, org.save_company, code=form_text(form, "company_code", 30), name=name,
            country=form_text(form, "company_country", 4) or None,
            billing_currency=form_text(form, "company_currency", 4) or "USD",
            payment_terms_days=form_text(form, "company_terms", 4) or "30", done=f"Customer {name} added."))

    @page_event("tower")
    async def toggle_company(self, principal: Principal, row_key: str) -> None:
        """``row_key`` only names a row of the list this admin was shown; the service checks the company."""
        if not self._may_configure(principal):
            return
        row = next((c for c in self.companies if c.id == str(row_key)), None)
        if row is None:
            return
        on = row.active != "yes"
        await self._after(principal, await self._save(
            principal, org.save_company, company_id=int(row.id), is_active=on, **self._companies[row.id],
            done=f"{row.name} {'switched on' if on else 'switched off: its users can no longer sign in'}."))

    @page_event("tower")
    async def add_staff(self, principal: Principal, form: dict) -> Any:
        if not self._may_configure(principal):
            return None
        team = form_text(form, "staff_team", 12)
        made = await self._save(principal, org.create_staff, email=form_text(form, "staff_email", 254),
                                full_name=form_text(form, "staff_name", 200), role=form_text(form, "staff_role", 20),
                                team_id=int(team) if team.isdigit() else None, done="Staff account added.")
        if made is not None:
            self.notice = (f"{made.user.full_name} can sign in as {made.user.email} with the temporary password "
                           "below (shown once; they should change it at once).")
            self.password_shown = True
            await self._fetch(principal)
            return reveal(NEW_PASSWORD_ID, made.temporary_password)
        return None

    @page_event("tower")
    async def update_staff(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        self.password_shown = False
        uid = form_text(form, "user_id", 12)
        row = next((u for u in self.staff if u.id == uid), None)
        if row is None:
            return
        team = form_text(form, "team_id", 12)
        await self._after(principal, await self._save(
            principal, org.update_staff, int(uid), role=form_text(form, "role", 20),
            is_active=form_text(form, "active", 4) == "yes", team_id=int(team) if team.isdigit() else None,
            expected_version=self._versions.get(uid), done=f"{row.name}'s account saved."))


S = ConfigOrgState


def _table(caption: str, headers: list[str], rows: rx.Var, row) -> rx.Component:  # noqa: ANN001
    return rx.table.root(
        table_caption(caption),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
        rx.table.body(rx.foreach(rows, row)),
        variant="surface", width="100%",
    )


def _erased_row(name: rx.Var, columns: int) -> rx.Component:
    """An erased person: the pseudonym marked Erased, no actions."""
    return rx.table.row(
        rx.table.row_header_cell(erased_name(name)),
        *[rx.table.cell(rx.text("—", color=MUTED_TEXT)) for _ in range(columns - 1)],
    )


def _staff_row(u: rx.Var) -> rx.Component:
    return rx.cond(u.erased == "yes", _erased_row(u.name, 6), _live_staff_row(u))


def _live_staff_row(u: rx.Var) -> rx.Component:
    form_id = "staff-" + u.id
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(u.name, weight="bold"), rx.text(u.email, size="1",
                                                                                       color=MUTED_TEXT),
                                           spacing="0")),
        rx.table.cell(rx.el.select(*[rx.el.option(t, value=v) for v, t in ROLE_CHOICES], name="role",
                                   default_value=u.role, form=form_id, aria_label="Role of " + u.name,
                                   style=CELL_SELECT)),
        rx.table.cell(rx.el.select(rx.el.option("No team", value=""),
                                   rx.foreach(S.teams, lambda t: rx.el.option(t.name, value=t.id)),
                                   name="team_id", default_value=u.team_id, form=form_id,
                                   aria_label="Team of " + u.name, style=CELL_SELECT)),
        rx.table.cell(rx.el.select(rx.el.option("Active", value="yes"), rx.el.option("Switched off", value="no"),
                                   name="active", default_value=rx.cond(u.active == "yes", "yes", "no"),
                                   form=form_id, aria_label="Status of " + u.name, style=CELL_SELECT)),
        rx.table.cell(rx.hstack(
            rx.text(u.mfa, size="2"),
            rx.cond((u.mfa == "On") & (u.me != "yes"), mfa_reset_button(S, u.id, u.name), rx.fragment()),
            spacing="2", align="center", wrap="wrap",
        )),
        rx.table.cell(rx.hstack(
            rx.el.form(
                rx.el.input(type="hidden", name="user_id", value=u.id),
                secondary_button("Save", size="1", type="submit", aria_label="Save " + u.name),
                id=form_id, on_submit=S.update_staff, aria_label="Save " + u.name,
            ),
            rx.cond(u.me != "yes", erase_button(S, u.id, u.name), rx.fragment()),
            spacing="2", align="center", wrap="wrap",
        )),
    )


def _staff() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Staff accounts", size="5", as_="h2"),
        rx.text("Staff roles: ops agent, ops manager, administrator. You cannot change your own role or switch "
                "yourself off, and the last active administrator stays.", color=MUTED_TEXT),
        one_time_secret(NEW_PASSWORD_ID, "Temporary password", S.password_shown,
                        "Shown only now: share it securely.", "new-password"),
        erase_outcome(S, "staff"),
        _table("Staff accounts", ["Person", "Role", "Team", "Status", "Two-factor", ""], S.staff, _staff_row),
        mfa_policy_form(S, "all staff", "PORTAL_STAFF_MFA=1 requires it of all staff whatever this says."),
        stacked_form(
            rx.heading("Add a staff account", size="4", as_="h3"),
            responsive_grid(
                checked_input("Email", "staff_email", S.field_errors, key="email", input_id="staff-email",
                              type="email"),
                checked_input("Full name", "staff_name", S.field_errors, key="full_name", input_id="staff-name"),
                native_select("Role", "staff_role", ROLE_CHOICES, select_id="staff-role", errors=S.field_errors,
                              key="role"),
                native_select("Team", "staff_team", [("", "No team")], select_id="staff-team", more=S.teams_options),
                wide=4, middle=2,
            ),
            primary_button("Add staff account", type="submit"),
            on_submit=S.add_staff, label="Add a staff account", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


def _companies() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Customer companies", size="5", as_="h2"),
        _table("Customer companies", ["Code", "Name", "Country", "Currency", "Payment terms (days)", "Status", ""],
               S.companies, lambda c: rx.table.row(
                   rx.table.cell(c.code), rx.table.row_header_cell(c.name), rx.table.cell(c.country),
                   rx.table.cell(c.currency), rx.table.cell(c.terms), rx.table.cell(c.status),
                   rx.table.cell(rx.hstack(
                       secondary_button(rx.cond(c.active == "yes", "Switch off", "Switch on"), size="1",
                                        on_click=S.toggle_company(c.id),
                                        aria_label=rx.cond(c.active == "yes", "Switch off ", "Switch on ") + c.name),
                       secondary_button("People", size="1", on_click=S.show_people(c.id),
                                        aria_label="People of " + c.name),
                       spacing="2", wrap="wrap")))),
        _people(),
        stacked_form(
            rx.heading("Add a customer company", size="4", as_="h3"),
            responsive_grid(
                checked_input("Account code", "company_code", S.field_errors, key="code", input_id="company-code",
                              hint="e.g. ACME"),
                checked_input("Name", "company_name", S.field_errors, key="name", input_id="company-name"),
                checked_input("Country (ISO code)", "company_country", S.field_errors, key="country",
                              input_id="company-country"),
                checked_input("Billing currency", "company_currency", S.field_errors, key="billing_currency",
                              input_id="company-currency", default_value="USD"),
                checked_input("Payment terms (days)", "company_terms", S.field_errors, key="payment_terms_days",
                              input_id="company-terms", default_value="30", type="number"),
                wide=3,
            ),
            primary_button("Add customer company", type="submit"),
            on_submit=S.add_company, label="Add a customer company", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


def _person_row(p: rx.Var) -> rx.Component:
    return rx.cond(p.erased == "yes", _erased_row(p.name, 6), rx.table.row(
        rx.table.row_header_cell(p.name),
        rx.table.cell(p.email),
        rx.table.cell(p.role),
        rx.table.cell(p.active),
        rx.table.cell(rx.hstack(
            rx.text(p.mfa, size="2"),
            rx.cond(p.mfa == "On", mfa_reset_button(S, p.id, p.name), rx.fragment()),
            spacing="2", align="center", wrap="wrap",
        )),
        rx.table.cell(erase_button(S, p.id, p.name)),
    ))


def _people() -> rx.Component:
    """The open company's people, a page at a time."""
    return rx.cond(S.people_of != "", rx.el.section(
        rx.vstack(
            rx.hstack(
                rx.heading("People of ", S.people_of, size="4", as_="h3", id="people-heading"),
                secondary_button("Close", size="1", type="button", on_click=S.close_people,
                                 aria_label="Close the people of " + S.people_of),
                justify="between", align="center", width="100%",
            ),
            rx.text("Everyone of this customer who has an account. Their own admins add people and change roles; "
                    "here you can reset a second factor or erase a person's personal data.", color=MUTED_TEXT,
                    size="2"),
            erase_outcome(S, "people"),
            rx.cond(
                S.people_total > 0,
                _table("People of the company", ["Person", "Email", "Role", "Status", "Two-factor", ""], S.people,
                       _person_row),
                rx.text("Nobody has an account at this company yet.", color=MUTED_TEXT),
            ),
            rx.cond(S.people_pages > 1, rx.hstack(
                secondary_button("Previous page", size="1", type="button", disabled=S.people_page <= 1,
                                 on_click=S.people_page_to(S.people_page - 1),
                                 aria_label="Previous page of people"),
                rx.text("Page ", S.people_page, " of ", S.people_pages, " (", S.people_total, " people)", size="2"),
                secondary_button("Next page", size="1", type="button", disabled=S.people_page >= S.people_pages,
                                 on_click=S.people_page_to(S.people_page + 1), aria_label="Next page of people"),
                spacing="3", align="center",
            ), rx.fragment()),
            spacing="3", width="100%",
        ),
        aria_labelledby="people-heading", data_testid="company-people", style={"width": "100%"},
    ), rx.fragment())


def _branch_editor(b: rx.Var) -> rx.Component:
    return rx.card(stacked_form(
        rx.heading("Edit branch ", b.code, size="4", as_="h3"),
        responsive_grid(
            checked_input("Name", "edit_branch_name", S.field_errors, key="name", input_id="edit-branch-name",
                          default_value=b.name),
            checked_input("UN/LOCODE (optional)", "edit_branch_location", S.field_errors, key="location_code",
                          input_id="edit-branch-location", default_value=b.location),
            checked_input("Time zone", "edit_branch_timezone", S.field_errors, key="timezone",
                          input_id="edit-branch-timezone", default_value=b.timezone),
            wide=3,
        ),
        rx.hstack(primary_button("Save branch", type="submit"),
                  secondary_button("Cancel", type="button", on_click=S.close_editor)),
        on_submit=S.save_branch, label="Edit branch", key=S.form_key,
    ), width="100%", data_testid="branch-editor")


def _team_editor(t: rx.Var) -> rx.Component:
    return rx.card(stacked_form(
        rx.heading("Edit team ", t.name, size="4", as_="h3"),
        responsive_grid(
            checked_input("Name", "edit_team_name", S.field_errors, key="name", input_id="edit-team-name",
                          default_value=t.name),
            native_select("Branch", "edit_team_branch", [("", "No branch")], select_id="edit-team-branch",
                          more=S.branch_options, value=t.branch_id),
        ),
        rx.hstack(primary_button("Save team", type="submit"),
                  secondary_button("Cancel", type="button", on_click=S.close_editor)),
        on_submit=S.save_team, label="Edit team", key=S.form_key,
    ), width="100%", data_testid="team-editor")


def _branches_and_teams() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Branches and teams", size="5", as_="h2"),
        rx.foreach(S.branches, lambda b: rx.cond("branch:" + b.id == S.editing, _branch_editor(b), rx.fragment())),
        _table("Branches", ["Code", "Name", "UN/LOCODE", "Time zone", ""], S.branches, lambda b: rx.table.row(
            rx.table.cell(b.code), rx.table.row_header_cell(b.name), rx.table.cell(b.location),
            rx.table.cell(b.timezone),
            rx.table.cell(secondary_button("Edit", size="1", on_click=S.edit_row("branch:" + b.id),
                                           aria_label="Edit branch " + b.name)))),
        stacked_form(
            rx.heading("Add a branch", size="4", as_="h3"),
            responsive_grid(
                checked_input("Branch code", "branch_code", S.field_errors, key="code", input_id="branch-code"),
                checked_input("Branch name", "branch_name", S.field_errors, key="name", input_id="branch-name"),
                checked_input("UN/LOCODE (optional)", "branch_location", S.field_errors, key="location_code",
                              input_id="branch-location"),
                checked_input("Time zone", "branch_timezone", S.field_errors, key="timezone",
                              input_id="branch-timezone", default_value="UTC"),
                wide=4, middle=2,
            ),
            primary_button("Add branch", type="submit"),
            on_submit=S.add_branch, label="Add a branch", key=S.form_key,
        ),
        rx.foreach(S.teams, lambda t: rx.cond("team:" + t.id == S.editing, _team_editor(t), rx.fragment())),
        _table("Teams", ["Team", "Branch", "Active members", ""], S.teams, lambda t: rx.table.row(
            rx.table.row_header_cell(t.name), rx.table.cell(t.branch), rx.table.cell(t.members),
            rx.table.cell(secondary_button("Edit", size="1", on_click=S.edit_row("team:" + t.id),
                                           aria_label="Edit team " + t.name)))),
        stacked_form(
            rx.heading("Add a team", size="4", as_="h3"),
            responsive_grid(
                checked_input("Team name", "team_name", S.field_errors, key="name", input_id="team-name"),
                native_select("Branch", "team_branch", [("", "No branch")], select_id="team-branch",
                              more=S.branch_options),
            ),
            primary_button("Add team", type="submit"),
            on_submit=S.add_team, label="Add a team", key=S.form_key,
        ),
        spacing="3", width="100%",
    ), width="100%")


@area_page("tower", ROUTE, "Configuration: organisation", S.load)
def config_org() -> rx.Component:
    return config_page(
        S, ROUTE, "Organisation",
        "Branches, teams, customer companies and staff accounts. Every change is in the audit log.",
        _staff(),
        _companies(),
        _branches_and_teams(),
        erase_dialog(S),
    )
