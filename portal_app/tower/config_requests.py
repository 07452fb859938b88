"""Tower: configuration, the request desk. Which team each category of customer request goes to when it is
raised (without one, the request goes to its shipment's team), how many days a resolved request may be reopened
by a reply, and the canned replies agents insert into their answers (list, add, edit). Administrators only; the
services check that again and audit every change (``services/requests/common.py``, ``canned.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    MUTED_TEXT,
    primary_button,
    responsive_grid,
    secondary_button,
    table_caption,
)
from portal_app.components.work_queue import checked_input, native_select, stacked_form
from portal_app.services import requests as svc
from portal_app.services.config import org
from portal_app.tower.choices import Option
from portal_app.tower.config_base import ConfigMixin, config_page, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CONFIG_REQUESTS
CATEGORY_CHOICES = [("", "Any category (general)"), *svc.CATEGORY_LABELS.items()]
PREVIEW_CHARS = 140


@dataclass(frozen=True)
class RouteRow:
    """A request category and the team its new requests go to."""

    category: str
    label: str
    team_id: str
    team: str


@dataclass(frozen=True)
class CannedRow:
    """A canned reply: the list shows the preview, its editor the whole text."""

    id: str
    title: str
    category: str
    category_label: str
    body: str
    preview: str


def routing_rows(routing: dict[str, int], team_names: dict[int, str]) -> list[RouteRow]:
    """One row per category: the team it goes to, or the shipment's team when none is set."""
    out = []
    for category, label in svc.CATEGORY_LABELS.items():
        team = routing.get(category)
        out.append(RouteRow(category=category, label=label, team_id=str(team or ""),
                            team=team_names.get(team, "") if team else "The shipment's team (none set)"))
    return out


def canned_row(c: svc.CannedView) -> CannedRow:
    preview = " ".join(c.body.split())
    return CannedRow(id=str(c.id), title=c.title, category=c.category or "",
                     category_label=svc.CATEGORY_LABELS.get(c.category, c.category) if c.category else "Any",
                     body=c.body,
                     preview=preview if len(preview) <= PREVIEW_CHARS else preview[:PREVIEW_CHARS - 1] + "…")


def _everything(db, principal):  # noqa: ANN001, ANN202
    return svc.desk_settings(db), org.list_teams(db, principal), svc.list_canned(db, principal)


