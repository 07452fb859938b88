"""The sign-in page. The form posts to /api/auth/login, which sets the HttpOnly cookie and redirects.

With two-factor sign-in the page has a second step (``?step=code``): the route answered the right password with a
five-minute pending cookie only it can read (auth/mfa.py) and sent the browser back here; the code form posts the
code alone. The password never goes back through the URL or the page.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlencode

import reflex as rx

from portal_app.auth import sign_in_limits, sso
from portal_app.auth.redirects import safe_next
from portal_app.auth.sessions import (
    DEACTIVATED_MESSAGES,
    INVALID_CREDENTIALS,
    MFA_REQUIRED_MESSAGE,
    PENDING_EXPIRED_MESSAGE,
    WRONG_CODE_MESSAGE,
)
from portal_app.auth.sso_policy import SSO_REQUIRED_MESSAGE
from portal_app.components.layout import PRODUCT_NAME
from portal_app.components.ui import (
    MUTED_TEXT,
    error_callout,
    info_callout,
    labelled_input,
    native_post_form,
    primary_button,
)
from portal_app.db import session_scope
from portal_app.services.config.sso import connection_for_email
from portal_app.settings import settings
from portal_app.ui.session import SessionState

# The page cannot know the minutes left, so it words the pauses without them.
LOGIN_ERRORS = {
    "invalid_credentials": INVALID_CREDENTIALS,
    "account_locked": (
        "Sign-in for this account from your network is paused after repeated failed attempts. Wait "
        f"{settings.login_lockout_minutes} minutes and try again, or ask your administrator to reset your password."
    ),
    "sign_in_limited": (
        "Sign-in for this account is limited after many failed attempts from different places. Sign in from a "
        "network where you have signed in before, or try again within the hour."
    ),
    "rate_limited": sign_in_limits.ADDRESS_LIMITED_MESSAGE,
    "account_inactive": DEACTIVATED_MESSAGES[sign_in_limits.ACCOUNT_INACTIVE],
    "company_inactive": DEACTIVATED_MESSAGES[sign_in_limits.COMPANY_INACTIVE],
    "invalid_input": "Enter your email address and your password, then select Sign in.",
    "invalid_otp": WRONG_CODE_MESSAGE,
    "mfa_expired": PENDING_EXPIRED_MESSAGE,
    "sso_required": SSO_REQUIRED_MESSAGE,
    **sso.MESSAGES,
}
CODE_STEP = "mfa_required"  # not an error: the password was right and the code comes next
UNKNOWN_ERROR = "Sign-in did not work. Try again; if it keeps failing, contact your forwarder."


def _sign_on_for(email: str) -> tuple[bool, bool]:
    """Whether ``email``'s domain signs in through an identity provider, and whether passwords stay allowed."""
    with session_scope() as db:
        connection = connection_for_email(db, email)
        return connection is not None, connection is None or connection.password_login_allowed


class LoginState(SessionState):
    error_message: str = ""
    notice: str = ""
    next_url: str = ""
    email_prefill: str = ""
    code_step: bool = False  # the second step: the code from the authenticator app
    # Single sign-on for the typed email's domain (home-realm discovery), and whether its password still works.
    sso_email: str = ""
    sso_password_allowed: bool = True

    @rx.var
    def sso_start_url(self) -> str:
        return "/api/auth/sso/start?" + urlencode({"email": self.sso_email, "next": self.next_url})

    async def check_email(self, value: str):  # noqa: ANN201
        """Leaving the email field: a domain with single sign-on is offered its provider (sent there at once when
        its people may not use a password)."""
        email = (value or "").strip()[:254]
        has_sso, password_allowed = await asyncio.to_thread(_sign_on_for, email) if "@" in email else (False, True)
        self.sso_email = email if has_sso else ""
        self.sso_password_allowed = password_allowed
        if has_sso and not password_allowed:
            return self._go_to_provider()
        return None

    def continue_with_sso(self):  # noqa: ANN201
        """The "Continue with single sign-on" button: off to the provider of the email checked last."""
        return self._go_to_provider() if self.sso_email else None

    def _go_to_provider(self) -> rx.event.EventSpec:
        # A full page load, not the app's own navigation: the route answers with a redirect and a cookie.
        return rx.call_script(f"window.location.assign({json.dumps(self.sso_start_url)})")

    async def load(self):  # noqa: ANN201
        params = parse_qs(self.router.url.query)
        first = lambda key: (params.get(key) or [""])[0]  # noqa: E731
        code = first("error")
        self.code_step = first("step") == "code"
        self.error_message = LOGIN_ERRORS.get(code, UNKNOWN_ERROR) if code and code != CODE_STEP else ""
        self.notice = "You are signed out." if first("signed_out") else ""
        if code == CODE_STEP and self.code_step:
            self.notice = MFA_REQUIRED_MESSAGE
        self.next_url = first("next")[:500]
        self.email_prefill = first("email")[:254]
        has_sso, password_allowed = (await asyncio.to_thread(_sign_on_for, self.email_prefill)
                                     if "@" in self.email_prefill else (False, True))
        self.sso_email = self.email_prefill if has_sso else ""
        self.sso_password_allowed = password_allowed
        principal = await self._principal()
        if principal is not None and not code:
            return rx.redirect(safe_next(self.next_url, principal))
        self.auth_status = "anonymous"
        return None


