"""Tower: the whole audit trail, for administrators (sign-ins, people, API keys, downloads, exports, settings and
the work on records)."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from portal_app.components.audit_page import AuditPageBase, audit_body
from portal_app.components.layout import area_page
from portal_app.services import audit_trail
from portal_app.ui import routes
from portal_app.ui.session import SessionState


class TowerAuditState(AuditPageBase, SessionState):
    AREA: ClassVar[str] = "tower"


@area_page("tower", routes.TOWER_AUDIT, "Audit trail", TowerAuditState.load)
def tower_audit() -> rx.Component:
    return audit_body(
        TowerAuditState,
        "Every sign-in and refusal, change of people, roles, API keys and settings, document download and export, "
        "and the work on records, with the address it came from. Entries are kept for the installation's "
        "retention period (PORTAL_AUDIT_RETENTION_DAYS).",
        tuple(audit_trail.CATEGORY_WORDS),
    )
