"""The sign-in page. The form posts to /api/auth/login, which sets the HttpOnly cookie and redirects.

With two-factor sign-in the page has a second step (``?step=code``): the route answered the right password with a
five-minute pending cookie only it can read (auth/mfa.py) and sent the browser back here; the code form posts the
code alone. The password never goes back through the URL or the page.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth import sign_in_limits
from portal_app.auth.redirects import safe_next
from portal_app.auth.sessions import (
    DEACTIVATED_MESSAGES,
    INVALID_CREDENTIALS,
    MFA_REQUIRED_MESSAGE,
    PENDING_EXPIRED_MESSAGE,
    WRONG_CODE_MESSAGE,
)
from portal_app.components.layout import PRODUCT_NAME
from portal_app.components.ui import (
    MUTED_TEXT,
    error_callout,
    info_callout,
    labelled_input,
    native_post_form,
    primary_button,
)
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
}
CODE_STEP = "mfa_required"  # not an error: the password was right and the code comes next
UNKNOWN_ERROR = "Sign-in did not work. Try again; if it keeps failing, contact your forwarder."


class LoginState(SessionState):
    error_message: str = ""
    notice: str = ""
    next_url: str = ""
    email_prefill: str = ""
    code_step: bool = False  # the second step: the code from the authenticator app

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
        principal = await self._principal()
        if principal is not None and not code:
            return rx.redirect(safe_next(self.next_url, principal))
        self.auth_status = "anonymous"
        return None


def _login_form() -> rx.Component:
    return native_post_form(
        rx.vstack(
            labelled_input("Email", "email", type="email", auto_complete="username", required=True,
                           default_value=LoginState.email_prefill, key=LoginState.email_prefill, size="3"),
            labelled_input("Password", "password", type="password", auto_complete="current-password",
                           required=True, size="3"),
            rx.el.input(type="hidden", name="next", value=LoginState.next_url),
            primary_button("Sign in", type="submit", size="3", width="100%"),
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
