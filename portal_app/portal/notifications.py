"""Portal: the customer's notification centre (unread first, mark one or all read, each linking to its record)."""

from __future__ import annotations

import reflex as rx

from portal_app.components.layout import area_page
from portal_app.components.notification_centre import NotificationCentreState, notification_centre
from portal_app.ui import routes


@area_page("portal", routes.PORTAL_NOTIFICATIONS, "Notifications", NotificationCentreState.load)
def portal_notifications() -> rx.Component:
    return notification_centre("portal")
