"""The workspace's closeout card: once the shipment's last milestone has happened, the checklist (each item done or
not, with the page that fixes it) and "Close shipment"; an ops manager may close with items open, giving the
reason. The state part is a mixin of the workspace's state, which supplies ``_save`` and ``_version``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.components.ui import DANGER, MUTED_TEXT, primary_button
from portal_app.components.work_queue import stacked_form, text_field
from portal_app.services import document_archive
from portal_app.services import workspace as ws
from portal_app.ui.session import page_event, run_db


@dataclass(frozen=True)
class CloseoutLine:
    """One checklist item as shown."""

    key: str
    label: str
    done: bool
    detail: str
    fix_href: str


def closeout_line(item: ws.CloseoutItem) -> CloseoutLine:
    return CloseoutLine(key=item.key, label=item.label, done=item.done, detail=item.detail, fix_href=item.fix_href)


class CloseoutMixin(rx.State, mixin=True):
    closeout_due: bool = False
    closeout_closed: bool = False
    closeout_ready: bool = False
    closeout_items: list[CloseoutLine] = []
    can_override: bool = False
    archive_href: str = ""

    async def _load_closeout(self, principal: Principal, reference: str) -> None:
        state = await run_db(ws.closeout, principal, reference)
        self.closeout_due, self.closeout_closed, self.closeout_ready = state.due, state.closed, state.can_close
        self.closeout_items = [closeout_line(i) for i in state.items]
        self.can_override = principal.can(Permission.OVERRIDE_CLOSEOUT)
        self.archive_href = document_archive.zip_url(reference)

    @page_event("tower")
    async def close_shipment(self, principal: Principal, form: dict) -> Any:
        reason = str(form.get("override_reason", "")).strip() or None
        body = ws.CloseInput(expected_version=self._version, override_reason=reason)
        return await self._save(principal, ws.close_shipment, body, at="closeout")


def _item(i: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.cond(i.done, rx.icon("circle_check", color="var(--portal-ok)", aria_label="done"),
                    rx.icon("circle_x", color=DANGER, aria_label="not done")),
            rx.vstack(
                rx.text(rx.text.strong(i.label), " · ", rx.cond(i.done, "done", "not done")),
                rx.text(i.detail, size="2", color=MUTED_TEXT),
                rx.cond(i.done, rx.fragment(),
                        rx.cond(i.fix_href != "", rx.link("Fix it: " + i.label, href=i.fix_href, size="2"),
                                rx.fragment())),
                spacing="1",
            ),
            align="start",
        ),
        data_testid="closeout-" + i.key,
        style={"list_style": "none", "margin_bottom": "8px"},
    )


def closeout_card(state: type[CloseoutMixin], result: rx.Component) -> rx.Component:
    """The card (only once the last milestone has happened): checklist, then close or the closed note, then
    ``result``: what the last try to close said, under the button."""
    S: Any = state
    return rx.cond(
        S.closeout_due,
        rx.card(
            rx.vstack(
                rx.heading("Closeout", size="4", as_="h3"),
                rx.el.ul(rx.foreach(S.closeout_items, _item), style={"padding_left": "0", "margin": "0"}),
                rx.cond(
                    S.closeout_closed,
                    rx.vstack(
                        rx.text("This shipment is closed: the customer sees it as completed, with its documents as "
                                "one archive.", size="2"),
                        rx.link("Download the archive", href=S.archive_href, size="2", underline="always"),
                        spacing="1",
                    ),
                    stacked_form(
                        rx.cond(
                            S.closeout_ready,
                            rx.text("Every item is done.", size="2", color=MUTED_TEXT),
                            rx.cond(S.can_override,
                                    rx.text("Items are still open: closing is refused unless you give the reason to "
                                            "close anyway.", size="2", color=MUTED_TEXT),
                                    rx.text("Items are still open: closing is refused until they are done (or an ops "
                                            "manager closes it with a reason).", size="2", color=MUTED_TEXT)),
                        ),
                        rx.cond(S.closeout_ready, rx.fragment(),
                                rx.cond(S.can_override,
                                        text_field("Reason to close with items open (audited)", "override_reason",
                                                   "ws-close-reason", rows="2"),
                                        rx.fragment())),
                        primary_button("Close shipment", type="submit"),
                        on_submit=S.close_shipment, label="Close shipment", key=S.ws_key,
                    ),
                ),
                result,
                spacing="3",
                width="100%",
            ),
            width="100%",
            data_testid="workspace-closeout",
        ),
        rx.fragment(),
    )
