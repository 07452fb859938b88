"""Webhooks on the account pages: the portal's for customer admins, the tower's for staff administrators.

The rules (who manages which subscriptions, which addresses are allowed) are the service's
(``services/webhooks.py``); the page only shows what the service gives the verified principal, and an id in a handler
argument only names the row clicked. The signing secret is never page state: the handler answers with
``one_time_secret.reveal``, which writes it into a read-only field of this tab alone.
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
    data_table,
    error_callout,
    info_callout,
    labelled_checkbox,
    labelled_input,
    primary_button,
    secondary_button,
)
from portal_app.services import webhooks as svc
from portal_app.services.errors import ServiceError
from portal_app.ui.session import page_event, run_db

SECRET_ID = "new-webhook-secret"
HOOKS_PATH = "/api/v1/account/webhooks"
LOG_SIZE = 20
STATUS_LABELS = {"active": "Active", "paused": "Paused", "queued": "Waiting", "sent": "Delivered",
                 "failed": "Given up"}


@dataclass(frozen=True)
class WebhookLine:
    """One subscription as the list shows it (display strings). ``id`` only names the row that was clicked."""

    id: str
    url: str
    events: str
    owner: str
    status: str
    paused: bool
    failures: str
    last_success: str
    created: str


@dataclass(frozen=True)
class DeliveryLine:
    """One delivery of the chosen subscription's log."""

    id: str
    kind: str
    status: str
    attempts: str
    answer: str
    created: str
    next_try: str


def _line(row: svc.WebhookRow, *, staff: bool) -> WebhookLine:
    events = "All events" if row.events == [svc.ALL] else ", ".join(svc.KINDS.get(k, k) for k in row.events)
    owner = "Every company" if row.all_companies else row.company_name
    if staff and row.created_by:
        owner += f" (by {row.created_by})"
    status = STATUS_LABELS.get(row.status, row.status)
    if row.paused_at is not None:
        status = f"Paused {fmt_datetime(row.paused_at)}" + (f": {row.pause_reason}" if row.pause_reason else "")
    return WebhookLine(id=str(row.id), url=row.url, events=events, owner=owner, status=status,
                       paused=row.status == "paused", failures=str(row.consecutive_failures),
                       last_success=fmt_datetime(row.last_success_at) if row.last_success_at else "Never",
                       created=fmt_datetime(row.created_at))


def _delivery(row: svc.DeliveryRow) -> DeliveryLine:
    answer = f"HTTP {row.response_code}" if row.response_code else ""
    if row.last_error and row.status != "sent":
        answer = row.last_error
    return DeliveryLine(id=str(row.id), kind=svc.KINDS.get(row.kind, "Test" if row.kind == svc.TEST_KIND else row.kind),
                        status=STATUS_LABELS.get(row.status, row.status), attempts=str(row.attempts),
                        answer=answer or "—", created=fmt_datetime(row.created_at),
                        next_try=fmt_datetime(row.next_attempt_at) if row.next_attempt_at else "—")


def _id(value: Any) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() and len(text) <= 10 else None


