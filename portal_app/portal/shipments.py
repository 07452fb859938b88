"""Portal: the company's shipments list (one shipment's page is ``portal/shipment_detail.py``; each page's
components compile into its own module's file, so the list does not download the detail's)."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.layout import area_page
from portal_app.components.shipment_list import ShipmentListBase, shipments_table
from portal_app.ui import routes
from portal_app.ui.session import SessionState


class PortalShipmentsState(ShipmentListBase, SessionState):
    AREA: ClassVar[str] = "portal"


@area_page("portal", routes.PORTAL_SHIPMENTS, "Shipments", PortalShipmentsState.load)
def portal_shipments() -> rx.Component:
    return shipments_table(PortalShipmentsState, show_company=False, heading="Your shipments")
