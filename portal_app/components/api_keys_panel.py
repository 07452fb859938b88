"""API keys on the account pages: the portal's for customer admins, the tower's for staff administrators.

The rules (who manages which keys) are the service's (``services/api_keys.py``); the panel only shows the list the
service gives the verified principal, and a key id in a handler argument only names the row clicked. The new key
itself is never page state: the handler answers with ``one_time_secret.reveal``, which writes it into a read-only
field of this tab alone, and leaving the page loses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.one_time_secret import one_time_secret, reveal
from portal_app.components.ui import (
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    data_table,
    error_callout,
    info_callout,
    labelled_input,
    primary_button,
    secondary_button,
)
from portal_app.services import api_keys as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.ui.session import page_event, run_db

NEW_KEY_ID = "new-api-key"
KEYS_PATH = "/api/v1/account/api-keys"
FIELD_WORDS = {"name": "Name", "scope": "Access", "expires_in_days": "Expires after (days)"}
STATUS_LABELS = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}


@dataclass(frozen=True)
class ApiKeyLine:
    """One key as the list shows it (display strings). ``id`` only names the row that was clicked."""

    id: str
    name: str
    prefix: str
    scope: str
    created_by: str
    created_at: str
    last_used: str
    expires: str
    status: str
    active: bool


def _line(row: svc.ApiKeyRow, *, with_company: bool) -> ApiKeyLine:
    who = f"{row.created_by} ({row.company_name})" if with_company else row.created_by
    last_used = "Never"
    if row.last_used_at is not None:
        last_used = fmt_datetime(row.last_used_at) + (f" from {row.last_used_ip}" if row.last_used_ip else "")
    status = STATUS_LABELS.get(row.status, row.status)
    if row.revoked_at is not None:
        status = f"Revoked {fmt_datetime(row.revoked_at)}"
    return ApiKeyLine(
        id=str(row.id), name=row.name, prefix=row.prefix, scope=svc.SCOPE_LABELS.get(row.scope, row.scope),
        created_by=who, created_at=fmt_datetime(row.created_at), last_used=last_used,
        expires=fmt_datetime(row.expires_at) if row.expires_at else "Never", status=status,
        active=row.status == "active",
    )


def _form_problem(exc: FormInvalid) -> str:
    parts = [f"{FIELD_WORDS.get(name, name)}: {problem}" for name, problem in exc.fields.items()]
    return "The key was not created: " + " ".join(parts) + " Correct it and try again; nothing was saved."


class ApiKeysPanelBase(rx.State, mixin=True):
    """The panel's part of an account page's state. The page's ``load`` calls ``_load_api_keys``."""

    AREA: ClassVar[str] = "portal"  # "portal" or "tower"; the page's state sets it

    api_keys: list[ApiKeyLine] = []
    api_keys_allowed: bool = False
    api_keys_error: str = ""
    api_keys_done: str = ""
    api_key_shown: bool = False  # the new key is on screen (it is never a state value)
    api_key_confirming: str = ""  # the id of the key whose revocation waits for a second click
    api_key_form: int = 0
    api_keys_more: str = ""  # said when there are more keys than the page shows

    async def _load_api_keys(self, principal: Principal) -> None:
        self.api_keys_error = self.api_keys_done = self.api_key_confirming = ""
        self.api_key_shown = False
        self.api_keys_allowed = svc.can_manage(principal)
        await self._fetch_api_keys(principal)

    async def _fetch_api_keys(self, principal: Principal) -> None:
        if not self.api_keys_allowed:
            self.api_keys = []
            return
        try:
            page = await run_db(svc.list_keys, principal, 1, svc.MAX_PAGE_SIZE)
        except ServiceError as exc:
            self.api_keys, self.api_keys_error = [], exc.message
            return
        self.api_keys = [_line(row, with_company=principal.is_staff) for row in page.rows]
        self.api_keys_more = (f"Showing the newest {len(page.rows)} of {page.total} keys; GET {KEYS_PATH} lists "
                              "them all, page by page." if page.total > len(page.rows) else "")

    @page_event()
    async def create_api_key(self, principal: Principal, form: dict) -> Any:
        self.api_key_shown, self.api_key_confirming = False, ""
        data = {name: str(form.get(name, "")).strip() for name in FIELD_WORDS}
        try:
            new = parse(svc.NewApiKey, data)
            created = await run_db(svc.create_key, principal, new)
        except FormInvalid as exc:
            self.api_keys_error, self.api_keys_done = _form_problem(exc), ""
            return None
        except ServiceError as exc:
            self.api_keys_error, self.api_keys_done = exc.message, ""
            return None
        self.api_keys_error = ""
        self.api_keys_done = (f"The key {created.name} ({created.prefix}…) is created: "
                              f"{svc.SCOPE_LABELS[created.scope].lower()}, until {fmt_datetime(created.expires_at)}.")
        self.api_key_shown = True
        self.api_key_form += 1
        await self._fetch_api_keys(principal)
        return reveal(NEW_KEY_ID, created.key)

    @page_event()
    async def ask_revoke_api_key(self, principal: Principal, key_id: str) -> None:
        self.api_key_confirming = str(key_id)

    @page_event()
    async def keep_api_key(self, principal: Principal) -> None:
        self.api_key_confirming = ""

    @page_event()
    async def revoke_api_key(self, principal: Principal, key_id: str) -> None:
        self.api_key_shown, self.api_key_confirming = False, ""
        if not str(key_id).isdigit() or len(str(key_id)) > 10:
            self.api_keys_error = "That key is not in the list. Reload the page; nothing was changed."
            self.api_keys_done = ""
            return
        try:
            row = await run_db(svc.revoke_key, principal, int(key_id))
        except ServiceError as exc:
            self.api_keys_error, self.api_keys_done = exc.message, ""
        else:
            self.api_keys_error = ""
            self.api_keys_done = (f"The key {row.name} ({row.prefix}…) is revoked: software using it is refused from "
                                  "now on.")
        await self._fetch_api_keys(principal)


