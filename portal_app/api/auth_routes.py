"""Sign-in, sign-out and password change over HTTP. Only these routes set or clear the session cookie."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from portal_app.api.deps import client_ip, current_principal, get_db
from portal_app.auth import mfa, sessions
from portal_app.auth.principal import Principal
from portal_app.auth.redirects import enrolment_path, safe_next
from portal_app.services.errors import ErrorCode, ServiceError, ValidationFailed
from portal_app.services.inputs import Body
from portal_app.settings import settings

Result = TypeVar("Result")

router = APIRouter(prefix="/api/auth", tags=["auth"])
LOGIN_PATH = "/api/auth/login"


class LoginBody(Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    otp: str | None = Field(default=None, max_length=12)


class UserOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    company_id: int
    company_name: str


class LoginOut(BaseModel):
    user: UserOut
    expires_at: str
    mfa_enrolment_required: bool = False  # set up two-factor sign-in (/api/v1/account/mfa/totp) before anything


class PasswordChangeBody(Body):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


def user_out(p: Principal) -> UserOut:
    return UserOut(
        id=p.user_id, email=p.email, full_name=p.full_name, role=p.role.value,
        company_id=p.company_id, company_name=p.company_name,
    )


def _set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def _set_pending_cookie(response: Response, token: str) -> None:
    """The sign-in page's code step: "this browser typed the right password just now" (auth/mfa.py). Sent only
    back to the sign-in route, unreadable by scripts, and gone after five minutes or the next answer."""
    response.set_cookie(mfa.PENDING_COOKIE, token, max_age=mfa.PENDING_SECONDS, httponly=True, samesite="strict",
                        secure=settings.cookie_secure, path=LOGIN_PATH)


def _clear_pending_cookie(response: Response) -> None:
    response.delete_cookie(mfa.PENDING_COOKIE, path=LOGIN_PATH, httponly=True, samesite="strict",
                           secure=settings.cookie_secure)


def _back_to_login(code: str, *, next_url: str, email: str, code_step: bool) -> str:
    target = f"/login?error={quote(code)}"
    if code_step:
        target += "&step=code"
    if next_url:
        target += f"&next={quote(next_url, safe='')}"
    if email:
        target += f"&email={quote(email[:254], safe='')}"
    return target


def _clear_session_cookie(response: Response) -> None:
    response.delete_cookie(sessions.SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.cookie_secure)


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"description": "Wrong email or password (`invalid_credentials`); with the right password, a "
                             "deactivated account (`account_inactive`) or company (`company_inactive`), a "
                             "two-factor code needed (`mfa_required`: send `otp` too) or wrong or used "
                             "(`invalid_otp`)"},
        429: {"description": "Too many failed attempts (`rate_limited`, `account_locked`, `sign_in_limited`)"},
    },
)
async def login(request: Request, db: Session = Depends(get_db)) -> Response:
    """Sign in with JSON `{"email", "password"}` (plus `"otp"` with two-factor sign-in) or a form post from the
    login page (redirects back). The page's code step posts `otp` alone: the password was checked by the step
    before, which left a five-minute pending cookie (docs/identity.md)."""
    is_form = request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )
    pending: str | None = None
    if is_form:
        form = await request.form()
        email, password, next_url = str(form.get("email", "")), str(form.get("password", "")), str(form.get("next", ""))
        otp: str | None = str(form.get("otp", ""))[:32] or None
        if otp is not None and not password:  # the code step: the password was checked a moment ago
            pending = request.cookies.get(mfa.PENDING_COOKIE) or "-"
    else:
        try:
            body = LoginBody.model_validate(await request.json())
        except Exception as exc:
            raise ValidationFailed('Send JSON like {"email": "...", "password": "..."}.') from exc
        email, password, next_url, otp = body.email, body.password, "", body.otp
    # Every answer about an email with repeated wrong passwords waits a little (auth/sign_in_limits.py, rule 4),
    # here on the event loop rather than in a worker thread, so waiting answers hold no thread.
    delay = await _run(sessions.answer_delay, db, email)
    if delay > 0:
        await asyncio.sleep(delay)
    try:
        result = await _run(sessions.login, db, email, password, otp=otp, pending=pending, ip=client_ip(request),
                            user_agent=request.headers.get("user-agent"))
    except sessions.MfaRequired as exc:
        if not is_form:
            raise
        # Neither the password nor anything about it goes into the URL: the next post proves it with the cookie.
        redirect = RedirectResponse(_back_to_login(exc.code, next_url=next_url, email=email, code_step=True),
                                    status_code=303)
        _set_pending_cookie(redirect, exc.pending_token)
        return redirect
    except ServiceError as exc:
        if not is_form:
            raise
        code_step = pending is not None and exc.code == ErrorCode.INVALID_OTP  # another try at the code
        redirect = RedirectResponse(_back_to_login(exc.code, next_url=next_url, email=email, code_step=code_step),
                                    status_code=303)
        if not code_step:
            _clear_pending_cookie(redirect)
        return redirect
    principal = result.principal
    if is_form:
        target = enrolment_path(principal) if principal.mfa_enrolment_required else safe_next(next_url, principal)
        response: Response = RedirectResponse(target, status_code=303)
        _clear_pending_cookie(response)
    else:
        response = JSONResponse(
            LoginOut(user=user_out(principal), expires_at=result.expires_at.isoformat(),
                     mfa_enrolment_required=principal.mfa_enrolment_required).model_dump()
        )
    _set_session_cookie(response, result.token)
    return response


@router.post("/logout", status_code=200)
async def logout(request: Request, db: Session = Depends(get_db)) -> Response:
    """End the current session. A form post from the pages is sent back to the login page."""
    await _run(sessions.logout, db, request.cookies.get(sessions.SESSION_COOKIE), ip=client_ip(request))
    is_form = request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )
    response: Response = (
        RedirectResponse("/login?signed_out=1", status_code=303) if is_form else JSONResponse({"signed_out": True})
    )
    _clear_session_cookie(response)
    return response


@router.get("/me", response_model=UserOut)
def me(principal: Principal = Depends(current_principal)) -> UserOut:
    return user_out(principal)


@router.post("/password")
def change_password(
    body: PasswordChangeBody, principal: Principal = Depends(current_principal), db: Session = Depends(get_db)
) -> dict:
    """Change your own password. Your other sessions end; this one stays signed in."""
    ended = sessions.change_password(db, principal, body.current_password, body.new_password)
    return {"changed": True, "other_sessions_ended": ended}


async def _run(fn: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """Run blocking database and argon2 work in a worker thread so the event loop stays free."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args, **kwargs)
