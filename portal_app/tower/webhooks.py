"""Tower: webhooks for the forwarder's own systems (every company's events), and every customer's subscriptions."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.layout import area_page
from portal_app.components.webhooks_panel import WebhooksPanelBase, webhooks_body
from portal_app.ui import routes
from portal_app.ui.session import SessionState


class TowerWebhooksState(WebhooksPanelBase, SessionState):
    AREA: ClassVar[str] = "tower"


@area_page("tower", routes.TOWER_WEBHOOKS, "Webhooks", TowerWebhooksState.load)
def tower_webhooks() -> rx.Component:
    return webhooks_body(
        TowerWebhooksState,
        "A webhook added here tells the forwarder's own systems about every company's milestones, ETA changes, "
        "documents (internal ones too), invoices, requests and confirmed bookings. Administrators also see, test "
        "and remove the subscriptions customers made.",
    )
