"""Shared pieces of the tower's configuration pages: the admin check (every handler re-checks it on the server;
staff without the right see a refusal that says who can help), the result and error lines, the section links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.ui import MUTED_TEXT, error_callout, info_callout
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import run_db

SECTIONS = [
    ("Branding", routes.TOWER_CONFIG),
    ("Rules and SLAs", routes.TOWER_CONFIG_RULES),
    ("Milestones and documents", routes.TOWER_CONFIG_TEMPLATES),
    ("Organisation", routes.TOWER_CONFIG_ORG),
    ("Request desk", routes.TOWER_CONFIG_REQUESTS),
    ("Invoices", routes.TOWER_CONFIG_INVOICING),
    ("Single sign-on", routes.TOWER_CONFIG_SSO),
    ("Carrier connections", routes.TOWER_CONFIG_CARRIERS),
    ("System", routes.TOWER_SYSTEM),
]
ADMINS_ONLY = ("Configuration is for administrators. Your account can use the rest of the tower; ask an "
               "administrator if a template, rule, SLA, the branding or the invoice details need to change. "
               "Nothing was changed.")


def form_bool(value: object) -> bool:
    """A checkbox's form value: present ("on", "true", "1") is true; absent or empty is false."""
    return str(value or "").strip().lower() in {"on", "true", "1", "yes"}


def form_text(form: dict, key: str, limit: int = 200) -> str:
    return str(form.get(key, "") or "").strip()[:limit]


class ConfigMixin(rx.State, mixin=True):
    """Who may configure is decided from the verified session in every handler, never by the browser."""

    denied: bool = False
    notice: str = ""
    error: str = ""
    field_errors: dict[str, str] = {}
    form_key: int = 0

    def _may_configure(self, principal: Principal) -> bool:
        """Whether the (tower-verified) principal may change the configuration; anyone else sees the refusal and
        the handler stops there."""
        self.denied = not principal.can(Permission.MANAGE_CONFIG)
        return not self.denied

    def _service_refused(self, exc: ServiceError) -> None:
        """A refusal on a configuration page replaces the last result line and marks its fields."""
        self.notice, self.error, self.field_errors = "", exc.message, dict(exc.fields)

    async def _save(self, principal: Principal, fn: Callable, *args: Any, done: str, **kwargs: Any) -> Any:
        """Call a configuration service; show ``done`` on success or the refusal beside its fields."""
        try:
            result = await run_db(fn, principal, *args, **kwargs)
        except ServiceError as exc:
            self._service_refused(exc)
            return None
        self.notice, self.error, self.field_errors = done, "", {}
        self.form_key += 1
        return result


def section_links(current: str) -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            *[rx.link(text, href=href, weight="bold" if href == current else "medium",
                      aria_current="page" if href == current else None, padding_x="4px")
              for text, href in SECTIONS],
            spacing="4",
            wrap="wrap",
        ),
        aria_label="Configuration sections",
    )


def messages(state: type[ConfigMixin]) -> rx.Component:
    return rx.fragment(
        rx.cond(state.notice != "", info_callout(state.notice, data_testid="config-notice"), rx.fragment()),
        rx.cond(state.error != "", error_callout(state.error, data_testid="config-error"), rx.fragment()),
    )


def config_page(state: type[ConfigMixin], route: str, heading: str, intro: str,
                *content: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.heading(heading, size="7", as_="h1"),
        rx.cond(
            state.denied,
            rx.callout(ADMINS_ONLY, icon="lock", role="alert", data_testid="config-denied", width="100%"),
            rx.vstack(
                section_links(route),
                rx.text(intro, color=MUTED_TEXT),
                messages(state),
                *content,
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def check(label: str, name: str, field_id: str, checked: rx.Var | bool = False) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=field_id, default_checked=checked),
        " " + label,
        html_for=field_id,
        style={"display": "flex", "gap": "6px", "align_items": "center"},
    )
