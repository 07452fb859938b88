"""Portal: one shipment's page: details, timeline, updates, documents with upload, and the booking's change and
cancellation requests. A closed shipment reads as completed, with its documents as one archive to download."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.booking_changes import BookingChangesBase, booking_changes_view
from portal_app.components.document_upload import (
    ShipmentDocumentsBase,
    documents_for_shipment_view,
)
from portal_app.components.layout import area_page
from portal_app.components.shipment_detail import (
    ShipmentDetailBase,
    shipment_detail_view,
    shipment_loaded,
)
from portal_app.components.ui import MUTED_TEXT
from portal_app.ui import routes
from portal_app.ui.session import SessionState


class PortalShipmentDetailState(ShipmentDetailBase, ShipmentDocumentsBase, BookingChangesBase, SessionState):
    AREA: ClassVar[str] = "portal"

    async def _load_more(self, principal, reference: str) -> None:  # noqa: ANN001
        await self._load_changes(principal, reference, self.summary.status)


def completed_card(state: type[PortalShipmentDetailState]) -> rx.Component:
    """Shown once ops have closed the shipment: it is completed, and its documents come as one ZIP."""
    return rx.cond(
        state.summary.status == "closed",
        rx.card(
            rx.vstack(
                rx.heading("Completed", size="5", as_="h2"),
                rx.text("This shipment is completed: our team has closed it. Its documents come in one archive.",
                        color=MUTED_TEXT),
                rx.link("Download all documents (ZIP)",
                        href="/api/v1/shipments/" + state.summary.reference + "/documents.zip",
                        data_testid="documents-archive"),
                spacing="2",
            ),
            width="100%",
            data_testid="shipment-completed",
        ),
        rx.fragment(),
    )


@area_page("portal", routes.PORTAL_SHIPMENT, "Shipment", PortalShipmentDetailState.load)
def portal_shipment_detail() -> rx.Component:
    state = PortalShipmentDetailState
    return rx.vstack(
        shipment_detail_view(state, routes.PORTAL_SHIPMENTS),
        rx.cond(shipment_loaded(state), completed_card(state), rx.fragment()),
        rx.cond(shipment_loaded(state), documents_for_shipment_view(state), rx.fragment()),
        rx.cond(shipment_loaded(state), booking_changes_view(state), rx.fragment()),
        width="100%",
        spacing="5",
    )