class WebhooksPanelBase(rx.State, mixin=True):
    """The page's state. Its ``load`` reads the subscriptions the verified principal manages."""

    AREA: ClassVar[str] = "portal"

    hooks: list[WebhookLine] = []
    hooks_allowed: bool = False
    hooks_error: str = ""
    hooks_done: str = ""
    hook_secret_shown: bool = False  # the secret is on screen (it is never a state value)
    hook_confirming: str = ""  # the id whose removal waits for a second click
    hook_form: int = 0
    hooks_more: str = ""
    log_for: str = ""  # the subscription whose delivery log is shown
    log_url: str = ""
    log_rows: list[DeliveryLine] = []
    log_more: str = ""

    @page_event()
    async def load(self, principal: Principal) -> None:
        self.hooks_error = self.hooks_done = self.hook_confirming = ""
        self.hook_secret_shown = False
        self.log_for, self.log_url, self.log_rows, self.log_more = "", "", [], ""
        self.hooks_allowed = svc.can_manage(principal)
        await self._fetch_hooks(principal)

    async def _fetch_hooks(self, principal: Principal) -> None:
        if not self.hooks_allowed:
            self.hooks = []
            return
        try:
            page = await run_db(svc.list_subscriptions, principal, 1, svc.MAX_PAGE_SIZE)
        except ServiceError as exc:
            self.hooks, self.hooks_error = [], exc.message
            return
        self.hooks = [_line(row, staff=principal.is_staff) for row in page.rows]
        self.hooks_more = (f"Showing the newest {len(page.rows)} of {page.total}; GET {HOOKS_PATH} lists them all."
                           if page.total > len(page.rows) else "")

    def _said(self, error: str = "", done: str = "") -> None:
        self.hooks_error, self.hooks_done = error, done

    def _service_refused(self, exc: ServiceError) -> None:
        self._said(error=exc.message)

    @page_event()
    async def create_hook(self, principal: Principal, form: dict) -> Any:
        self.hook_secret_shown, self.hook_confirming = False, ""
        url = str(form.get("url", "")).strip()
        events = [svc.ALL] if form.get("event_all") else [k for k in svc.KINDS if form.get(f"event_{k}")]
        try:
            created = await run_db(svc.create_subscription, principal, svc.NewWebhook(url=url, events=events))
        except ServiceError as exc:
            self._said(error=exc.message)
            return None
        self._said(done=f"Events now go to {created.url}. Send a test to check that your receiver answers.")
        self.hook_secret_shown = True
        self.hook_form += 1
        await self._fetch_hooks(principal)
        return reveal(SECRET_ID, created.secret)

    @page_event()
    async def ask_remove_hook(self, principal: Principal, hook_id: str) -> None:
        self.hook_confirming = str(hook_id)

    @page_event()
    async def keep_hook(self, principal: Principal) -> None:
        self.hook_confirming = ""

    @page_event()
    async def remove_hook(self, principal: Principal, hook_id: str) -> None:
        self.hook_secret_shown, self.hook_confirming = False, ""
        which = _id(hook_id)
        if which is None:
            self._said(error="That subscription is not in the list. Reload the page; nothing was changed.")
            return
        await run_db(svc.delete_subscription, principal, which)
        self._said(done="The subscription is removed: nothing more is sent to it.")
        if self.log_for == str(which):
            self.log_for, self.log_url, self.log_rows, self.log_more = "", "", [], ""
        await self._fetch_hooks(principal)

    @page_event()
    async def test_hook(self, principal: Principal, hook_id: str) -> None:
        self.hook_secret_shown = False
        which = _id(hook_id)
        if which is None:
            self._said(error="That subscription is not in the list. Reload the page; nothing was changed.")
            return
        await run_db(svc.send_test, principal, which)
        self._said(done="A test delivery is queued and goes out within seconds. Open its delivery log to see how "
                        "your receiver answered.")
        await self._show_log(principal, which)

    @page_event()
    async def resume_hook(self, principal: Principal, hook_id: str) -> None:
        which = _id(hook_id)
        if which is None:
            self._said(error="That subscription is not in the list. Reload the page; nothing was changed.")
            return
        row = await run_db(svc.resume_subscription, principal, which)
        self._said(done=f"Sending to {row.url} again; the events queued meanwhile go out first.")
        await self._fetch_hooks(principal)

    @page_event()
    async def show_log(self, principal: Principal, hook_id: str) -> None:
        which = _id(hook_id)
        if which is None:
            self._said(error="That subscription is not in the list. Reload the page.")
            return
        await self._show_log(principal, which)

    async def _show_log(self, principal: Principal, which: int) -> None:
        hook = await run_db(svc.get_subscription, principal, which)
        page = await run_db(svc.list_deliveries, principal, which, 1, LOG_SIZE)
        self.log_for, self.log_url = str(which), hook.url
        self.log_rows = [_delivery(d) for d in page.rows]
        self.log_more = (f"The newest {len(page.rows)} of {page.total} deliveries; GET {HOOKS_PATH}/{which}/deliveries "
                         "lists them all." if page.total > len(page.rows) else "")


def _hook_row(state: type[WebhooksPanelBase], row: rx.Var) -> rx.Component:
    confirming = state.hook_confirming == row.id
    remove = rx.cond(
        confirming,
        rx.hstack(
            secondary_button("Yes, remove", size="1", aria_label="Yes, remove the webhook to " + row.url,
                             on_click=state.remove_hook(row.id)),
            secondary_button("Keep it", size="1", aria_label="Keep the webhook to " + row.url,
                             on_click=state.keep_hook),
            spacing="2",
        ),
        secondary_button("Remove", size="1", aria_label="Remove the webhook to " + row.url,
                         on_click=state.ask_remove_hook(row.id)),
    )
    actions = rx.hstack(
        secondary_button("Send test", size="1", aria_label="Send a test to " + row.url,
                         on_click=state.test_hook(row.id)),
        secondary_button("Deliveries", size="1", aria_label="Deliveries to " + row.url,
                         on_click=state.show_log(row.id)),
        rx.cond(row.paused,
                secondary_button("Resume", size="1", aria_label="Resume the webhook to " + row.url,
                                 on_click=state.resume_hook(row.id)),
                rx.fragment()),
        remove,
        spacing="2",
        wrap="wrap",
    )
    return rx.table.row(
        rx.table.row_header_cell(rx.el.code(row.url, style={"word_break": "break-all"}), scope="row"),
        rx.table.cell(row.events),
        rx.table.cell(row.owner),
        rx.table.cell(row.status),
        rx.table.cell(row.failures),
        rx.table.cell(row.last_success),
        rx.table.cell(actions),
    )


