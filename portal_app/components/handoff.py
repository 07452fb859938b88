"""'Ask a person': after a failure, the user can send it to the team as a request with the context attached.

The context (page, record, what was attempted, the error) is recorded on the server when the failure happens,
in a backend-only var, so the request carries what really happened, not what the browser claims.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.ui import error_callout, info_callout, primary_button, secondary_button
from portal_app.services.errors import ServiceError
from portal_app.services.requests import fit_context, open_request
from portal_app.ui.session import page_event, run_db


class HandoffBase(rx.State, mixin=True):
    handoff_offered: bool = False
    handoff_done: str = ""
    handoff_error: str = ""
    _handoff_context: dict[str, Any] = {}

    def _offer_handoff(self, *, attempted: str, error: str, category: str = "other",
                       shipment_reference: str | None = None, draft: dict[str, Any] | None = None) -> None:
        self._handoff_context = {
            "page": self.router.url.path,
            "attempted": attempted,
            "error": error,
            "category": category,
            "shipment": shipment_reference,
            "draft": draft or {},
        }
        self.handoff_offered, self.handoff_done, self.handoff_error = True, "", ""

    def _clear_handoff(self) -> None:
        self._handoff_context = {}
        self.handoff_offered = False

    def dismiss_handoff(self) -> None:
        """Close the floating offer or its confirmation (the context is dropped; nothing was sent by this)."""
        self._clear_handoff()
        self.handoff_done, self.handoff_error = "", ""

    @page_event("portal")
    async def send_handoff(self, principal: Principal, form: dict) -> None:
        ctx = dict(self._handoff_context)
        if not ctx:
            self.handoff_error = "There is nothing to send any more. Reload the page and try again."
            return
        note = str(form.get("note", "")).strip()
        body = (note + "\n\n" if note else "") + f"Tried to {ctx['attempted']}. The portal said: {ctx['error']}"
        try:
            ticket = await run_db(
                open_request, principal, category=ctx["category"], subject=f"Help needed: {ctx['attempted']}"[:200],
                body=body, context=fit_context(ctx), shipment_reference=ctx.get("shipment"),
            )
        except ServiceError as exc:  # shown in the offer itself, not in the page's error
            self.handoff_error = exc.message
            return
        self._clear_handoff()
        self.handoff_done = (f"Sent to our team as request {ticket.reference}, with the page and what you tried. "
                             "We will answer in the portal and by email.")


def handoff_offer(state: type[HandoffBase]) -> rx.Component:
    """The offer to send the failure to a person, floating at the bottom of the window so it is seen wherever on
    the page the failure happened (an upload low on the page, a follow button at the top). One per page."""
    return rx.box(
        rx.cond(
            state.handoff_offered,
            rx.el.form(
                rx.vstack(
                    rx.text("Would you like a person to look at this? We attach the page and what you tried.",
                            weight="medium"),
                    rx.el.label("Anything to add? (optional)", html_for="handoff-note"),
                    rx.text_area(id="handoff-note", name="note", max_length=2000, width="100%"),
                    rx.hstack(primary_button("Send to our team", type="submit"),
                              secondary_button("No, thanks", type="button", on_click=state.dismiss_handoff)),
                    rx.cond(state.handoff_error != "", error_callout(state.handoff_error), rx.fragment()),
                    spacing="2",
                    width="100%",
                ),
                on_submit=state.send_handoff,  # a refusal keeps the note; a success closes the offer
                aria_label="Ask a person",
                width="100%",
                border="1px solid var(--portal-border)",
                border_radius="8px",
                padding="12px",
                background="var(--portal-surface)",
            ),
            rx.fragment(),
        ),
        rx.cond(state.handoff_done != "",
                 rx.hstack(info_callout(state.handoff_done),
                           secondary_button("Close", type="button", on_click=state.dismiss_handoff),
                           align="center", padding="8px"),
                 rx.fragment()),
        style={"position": "fixed", "bottom": "16px", "right": "16px", "z_index": "20",
               "width": "min(440px, calc(100vw - 32px))", "box_shadow": "0 4px 16px rgba(0,0,0,0.18)",
               "border_radius": "8px", "background": "var(--portal-surface)"},
        display=rx.cond(state.handoff_offered | (state.handoff_done != ""), "block", "none"),
    )
