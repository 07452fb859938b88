"""Every page's path, in one place. Pages register under these and link with ``link``; nothing else spells a path.

A path with ``[name]`` holds one record's key (Reflex's dynamic route); ``link(SHIPMENT, reference="SH1")`` fills
it in (escaped), so a reference with a slash or a space can never point at another page.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from portal_app.auth.permissions import Permission

LOGIN = "/login"
ROOT = "/"
HELP = "/help"
HELP_ARTICLE = "/help/[slug]"

# The customer portal.
PORTAL = "/portal"
PORTAL_SHIPMENTS = "/portal/shipments"
PORTAL_SHIPMENT = "/portal/shipments/[reference]"
PORTAL_DOCUMENTS = "/portal/documents"
PORTAL_INVOICES = "/portal/invoices"
PORTAL_INVOICE = "/portal/invoices/[number]"
PORTAL_STATEMENT = "/portal/statement"
PORTAL_QUOTES = "/portal/quotes"
PORTAL_QUOTE = "/portal/quotes/[reference]"
PORTAL_QUOTE_NEW = "/portal/quotes/new"
PORTAL_REQUESTS = "/portal/requests"
PORTAL_REQUEST = "/portal/requests/[reference]"
PORTAL_REQUEST_NEW = "/portal/requests/new"
PORTAL_NOTIFICATIONS = "/portal/notifications"
PORTAL_ACCOUNT = "/portal/account"
PORTAL_COLLEAGUES = "/portal/account/users"
PORTAL_AUDIT = "/portal/account/audit"
PORTAL_WEBHOOKS = "/portal/account/webhooks"
PORTAL_PASSWORD = "/portal/password"
PORTAL_TWO_FACTOR = "/portal/account/two-factor"  # also where someone who must set it up first is sent

# The ops tower.
TOWER = "/tower"
TOWER_SHIPMENTS = "/tower/shipments"
TOWER_SHIPMENT = "/tower/shipments/[reference]"
TOWER_EXCEPTIONS = "/tower/exceptions"
TOWER_EXCEPTION = "/tower/exceptions/[exception_id]"
TOWER_TASKS = "/tower/tasks"
TOWER_WORKLOAD = "/tower/workload"
TOWER_BOOKINGS = "/tower/bookings"
TOWER_CHANGES = "/tower/changes"
TOWER_QUOTES = "/tower/quotes"
TOWER_RATES = "/tower/rates"
TOWER_RATE_CARD = "/tower/rates/[card_id]"
TOWER_IMPORTS = "/tower/imports"
TOWER_REQUESTS = "/tower/requests"
TOWER_REQUEST = "/tower/requests/[reference]"
TOWER_KPIS = "/tower/kpis"
TOWER_HELP = "/tower/help"
TOWER_CONFIG = "/tower/config"
TOWER_CONFIG_RULES = "/tower/config/rules"
TOWER_CONFIG_TEMPLATES = "/tower/config/templates"
TOWER_CONFIG_ORG = "/tower/config/org"
TOWER_CONFIG_REQUESTS = "/tower/config/requests"
TOWER_CONFIG_INVOICING = "/tower/config/invoicing"
TOWER_CONFIG_SSO = "/tower/config/sso"
TOWER_CONFIG_CARRIERS = "/tower/config/carriers"
TOWER_SYSTEM = "/tower/system"  # administrators: the installation's state, linked from the configuration sections
TOWER_CARRIER_EVENTS = "/tower/carrier-events"
TOWER_NOTIFICATIONS = "/tower/notifications"
TOWER_ACCOUNT = "/tower/account"
TOWER_AUDIT = "/tower/audit"
TOWER_PASSWORD = "/tower/password"
TOWER_TWO_FACTOR = "/tower/account/two-factor"
TOWER_WEBHOOKS = "/tower/account/webhooks"

# Menu entries some staff roles may not open, with the permission they need (the page refuses them anyway; the
# menu shows only what the person may open). Every other entry is open to everyone of its area.
NAV_PERMISSION: dict[str, Permission] = {
    TOWER_KPIS: Permission.VIEW_KPIS,
    TOWER_CONFIG: Permission.MANAGE_CONFIG,
    TOWER_IMPORTS: Permission.IMPORT_SHIPMENTS,
}

_PLACEHOLDER = re.compile(r"\[([a-z_]+)\]")


def link(route: str, **keys: object) -> str:
    """``route`` with each ``[name]`` replaced by ``keys[name]``, escaped as one path segment."""

    def fill(match: re.Match[str]) -> str:
        return quote(str(keys[match.group(1)]), safe="")

    path = _PLACEHOLDER.sub(fill, route)
    unused = set(keys) - set(_PLACEHOLDER.findall(route))
    if unused:
        raise TypeError(f"{route} has no place for {sorted(unused)}")
    return path


def in_area(area: str, portal_route: str, tower_route: str) -> str:
    """The route of a page that exists in both areas (shared components know only their area's name)."""
    return tower_route if area == "tower" else portal_route