class ConfigRequestsState(ConfigMixin, SessionState):
    routes: list[RouteRow] = []
    teams: list[Option] = []
    reopen_days: str = ""
    canned_rows: list[CannedRow] = []
    editing: str = ""  # the canned reply whose editor is open (the id of a row the admin was shown)

    async def _read(self, principal) -> None:  # noqa: ANN001
        settings, teams, canned = await run_db(_everything, principal)
        names = {t.id: t.name for t in teams}
        self.teams = [Option(str(t.id), t.name) for t in teams]
        self.routes = routing_rows(settings.routing, names)
        self.reopen_days = str(settings.reopen_days)
        self.canned_rows = [canned_row(c) for c in sorted(canned, key=lambda c: c.title.lower())]

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors, self.editing = "", "", {}, ""
        await self._read(principal)

    @page_event("tower")
    async def save_settings(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        routing = {category: form_text(form, f"route_{category}", 12) for category in svc.CATEGORY_LABELS}
        days = form_text(form, "reopen_days", 6)
        saved = await self._save(principal, svc.save_desk_settings, routing=routing, reopen_days=days,
                                 done=f"Request desk settings saved: new requests are routed as shown; resolved "
                                      f"requests can be reopened for {days} days.")
        if saved is not None:
            await self._read(principal)

    @page_event("tower")
    async def edit(self, principal: Principal, canned_id: str) -> None:
        if not self._may_configure(principal):
            return
        self.editing, self.field_errors, self.notice, self.error = str(canned_id)[:12], {}, "", ""

    @page_event("tower")
    async def close(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.editing, self.field_errors = "", {}

    @page_event("tower")
    async def save_canned(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        canned_id = int(self.editing) if self.editing.isdigit() else None
        title = form_text(form, "title", 120)
        saved = await self._save(principal, svc.save_canned, title=title, body=str(form.get("body", ""))[:5000],
                                 category=form_text(form, "category", 20) or None, canned_id=canned_id,
                                 done=f"Canned reply “{title}” saved; agents can insert it now.")
        if saved is not None:
            self.editing = ""
            await self._read(principal)


S = ConfigRequestsState


def _settings() -> rx.Component:
    return rx.card(
        stacked_form(
            rx.heading("Routing and reopening", size="5", as_="h2"),
            rx.text("A new request goes to the team chosen for its category, where the queue shows it; without "
                    "one, it goes to the team of the shipment it is about. Changes apply to requests raised from "
                    "now on.", color=MUTED_TEXT),
            responsive_grid(
                rx.foreach(S.routes, lambda r: native_select(
                    r.label, "route_" + r.category, [("", "The shipment's team")], value=r.team_id,
                    select_id="route-" + r.category, more=S.teams, errors=S.field_errors,
                    key="routing." + r.category)),
                narrow=1, middle=2, wide=3,
                spacing="3",
            ),
            rx.box(
                checked_input("Reopen window (days)", "reopen_days", S.field_errors, input_id="reopen-days",
                              default_value=S.reopen_days, input_mode="numeric", max_length=2,
                              hint="1 to 90. Within it, a customer's reply reopens a resolved request."),
                max_width="20rem",
            ),
            primary_button("Save routing and reopen window", type="submit"),
            on_submit=S.save_settings, label="Routing and reopening", key=S.form_key,
        ),
        width="100%",
        data_testid="desk-settings",
    )


def _canned_form(heading: str, test_id: str, row: rx.Var | None) -> rx.Component:
    prefix = "canned-edit" if row is not None else "canned-new"
    return rx.card(stacked_form(
        rx.heading(heading, size="4", as_="h3"),
        responsive_grid(
            checked_input("Title", "title", S.field_errors, input_id=f"{prefix}-title", max_length=120,
                          default_value=row.title if row is not None else ""),
            native_select("Category", "category", CATEGORY_CHOICES, select_id=f"{prefix}-category",
                          value=row.category if row is not None else "", errors=S.field_errors),
            wide=2,
            spacing="3",
        ),
        rx.box(
            rx.el.label("Text", html_for=f"{prefix}-body", style={"display": "block", "font_weight": "600",
                                                                  "margin_bottom": "4px"}),
            rx.text_area(id=f"{prefix}-body", name="body", rows="6", width="100%", max_length=5000,
                         default_value=row.body if row is not None else "",
                         aria_describedby=f"{prefix}-body-hint"),
            rx.text("Agents adapt it before sending. Write placeholders such as {eta} for what they must fill in: "
                    "a reply still holding one is not sent.", id=f"{prefix}-body-hint", size="1", color=MUTED_TEXT),
            rx.cond(S.field_errors.contains("body"),
                    rx.text(S.field_errors["body"], color="var(--portal-danger)", size="2", role="alert"),
                    rx.fragment()),
            width="100%",
        ),
        rx.hstack(primary_button("Save canned reply", type="submit"),
                  secondary_button("Cancel", type="button", on_click=S.close) if row is not None else rx.fragment()),
        on_submit=S.save_canned, label=heading, key=S.form_key,
    ), width="100%", data_testid=test_id)


def _canned() -> rx.Component:
    return rx.vstack(
        rx.heading("Canned replies", size="5", as_="h2"),
        rx.text("Agents pick these in a request's reply form; those of the request's category come first.",
                color=MUTED_TEXT),
        rx.foreach(S.canned_rows, lambda c: rx.cond(c.id == S.editing,
                                                     _canned_form("Edit canned reply", "canned-editor", c),
                                                     rx.fragment())),
        rx.cond(
            S.canned_rows.length() > 0,
            rx.table.root(
                table_caption("Canned replies"),
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                               for h in ("Title", "Category", "Text", "")])),
                rx.table.body(rx.foreach(S.canned_rows, lambda c: rx.table.row(
                    rx.table.row_header_cell(c.title),
                    rx.table.cell(c.category_label),
                    rx.table.cell(rx.text(c.preview, size="1")),
                    rx.table.cell(secondary_button("Edit", size="1", on_click=S.edit(c.id),
                                                   aria_label="Edit canned reply " + c.title)),
                ))),
                variant="surface", width="100%",
            ),
            rx.text("No canned replies yet.", color=MUTED_TEXT),
        ),
        rx.cond(S.editing == "", _canned_form("New canned reply", "canned-new", None), rx.fragment()),
        spacing="3",
        width="100%",
    )


@area_page("tower", ROUTE, "Configuration: request desk", S.load)
def config_requests() -> rx.Component:
    return config_page(
        S, ROUTE, "Request desk",
        "How customer requests are routed, how long they can be reopened, and the canned replies agents use. "
        "Every change is recorded in the audit log.",
        _settings(),
        _canned(),
    )
