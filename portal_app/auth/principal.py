"""Who is acting: built only from a verified session or API key, never from request arguments."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import Role
from portal_app.auth.permissions import CUSTOMER_ROLES, Permission, has_permission
from portal_app.services.errors import PermissionDenied


@dataclass(frozen=True)
class Principal:
    user_id: int
    company_id: int
    role: Role
    email: str
    full_name: str
    company_name: str
    session_id: int | None = None
    api_key_id: int | None = None
    read_only: bool = False  # an API key of scope ``read``: the API refuses it every method but GET, HEAD, OPTIONS
    timezone: str = "UTC"  # the person's own zone and language: how the pages write times, dates and money
    locale: str = "en"
    # Where this request or page event came from (client_address.py decides it); for the audit trail, never identity.
    address: str | None = None
    # A signed-in person who must set up two-factor sign-in first (company or staff policy): until they have, only
    # the enrolment pages and routes and sign-out answer them (api/deps.py, ui/session.py).
    mfa_enrolment_required: bool = False

    @property
    def is_customer(self) -> bool:
        return self.role in CUSTOMER_ROLES

    @property
    def is_staff(self) -> bool:
        return not self.is_customer

    @property
    def sees_all_companies(self) -> bool:
        return has_permission(self.role, Permission.VIEW_ALL_COMPANIES)

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                "Your account is not allowed to do this. Ask your administrator if you need access. Nothing was saved."
            )