def _single_sign_on() -> rx.Component:
    """Shown when the typed email's domain signs in through its company's identity provider."""
    return rx.cond(
        LoginState.sso_email != "",
        rx.vstack(
            rx.text("Your company signs in through its own identity provider.", size="2"),
            primary_button("Continue with single sign-on", type="button", size="3", width="100%",
                           on_click=LoginState.continue_with_sso),
            rx.cond(LoginState.sso_password_allowed, rx.text("Or sign in with your password:", size="2"),
                    rx.fragment()),
            spacing="2",
            width="100%",
        ),
        rx.fragment(),
    )


def _login_form() -> rx.Component:
    return native_post_form(
        rx.vstack(
            labelled_input("Email", "email", type="email", auto_complete="username", required=True,
                           default_value=LoginState.email_prefill, key=LoginState.email_prefill, size="3",
                           on_blur=LoginState.check_email),
            _single_sign_on(),
            rx.cond(
                (LoginState.sso_email == "") | LoginState.sso_password_allowed,
                rx.vstack(
                    labelled_input("Password", "password", type="password", auto_complete="current-password",
                                   required=True, size="3"),
                    primary_button("Sign in", type="submit", size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                rx.fragment(),
            ),
            rx.el.input(type="hidden", name="next", value=LoginState.next_url),
            spacing="4",
            width="100%",
        ),
        action="/api/auth/login",
        form_id="sign-in-form",
        style={"width": "100%"},
        aria_label="Sign in",
    )


def _code_form() -> rx.Component:
    return rx.vstack(
        rx.text("Signing in as ", rx.text.strong(LoginState.email_prefill), "."),
        native_post_form(
            rx.vstack(
                labelled_input("Code from your authenticator app", "otp", id="field-otp", required=True,
                               auto_complete="one-time-code", input_mode="text", max_length=12, auto_focus=True,
                               size="3"),
                rx.el.input(type="hidden", name="email", value=LoginState.email_prefill),
                rx.el.input(type="hidden", name="next", value=LoginState.next_url),
                primary_button("Verify and sign in", type="submit", size="3", width="100%"),
                spacing="4",
                width="100%",
            ),
            action="/api/auth/login",
            form_id="code-form",
            style={"width": "100%"},
            aria_label="Two-factor code",
        ),
        rx.text("Lost your phone? Enter one of your recovery codes instead, or ask your administrator to reset your "
                "two-factor sign-in.", size="2", color=MUTED_TEXT),
        rx.link("Start again with your password", href="/login", size="2"),
        spacing="4",
        width="100%",
    )


def login_page() -> rx.Component:
    return rx.box(
        rx.el.main(
            rx.card(
                rx.vstack(
                    rx.text(PRODUCT_NAME, size="3", weight="bold", color=MUTED_TEXT),
                    rx.heading("Sign in", size="7", as_="h1"),
                    rx.cond(LoginState.error_message != "", error_callout(LoginState.error_message), rx.fragment()),
                    rx.cond(LoginState.notice != "", info_callout(LoginState.notice), rx.fragment()),
                    rx.cond(
                        LoginState.code_step,
                        _code_form(),
                        rx.fragment(
                            _login_form(),
                            rx.text(
                                "Forgot your password? Ask your company's portal administrator or your forwarder to "
                                "reset it.",
                                size="2",
                                color=MUTED_TEXT,
                            ),
                        ),
                    ),
                    spacing="4",
                    width="100%",
                ),
                width="100%",
                max_width="420px",
                size="4",
            ),
            id="main",
            style={"display": "flex", "justify_content": "center", "padding": "64px 16px"},
        ),
        min_height="100vh",
        background="var(--portal-page)",
    )