def _key_row(state: type[ApiKeysPanelBase], row: rx.Var) -> rx.Component:
    confirming = state.api_key_confirming == row.id
    action = rx.cond(
        row.active,
        rx.cond(
            confirming,
            rx.hstack(
                secondary_button("Yes, revoke", size="1", aria_label="Yes, revoke " + row.name,
                                 on_click=state.revoke_api_key(row.id)),
                secondary_button("Keep it", size="1", aria_label="Keep " + row.name, on_click=state.keep_api_key),
                spacing="2",
            ),
            secondary_button("Revoke", size="1", aria_label="Revoke " + row.name,
                             on_click=state.ask_revoke_api_key(row.id)),
        ),
        rx.text("—", color=MUTED_TEXT),
    )
    return rx.table.row(
        rx.table.row_header_cell(rx.el.code(row.prefix), scope="row"),
        rx.table.cell(row.name),
        rx.table.cell(row.scope),
        rx.table.cell(row.created_by),
        rx.table.cell(row.created_at),
        rx.table.cell(row.last_used),
        rx.table.cell(row.expires),
        rx.table.cell(row.status),
        rx.table.cell(action),
    )


def _create_form(state: type[ApiKeysPanelBase]) -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.heading("Create a key", size="4", as_="h3", id="api-key-create-heading"),
            labelled_input("Name", "name", id="api-key-name", required=True, auto_complete="off",
                           max_length=svc.NAME_MAX, placeholder="e.g. ERP nightly sync"),
            rx.box(
                rx.el.label("Access", html_for="api-key-scope", style=LABEL_STYLE),
                rx.el.select(
                    *[rx.el.option(label, value=value) for value, label in svc.SCOPE_LABELS.items()],
                    id="api-key-scope", name="scope", default_value="read", style=NATIVE_SELECT_STYLE,
                ),
                width="100%",
            ),
            labelled_input("Expires after (days)", "expires_in_days", id="api-key-expiry", type="number", min=1,
                           max=svc.MAX_EXPIRY_DAYS, step=1, required=True,
                           default_value=str(svc.DEFAULT_EXPIRY_DAYS)),
            rx.text(f"From 1 to {svc.MAX_EXPIRY_DAYS} days. Read only keys can look things up but never change "
                    "anything.", size="2", color=MUTED_TEXT),
            primary_button("Create key", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=state.create_api_key,
        key=state.api_key_form,
        aria_labelledby="api-key-create-heading",
        max_width="480px",
        width="100%",
    )


def api_keys_panel(state: type[ApiKeysPanelBase], intro: str) -> rx.Component:
    """The section: list, revoke, create, and the new key shown once. Drawn only for those who manage keys."""
    headers = ["Prefix", "Name", "Access", "Created by", "Created", "Last used", "Expires", "Status", "Revoke"]
    copy_key = rx.call_script(f"navigator.clipboard.writeText(document.getElementById('{NEW_KEY_ID}').value)")
    return rx.cond(
        state.api_keys_allowed,
        rx.el.section(
            rx.heading("API keys", size="5", as_="h2", id="api-keys-heading"),
            rx.text(intro, color=MUTED_TEXT),
            rx.cond(state.api_keys_error != "", error_callout(state.api_keys_error), rx.fragment()),
            rx.cond(state.api_keys_done != "", info_callout(state.api_keys_done), rx.fragment()),
            one_time_secret(
                NEW_KEY_ID, "Your new API key", state.api_key_shown,
                "Copy it now and keep it somewhere safe (select it and press Ctrl+C, or use Copy key): it is shown "
                "only this once. Send it as the header Authorization: Bearer <key>.", "new-api-key", width_em=34,
            ),
            rx.cond(state.api_key_shown,
                    secondary_button("Copy key", on_click=copy_key, style={"align_self": "flex-start"}),
                    rx.fragment()),
            rx.cond(
                state.api_keys.length() > 0,
                data_table("API keys", headers, state.api_keys, lambda row: _key_row(state, row), variant="surface"),
                rx.text("No API keys yet.", color=MUTED_TEXT),
            ),
            rx.cond(state.api_keys_more != "", rx.text(state.api_keys_more, color=MUTED_TEXT), rx.fragment()),
            _create_form(state),
            aria_labelledby="api-keys-heading",
            style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "12px"},
        ),
        rx.fragment(),
    )
