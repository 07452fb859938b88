"""Whether password sign-in is refused because a company signs in only through its identity provider.

Two checks, the way ``auth/sessions.py`` uses them: before the password is checked, by the email's domain (which
domains use single sign-on is no secret: the sign-in page tells anyone who types an address); after the right
password, by the user's company (a person of such a company with an address on another domain). The second check
spares administrators, so an administrator account on a domain that is not connected can always sign in with its
password, even while the provider is down or wrongly set up.
"""

from __future__ import annotations

from sqlmodel import Session

from models import User
from models.enums import Role
from portal_app.services.config.sso import connection_for_company, connection_for_email

SSO_REQUIRED_MESSAGE = (
    "Your company signs in through its own identity provider, not with a password here. Type your email on the "
    "sign-in page and choose Continue with single sign-on. If that does not work, ask your IT department or your "
    "company's portal administrator."
)


def password_refused(db: Session, email: str, user: User | None) -> bool:
    """``user`` None: by the domain of ``email``; else by the user's company (administrators excepted)."""
    if user is None:
        connection = connection_for_email(db, email)
    elif user.role == Role.ADMIN.value:
        return False
    else:
        connection = connection_for_company(db, user.company_id)
    return connection is not None and not connection.password_login_allowed
