"""Portal: the webhooks of a customer admin's company (services/webhooks.py decides who may and which addresses)."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.layout import area_page
from portal_app.components.webhooks_panel import WebhooksPanelBase, webhooks_body
from portal_app.ui import routes
from portal_app.ui.session import SessionState


class PortalWebhooksState(WebhooksPanelBase, SessionState):
    AREA: ClassVar[str] = "portal"


@area_page("portal", routes.PORTAL_WEBHOOKS, "Webhooks", PortalWebhooksState.load)
def portal_webhooks() -> rx.Component:
    return webhooks_body(
        PortalWebhooksState,
        "Webhooks tell your company's systems (an ERP, a TMS) at once when a milestone is reached, an ETA changes, "
        "a document is added, an invoice is issued, a request is updated or a booking is confirmed: only about "
        "your company's own shipments. Every administrator of your company sees and manages them here.",
    )
