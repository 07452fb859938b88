"""Single sign-on over HTTP: off to the company's identity provider and back (rules in ``auth/sso.py``).

Both routes answer with redirects, since a browser follows them: to the provider, to where the person was going
(``auth/redirects.safe_next``) or, for someone who must set up two-factor sign-in first, to that page, or to
``/login?error=<code>``, where the sign-in page says in words what went wrong
and whom to ask.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from portal_app.api.auth_routes import _run, _set_session_cookie
from portal_app.api.deps import client_ip, get_db
from portal_app.auth import sso
from portal_app.auth.redirects import enrolment_path, safe_next
from portal_app.settings import settings

router = APIRouter(prefix="/api/auth/sso", tags=["auth"])
COOKIE_PATH = "/api/auth/sso"
REDIRECTS = {302: {"description": "To the identity provider, or back to `/login?error=<code>`"}}


def _to_login(code: str, email: str = "", next_url: str = "") -> RedirectResponse:
    target = f"/login?error={quote(code)}"
    if next_url:
        target += f"&next={quote(next_url[:500], safe='')}"
    if email:
        target += f"&email={quote(email[:254], safe='')}"
    return RedirectResponse(target, status_code=302)


@router.get("/start", status_code=302, response_class=RedirectResponse, responses=REDIRECTS)
async def start(
    email: str = Query(max_length=254, description="The address the person typed; its domain picks the provider"),
    next: str = Query("", max_length=500, description="Where to go after signing in (this site's paths only)"),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    """Send the browser to the identity provider of ``email``'s domain (state, nonce and PKCE S256)."""
    try:
        started = await _run(sso.start, db, email, next)
    except sso.SsoFailed as exc:
        return _to_login(str(exc.code), email, next)
    response = RedirectResponse(started.redirect_url, status_code=302)
    response.set_cookie(sso.STATE_COOKIE, started.state, max_age=sso.PENDING_MINUTES * 60, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path=COOKIE_PATH)
    return response


@router.get("/callback", status_code=302, response_class=RedirectResponse, responses=REDIRECTS)
async def callback(
    request: Request,
    code: str = Query("", max_length=2000),
    state: str = Query("", max_length=200),
    error: str = Query("", max_length=200),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    """The provider's answer: checked, then the portal session is opened exactly as a password sign-in opens it."""
    try:
        finished = await _run(sso.finish, db, state=state, cookie_state=request.cookies.get(sso.STATE_COOKIE, ""),
                              code=code, error=error, ip=client_ip(request),
                              user_agent=request.headers.get("user-agent"))
    except sso.SsoFailed as exc:
        response = _to_login(str(exc.code), exc.email)
    else:
        principal = finished.result.principal
        # Like the password form: whoever must set up two-factor sign-in first goes there, everyone else on.
        target = enrolment_path(principal) if principal.mfa_enrolment_required else safe_next(finished.next_url,
                                                                                              principal)
        response = RedirectResponse(target, status_code=302)
        _set_session_cookie(response, finished.result.token)
    response.delete_cookie(sso.STATE_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
                           secure=settings.cookie_secure)
    return response
