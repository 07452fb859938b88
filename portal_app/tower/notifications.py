"""Tower: a staff member's notification centre (assignments, exceptions, tasks), the same as the portal's."""

from __future__ import annotations

import reflex as rx

from portal_app.components.layout import area_page
from portal_app.components.notification_centre import NotificationCentreState, notification_centre
from portal_app.ui import routes


@area_page("tower", routes.TOWER_NOTIFICATIONS, "Notifications", NotificationCentreState.load)
def tower_notifications() -> rx.Component:
    return notification_centre("tower")
