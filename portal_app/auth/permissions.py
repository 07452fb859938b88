"""Roles and what each may do: the one permission matrix of the product."""

from __future__ import annotations

from enum import StrEnum

from models.enums import Role


class Permission(StrEnum):
    USE_PORTAL = "use_portal"                      # customer portal pages
    USE_TOWER = "use_tower"                        # ops tower pages
    VIEW_ALL_COMPANIES = "view_all_companies"      # read records of every customer company
    VIEW_SHIPMENTS = "view_shipments"
    EDIT_SHIPMENTS = "edit_shipments"              # milestones, ETAs, updates
    ASSIGN_WORK = "assign_work"                    # owners, teams, reassignment
    VIEW_INVOICES = "view_invoices"
    ISSUE_INVOICES = "issue_invoices"              # record an invoice issued to a customer (notifies them)
    UPLOAD_DOCUMENTS = "upload_documents"
    REVIEW_DOCUMENTS = "review_documents"
    REQUEST_QUOTES = "request_quotes"              # draft, submit, decline the company's quote requests
    VIEW_QUOTES = "view_quotes"                    # read quote requests and their options (and the quote PDF)
    PRICE_QUOTES = "price_quotes"                  # price a request by hand when no rate card matched
    BOOK = "book"                                  # accept an option into a booking; ask to amend or cancel it
    MANAGE_BOOKINGS = "manage_bookings"            # confirm or reject bookings, decide amend/cancel requests
    RAISE_REQUESTS = "raise_requests"
    HANDLE_REQUESTS = "handle_requests"
    MANAGE_EXCEPTIONS = "manage_exceptions"
    MANAGE_COMPANY_USERS = "manage_company_users"  # a customer admin's own colleagues
    MANAGE_RATES = "manage_rates"
    MANAGE_SLAS = "manage_slas"
    VIEW_KPIS = "view_kpis"
    MANAGE_CONFIG = "manage_config"                # templates, rules, branding
    MANAGE_USERS = "manage_users"                  # every user and company
    MANAGE_API_KEYS = "manage_api_keys"
    READ_AUDIT = "read_audit"                      # the audit trail: staff admins all of it, customer admins theirs
    MANAGE_HELP = "manage_help"                    # write, publish and retire help-centre articles
    OVERRIDE_CLOSEOUT = "override_closeout"        # close a shipment with checklist items open, with a reason
    IMPORT_SHIPMENTS = "import_shipments"          # create and update shipments from a TMS export (CSV or Excel)


_CUSTOMER = {
    Permission.USE_PORTAL,
    Permission.VIEW_SHIPMENTS,
    Permission.VIEW_INVOICES,
    Permission.UPLOAD_DOCUMENTS,
    Permission.REQUEST_QUOTES,
    Permission.VIEW_QUOTES,
    Permission.BOOK,
    Permission.RAISE_REQUESTS,
}
_OPS_AGENT = {
    Permission.USE_TOWER,
    Permission.VIEW_ALL_COMPANIES,
    Permission.VIEW_SHIPMENTS,
    Permission.EDIT_SHIPMENTS,
    Permission.VIEW_INVOICES,
    Permission.UPLOAD_DOCUMENTS,
    Permission.REVIEW_DOCUMENTS,
    Permission.HANDLE_REQUESTS,
    Permission.MANAGE_EXCEPTIONS,
    Permission.VIEW_QUOTES,
    Permission.PRICE_QUOTES,
    Permission.MANAGE_BOOKINGS,
}
_OPS_MANAGER = _OPS_AGENT | {
    Permission.ASSIGN_WORK,
    Permission.MANAGE_RATES,
    Permission.MANAGE_SLAS,
    Permission.VIEW_KPIS,
    Permission.ISSUE_INVOICES,
    Permission.MANAGE_HELP,
    Permission.OVERRIDE_CLOSEOUT,
    Permission.IMPORT_SHIPMENTS,
}

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER_USER: frozenset(_CUSTOMER),
    Role.CUSTOMER_ADMIN: frozenset(_CUSTOMER | {Permission.MANAGE_COMPANY_USERS, Permission.MANAGE_API_KEYS,
                                                Permission.READ_AUDIT}),
    Role.OPS_AGENT: frozenset(_OPS_AGENT),
    Role.OPS_MANAGER: frozenset(_OPS_MANAGER),
    Role.ADMIN: frozenset(
        _OPS_MANAGER | {Permission.MANAGE_CONFIG, Permission.MANAGE_USERS, Permission.MANAGE_API_KEYS,
                        Permission.READ_AUDIT}
    ),
}

CUSTOMER_ROLES = frozenset({Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN})
STAFF_ROLES = frozenset({Role.OPS_AGENT, Role.OPS_MANAGER, Role.ADMIN})

ROLE_LABELS: dict[Role, str] = {
    Role.CUSTOMER_USER: "Customer user",
    Role.CUSTOMER_ADMIN: "Customer admin",
    Role.OPS_AGENT: "Ops agent",
    Role.OPS_MANAGER: "Ops manager",
    Role.ADMIN: "Administrator",
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    try:
        return permission in MATRIX[Role(role)]
    except ValueError:
        return False
