"""Where a person may be sent after signing in: only paths of this site, and only within their own area."""

from __future__ import annotations

from portal_app.auth.principal import Principal


def home_path(principal: Principal | None) -> str:
    """Staff work in the tower, everyone else in the portal."""
    return "/tower" if principal is not None and principal.is_staff else "/portal"


def safe_next(target: str | None, principal: Principal | None = None) -> str:
    """Only same-site paths are followed after sign-in; anything else goes to the user's home."""
    home = home_path(principal)
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return home
    if principal is not None and not target.startswith(home):
        return home  # each role has its area: customers the portal, staff the tower
    return target


def enrolment_path(principal: Principal) -> str:
    """Where someone who must set up two-factor sign-in first is taken (their area's two-factor page)."""
    return f"{home_path(principal)}/account/two-factor"
