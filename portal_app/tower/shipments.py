"""Tower: the shipments board across all companies and one shipment's detail."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.auth.state import SessionState
from portal_app.components.layout import area_page
from portal_app.components.shipment_detail import (
    ShipmentDetailBase,
    shipment_detail_view,
)
from portal_app.components.shipment_list import ShipmentListBase, shipments_table


class TowerShipmentsState(ShipmentListBase, SessionState):
    AREA: ClassVar[str] = "tower"


class TowerShipmentDetailState(ShipmentDetailBase, SessionState):
    AREA: ClassVar[str] = "tower"


@area_page("tower", "/tower/shipments", "Shipments board", TowerShipmentsState.load)
def tower_shipments() -> rx.Component:
    return shipments_table(TowerShipmentsState, show_company=True, heading="Shipments board")


@area_page("tower", "/tower/shipments/[reference]", "Shipment", TowerShipmentDetailState.load)
def tower_shipment_detail() -> rx.Component:
    return shipment_detail_view(TowerShipmentDetailState, "/tower/shipments")
