"""Portal: the audit trail of the admin's own company (sign-ins, people, API keys, downloads, exports)."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.audit_page import AuditPageBase, audit_body
from portal_app.components.layout import area_page
from portal_app.services import audit_trail
from portal_app.ui import routes
from portal_app.ui.session import SessionState


class PortalAuditState(AuditPageBase, SessionState):
    AREA: ClassVar[str] = "portal"


@area_page("portal", routes.PORTAL_AUDIT, "Audit trail", PortalAuditState.load)
def portal_audit() -> rx.Component:
    return audit_body(
        PortalAuditState,
        "Who of your company signed in (and who was refused), who changed people and roles, created or revoked "
        "API keys, downloaded documents and exported lists, with the address it came from.",
        audit_trail.CUSTOMER_CATEGORIES,
    )