def _delivery_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.created, scope="row"),
        rx.table.cell(row.kind),
        rx.table.cell(row.status),
        rx.table.cell(row.attempts),
        rx.table.cell(row.answer),
        rx.table.cell(row.next_try),
    )


def _create_form(state: type[WebhooksPanelBase]) -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.heading("Add a webhook", size="4", as_="h2", id="webhook-create-heading"),
            labelled_input("Receiver URL", "url", id="webhook-url", required=True, auto_complete="off",
                           max_length=svc.URL_MAX, type="url", placeholder="https://erp.example.com/hooks/portal"),
            rx.el.fieldset(
                rx.el.legend("Events", style=LABEL_STYLE),
                labelled_checkbox("All events", "event_all", checked=False, input_id="webhook-event-all"),
                *[labelled_checkbox(label, f"event_{kind}", checked=False, input_id=f"webhook-event-{kind}")
                  for kind, label in svc.KINDS.items()],
                style={"display": "flex", "flex_direction": "column", "gap": "6px", "border": "none",
                       "padding": "0", "margin": "0"},
            ),
            rx.text("The address must be https:// and reachable on the internet. Every delivery is signed with the "
                    "secret shown once after you add it.", size="2", color=MUTED_TEXT),
            primary_button("Add webhook", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=state.create_hook,
        key=state.hook_form,
        aria_labelledby="webhook-create-heading",
        max_width="520px",
        width="100%",
    )


def webhooks_body(state: type[WebhooksPanelBase], intro: str) -> rx.Component:
    """The page: list with its actions, the chosen delivery log, the form, and the new secret shown once."""
    headers = ["Receiver", "Events", "For", "Status", "Failures in a row", "Last delivered", "Actions"]
    log_headers = ["Queued", "Event", "Status", "Attempts", "Last answer", "Next try"]
    copy = rx.call_script(f"navigator.clipboard.writeText(document.getElementById('{SECRET_ID}').value)")
    return rx.vstack(
        rx.heading("Webhooks", size="7", as_="h1"),
        rx.text(intro, color=MUTED_TEXT),
        rx.text("Each delivery is a JSON POST with the headers X-Portal-Timestamp and X-Portal-Signature: "
                "sha256= and the HMAC-SHA256 of the timestamp, a dot and the body, keyed with the signing secret. "
                "A receiver that does not answer is tried again for three days; after a day of failures the "
                "webhook pauses and administrators are told.", size="2", color=MUTED_TEXT),
        rx.cond(
            state.hooks_allowed,
            rx.vstack(
                rx.cond(state.hooks_error != "", error_callout(state.hooks_error), rx.fragment()),
                rx.cond(state.hooks_done != "", info_callout(state.hooks_done), rx.fragment()),
                one_time_secret(
                    SECRET_ID, "Signing secret", state.hook_secret_shown,
                    "Copy it now into your receiver's settings (select it and press Ctrl+C, or use Copy secret): it "
                    "is shown only this once. Check X-Portal-Signature with it on every delivery.", "webhook-secret",
                    width_em=34,
                ),
                rx.cond(state.hook_secret_shown,
                        secondary_button("Copy secret", on_click=copy, style={"align_self": "flex-start"}),
                        rx.fragment()),
                rx.cond(
                    state.hooks.length() > 0,
                    data_table("Webhook subscriptions", headers, state.hooks, lambda row: _hook_row(state, row),
                               variant="surface"),
                    rx.text("No webhooks yet.", color=MUTED_TEXT),
                ),
                rx.cond(state.hooks_more != "", rx.text(state.hooks_more, color=MUTED_TEXT), rx.fragment()),
                rx.cond(
                    state.log_for != "",
                    rx.el.section(
                        rx.heading("Deliveries to ", state.log_url, size="4", as_="h2", id="webhook-log-heading"),
                        rx.cond(state.log_rows.length() > 0,
                                data_table("Deliveries", log_headers, state.log_rows, _delivery_row,
                                           variant="surface"),
                                rx.text("Nothing was sent to it yet.", color=MUTED_TEXT)),
                        rx.cond(state.log_more != "", rx.text(state.log_more, color=MUTED_TEXT), rx.fragment()),
                        aria_labelledby="webhook-log-heading",
                        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "8px"},
                    ),
                    rx.fragment(),
                ),
                _create_form(state),
                spacing="4",
                width="100%",
            ),
            rx.text("Only an administrator of your company manages webhooks.", color=MUTED_TEXT),
        ),
        spacing="4",
        width="100%",
    )
