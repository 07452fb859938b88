"""Sign-in through a company's OpenID Connect provider (authorization code flow with PKCE).

``start`` finds the provider by the email's domain (home-realm discovery), keeps ``state``'s SHA-256, the
``nonce`` and the PKCE verifier in an ``SsoPending`` row (the browser keeps ``state`` in an HttpOnly cookie, so a
provider's answer is accepted only in the browser that asked) and sends the browser to the provider. ``finish``
takes the provider's answer once (the row is deleted whatever happens), exchanges the code with the verifier and
the client secret, and accepts the ID token only when its signature verifies with the provider's published keys
(JWKS) and its issuer, audience, nonce and expiry are right; the email must be verified by the provider. An ID
token without ``email`` or ``email_verified`` is completed from the provider's userinfo endpoint (called with the
access token), and only when userinfo names the same ``sub``.

Two-factor policy: a connection with ``trust_provider_mfa`` accepts the provider's word that the person signed in
with several factors (the ID token's ``amr``, rule in ``provider_asserted_mfa``); the session is then marked
``mfa_by_provider`` and the "set up two-factor sign-in first" gate does not apply to it.

Who it signs in: a person linked to the provider's subject (``User.oidc_subject``), else the person with that
email, linked now; else a new person of the provider's company with its default role (just in time). The email's
domain must be one of the provider's domains and the person must belong to the provider's company: a provider can
never sign anyone into another company, nor into a staff account unless it is the staff provider. Every refusal is
an ``SsoFailed`` with an error code the sign-in page turns into words, and is recorded as a failed attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6750.parameters import add_to_headers
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken, UserInfo
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlmodel import Session, col, select

from models import Company, SsoConnection, SsoPending, User
from portal_app.auth import sessions
from portal_app.auth.sessions import LoginResult
from portal_app.services import audit, clock, outbound, secret_box
from portal_app.services.config.sso import connection_for_email, domains_of
from portal_app.services.errors import ErrorCode, ServiceError
from portal_app.settings import settings

log = logging.getLogger(__name__)

STATE_COOKIE = "portal_sso_state"
CALLBACK_PATH = "/api/auth/sso/callback"
PENDING_MINUTES = 10
MAX_PENDING = 1000  # sign-ins under way at once for one provider
SCOPES = "openid email profile"
LEEWAY_SECONDS = 60
METADATA_SECONDS = 600
SIGN_IN_REASON = "sso"
ASK_ADMIN = "your company's portal administrator (or your forwarder)"


MESSAGES: dict[str, str] = {
    ErrorCode.SSO_NOT_CONFIGURED: (
        "Your email address does not sign in through an identity provider here. Sign in with your password, or ask "
        f"{ASK_ADMIN} whether your company uses single sign-on."),
    ErrorCode.SSO_PROVIDER_UNREACHABLE: (
        "Your company's identity provider did not answer, so single sign-on cannot continue right now. Try again in "
        f"a few minutes; if it keeps failing, tell your IT department or {ASK_ADMIN}."),
    ErrorCode.SSO_UNAVAILABLE: (
        "Single sign-on for your company is not set up correctly, so it cannot be used right now. Tell "
        f"{ASK_ADMIN}: the sign-on settings need checking."),
    ErrorCode.SSO_DENIED: (
        "Sign-in at your company's identity provider was cancelled or refused, so you are not signed in. Start again "
        "if you meant to sign in; if your provider refuses you, ask your IT department."),
    ErrorCode.SSO_STATE_INVALID: (
        "This sign-in link has expired or was started in another browser window, so you are not signed in. Start "
        "again from the sign-in page."),
    ErrorCode.SSO_TOKEN_INVALID: (
        "The answer from your company's identity provider could not be trusted or was refused, so you were not "
        f"signed in. Start again from the sign-in page; if it keeps failing, tell {ASK_ADMIN}."),
    ErrorCode.SSO_EMAIL_UNVERIFIED: (
        "Your identity provider has not confirmed your email address, so you were not signed in. Confirm it with "
        "your IT department, then try again."),
    ErrorCode.SSO_WRONG_COMPANY: (
        "Your identity provider signed you in with an address that does not belong to the company it signs in for, "
        f"so you were not signed in. Start again with your work address, or ask {ASK_ADMIN}."),
    ErrorCode.SSO_ACCOUNT_LINKED: (
        "Your portal account is already linked to another identity at your provider, so you were not signed in. "
        f"Ask {ASK_ADMIN} to check the account."),
    ErrorCode.SSO_USERINFO_MISMATCH: (
        "Your company's identity provider described a different person when asked for your email address than "
        "the one it signed in, so you were not signed in. Try again; if it keeps happening, tell your IT "
        f"department or {ASK_ADMIN}: the provider's set-up needs checking."),
    ErrorCode.SSO_TOO_MANY: (
        "Too many sign-ins through your company's identity provider were started in the last few minutes, so this "
        "one was not. Wait a few minutes and try again."),
    **sessions.DEACTIVATED_MESSAGES,
}
"""What each refusal tells the person (the sign-in page shows the same words for ``/login?error=<code>``)."""


class SsoFailed(ServiceError):
    status_code = 400

    def __init__(self, code: ErrorCode, email: str = "") -> None:
        super().__init__(MESSAGES[code], code=code)
        self.email = email


def callback_url() -> str:
    """Where the provider sends the browser back: the address registered at the provider as redirect URI."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def subject_key(issuer: str, sub: str) -> str:
    """What ``User.oidc_subject`` holds: ``sub`` is unique only per issuer, so it is stored behind a tag of it."""
    return f"{_sha(issuer)[:12]}:{sub}"


# ------------------------------------------------------------------------------------------------ the provider


@dataclass
class _Provider:
    metadata: dict[str, Any]
    jwks: dict[str, Any] | None
    expires: float


_providers: dict[str, _Provider] = {}


def forget_providers() -> None:
    """Read every provider's discovery document and keys again at next use."""
    _providers.clear()


def _unreachable(issuer: str, why: str) -> SsoFailed:
    log.warning("identity provider %s: %s", issuer, why)
    return SsoFailed(ErrorCode.SSO_PROVIDER_UNREACHABLE)


def _misconfigured(issuer: str, why: str) -> SsoFailed:
    log.warning("identity provider %s is not usable: %s", issuer, why)
    return SsoFailed(ErrorCode.SSO_UNAVAILABLE)


def _get_json(issuer: str, url: str) -> dict[str, Any]:
    try:
        answer = outbound.request("GET", url, allow_loopback=settings.sso_allow_loopback)
    except outbound.AddressRefused as exc:
        raise _misconfigured(issuer, f"{url}: {exc.reason}") from exc
    except outbound.FetchFailed as exc:
        raise _unreachable(issuer, f"{url}: {exc}") from exc
    if answer.status_code != 200:
        raise _unreachable(issuer, f"{url} answered {answer.status_code}")
    try:
        data = answer.json()
    except outbound.FetchFailed as exc:
        raise _unreachable(issuer, f"{url}: {exc}") from exc
    if not isinstance(data, dict):
        raise _misconfigured(issuer, f"{url} is not a JSON object")
    return data


def _provider(issuer: str) -> _Provider:
    """The discovery document of ``issuer`` (kept METADATA_SECONDS); its ``issuer`` must be exactly ``issuer``."""
    cached = _providers.get(issuer)
    if cached is not None and cached.expires > time.monotonic():
        return cached
    metadata = _get_json(issuer, issuer.rstrip("/") + "/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise _misconfigured(issuer, f"discovery names the issuer {metadata.get('issuer')!r}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise _misconfigured(issuer, f"discovery has no {key}")
    schemes = ("https://", "http://") if settings.sso_allow_loopback else ("https://",)
    if not metadata["authorization_endpoint"].startswith(schemes):
        raise _misconfigured(issuer, "its authorization endpoint is not an https address")
    provider = _Provider(metadata=metadata, jwks=None, expires=time.monotonic() + METADATA_SECONDS)
    _providers[issuer] = provider
    return provider


def _key_set(issuer: str, provider: _Provider, *, fresh: bool = False) -> KeySet:
    if provider.jwks is None or fresh:
        provider.jwks = _get_json(issuer, provider.metadata["jwks_uri"])
    try:
        return KeySet.import_key_set(provider.jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _misconfigured(issuer, f"its keys cannot be read: {exc}") from exc


# ------------------------------------------------------------------------------------------------ start


@dataclass(frozen=True)
class Started:
    redirect_url: str
    state: str


def start(db: Session, email: str, next_url: str = "") -> Started:
    """A new sign-in at the provider of ``email``'s domain: the provider's address to send the browser to."""
    email = sessions.normalize_email(email)[:254]
    connection = connection_for_email(db, email) if "@" in email else None
    if connection is None:
        raise SsoFailed(ErrorCode.SSO_NOT_CONFIGURED, email)
    provider = _provider(connection.issuer)
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    now = clock.now()
    db.exec(sa.delete(SsoPending).where(col(SsoPending.created_at) < now - timedelta(minutes=PENDING_MINUTES)))
    under_way = db.exec(select(sa.func.count()).select_from(SsoPending)
                        .where(col(SsoPending.connection_id) == connection.id)).one()
    if under_way >= MAX_PENDING:  # anyone may start a sign-in: the rows it keeps are bounded per provider
        db.commit()
        raise SsoFailed(ErrorCode.SSO_TOO_MANY, email)
    db.add(SsoPending(state_hash=_sha(state), connection_id=connection.id or 0, nonce=nonce, code_verifier=verifier,
                      email_hint=email, next_url=(next_url or "")[:500], created_at=now))
    db.commit()
    url = add_params_to_uri(provider.metadata["authorization_endpoint"], [
        ("response_type", "code"), ("client_id", connection.client_id), ("redirect_uri", callback_url()),
        ("scope", SCOPES), ("state", state), ("nonce", nonce),
        ("code_challenge", create_s256_code_challenge(verifier)), ("code_challenge_method", "S256"),
        ("login_hint", email),
    ])
    return Started(redirect_url=url, state=state)


# ------------------------------------------------------------------------------------------------ finish


@dataclass(frozen=True)
class Finished:
    result: LoginResult
    next_url: str


def _take_pending(db: Session, state: str, cookie_state: str) -> SsoPending:
    """The sign-in this answer belongs to, deleted so it is used once; refused unless this browser started it."""
    stale = SsoFailed(ErrorCode.SSO_STATE_INVALID)
    if not state or not cookie_state or not hmac.compare_digest(state.encode(), cookie_state.encode()):
        raise stale
    pending = db.get(SsoPending, _sha(state))
    if pending is None:
        raise stale
    db.delete(pending)
    db.commit()
    if pending.created_at < clock.now() - timedelta(minutes=PENDING_MINUTES):
        raise stale
    return pending


def _exchange(connection: SsoConnection, provider: _Provider, code: str, verifier: str) -> dict[str, Any]:
    """The provider's token answer for ``code`` (client secret and PKCE verifier sent with it)."""
    try:
        secret = secret_box.decrypt(connection.client_secret_encrypted)
    except (secret_box.SecretKeyMissing, secret_box.SecretUnreadable) as exc:
        raise _misconfigured(connection.issuer, "the client secret cannot be decrypted with PORTAL_SSO_KEY") from exc
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url(),
            "code_verifier": verifier}
    methods = provider.metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth: tuple[str, str] | None = (connection.client_id, secret)
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        form |= {"client_id": connection.client_id, "client_secret": secret}
        auth = None
    try:
        answer = outbound.request("POST", provider.metadata["token_endpoint"], data=form, auth=auth,
                                  allow_loopback=settings.sso_allow_loopback)
    except outbound.AddressRefused as exc:
        raise _misconfigured(connection.issuer, f"token endpoint: {exc.reason}") from exc
    except outbound.FetchFailed as exc:
        raise _unreachable(connection.issuer, f"token endpoint: {exc}") from exc
    try:
        tokens = answer.json()
    except outbound.FetchFailed:
        tokens = None
    if answer.status_code != 200 or not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
        log.warning("identity provider %s refused the code: %s %s", connection.issuer, answer.status_code,
                    answer.body[:300])
        raise SsoFailed(ErrorCode.SSO_TOKEN_INVALID)
    return tokens


def _verified_claims(connection: SsoConnection, provider: _Provider, tokens: dict[str, Any], nonce: str
                     ) -> dict[str, Any]:
    """The ID token's claims once signature, issuer, audience, nonce and times are right."""
    algorithms = [a for a in provider.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
                  if a != "none"]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            token = jwt.decode(tokens["id_token"], _key_set(connection.issuer, provider), registry=registry)
        except InvalidKeyIdError:  # the provider may have rolled its keys since they were read
            token = jwt.decode(tokens["id_token"], _key_set(connection.issuer, provider, fresh=True),
                               registry=registry)
        claims = CodeIDToken(
            token.claims, token.header,
            {"iss": {"essential": True, "value": connection.issuer},
             "aud": {"essential": True, "value": connection.client_id}},
            {"nonce": nonce, "client_id": connection.client_id, "access_token": tokens.get("access_token")},
        )
        claims.validate(now=int(clock.now().timestamp()), leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, TypeError, KeyError) as exc:  # a malformed token is refused, never a 500
        log.warning("identity provider %s: ID token refused: %r", connection.issuer, exc)
        raise SsoFailed(ErrorCode.SSO_TOKEN_INVALID) from exc
    return dict(claims)


# ------------------------------------------------------------------------------------------------ userinfo


def _with_userinfo(connection: SsoConnection, provider: _Provider, tokens: dict[str, Any],
                   claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` completed from the provider's userinfo endpoint when the ID token lacks ``email`` or
    ``email_verified`` (as some providers send only ``sub`` in it).

    Userinfo is asked with the access token, through the same address checks as discovery and the keys, and
    believed only when its ``sub`` is the ID token's (else ``sso_userinfo_mismatch``). An ID token without ``email``
    takes ``email`` and ``email_verified`` from userinfo together; one with ``email`` keeps it and takes only
    ``email_verified``, and only when userinfo names the same address (so it never vouches for another address).
    Without a userinfo endpoint or an access token the claims stay as they are (and ``_person`` refuses an
    unverified email as before).
    """
    if claims.get("email") and "email_verified" in claims:
        return claims
    endpoint = provider.metadata.get("userinfo_endpoint")
    access_token = tokens.get("access_token")
    if not isinstance(endpoint, str) or not endpoint or not isinstance(access_token, str) or not access_token:
        return claims
    info = _userinfo(connection.issuer, endpoint, access_token)
    if not isinstance(info.get("sub"), str) or not hmac.compare_digest(
            str(info["sub"]).encode(), str(claims.get("sub") or "").encode()):
        log.warning("identity provider %s: userinfo names sub %r, the ID token %r", connection.issuer,
                    str(info.get("sub"))[:100], str(claims.get("sub"))[:100])
        raise SsoFailed(ErrorCode.SSO_USERINFO_MISMATCH,
                        sessions.normalize_email(str(claims.get("email") or "")))
    merged = dict(claims)
    if not claims.get("email"):  # the address and whether it is verified come from userinfo together
        merged.pop("email_verified", None)
        for key in ("email", "email_verified"):
            if key in info:
                merged[key] = info[key]
    elif "email_verified" in info and (sessions.normalize_email(str(info.get("email") or ""))
                                       == sessions.normalize_email(str(claims["email"]))):
        merged["email_verified"] = info["email_verified"]
    return merged


def _userinfo(issuer: str, endpoint: str, access_token: str) -> UserInfo:
    """The userinfo answer (JSON) for ``access_token``; refused as an untrusted answer unless 200 and a JSON object."""
    headers = add_to_headers(access_token, {})
    try:
        answer = outbound.request("GET", endpoint, headers=headers, allow_loopback=settings.sso_allow_loopback)
    except outbound.AddressRefused as exc:
        raise _misconfigured(issuer, f"userinfo endpoint: {exc.reason}") from exc
    except outbound.FetchFailed as exc:
        raise _unreachable(issuer, f"userinfo endpoint: {exc}") from exc
    if answer.status_code >= 500:
        raise _unreachable(issuer, f"userinfo endpoint answered {answer.status_code}")
    try:
        data = answer.json() if answer.status_code == 200 else None
    except outbound.FetchFailed:  # e.g. a signed (application/jwt) answer: not supported
        data = None
    if not isinstance(data, dict):
        log.warning("identity provider %s: userinfo refused: %s %s", issuer, answer.status_code, answer.body[:300])
        raise SsoFailed(ErrorCode.SSO_TOKEN_INVALID)
    return UserInfo(data)


# ------------------------------------------------------------------------------------------------ two factors

KNOWLEDGE = frozenset({"pwd", "pin", "kba"})
POSSESSION = frozenset({"otp", "hwk", "swk", "sc", "sms", "tel", "pop"})
INHERENCE = frozenset({"fpt", "face", "iris", "retina", "vbm"})


def provider_asserted_mfa(amr: object) -> bool:
    """Whether an ID token's ``amr`` (RFC 8176 values) says the person signed in with more than one factor: it
    holds ``"mfa"``, or methods of at least two different kinds among something known (pwd, pin, kba), something
    held (otp, hwk, swk, sc, sms, tel, pop) and something one is (fpt, face, iris, retina, vbm). Two methods of
    one kind (a password and a PIN) are one factor; other values (user, mca, rba, geo, wia...) count for nothing.
    Anything but a list of strings asserts nothing."""
    if not isinstance(amr, list):
        return False
    methods = {m for m in amr if isinstance(m, str)}
    if "mfa" in methods:
        return True
    return sum(1 for kind in (KNOWLEDGE, POSSESSION, INHERENCE) if methods & kind) >= 2


def _wrong_company(email: str) -> SsoFailed:
    return SsoFailed(ErrorCode.SSO_WRONG_COMPANY, email)


def _person(db: Session, connection: SsoConnection, claims: dict[str, Any]) -> User:
    """The person the provider vouches for, linked or created; refused when outside the provider's company."""
    email = sessions.normalize_email(str(claims.get("email") or ""))[:254]
    verified = claims.get("email_verified")
    if not email or "@" not in email or not (verified is True or str(verified).lower() == "true"):
        raise SsoFailed(ErrorCode.SSO_EMAIL_UNVERIFIED, email)
    sub = str(claims.get("sub") or "")
    if not sub or len(sub) > 240:
        raise SsoFailed(ErrorCode.SSO_TOKEN_INVALID, email)
    if email.rpartition("@")[2] not in domains_of(db, connection.id):
        raise _wrong_company(email)
    key = subject_key(connection.issuer, sub)
    user = db.exec(select(User).where(col(User.oidc_subject) == key)).first()
    if user is None:
        user = db.exec(select(User).where(col(User.email) == email)).first()
        if user is not None and user.oidc_subject not in (None, key):
            raise SsoFailed(ErrorCode.SSO_ACCOUNT_LINKED, email)
    if user is not None and user.company_id != connection.company_id:
        raise _wrong_company(email)
    company = db.get(Company, connection.company_id)
    if user is None:
        if company is None or not company.is_active:
            raise SsoFailed(ErrorCode.COMPANY_INACTIVE, email)
        name = " ".join(str(claims.get("name") or "").split())[:200] or email.partition("@")[0]
        user = User(email=email, full_name=name, role=connection.default_role, company_id=connection.company_id,
                    oidc_subject=key)
        db.add(user)
        db.flush()
        audit.record(db, None, "user_created_by_sso", "user", user.id, connection.company_id, None,
                     {"email": email, "full_name": name, "role": user.role, "issuer": connection.issuer})
        return user
    deactivated = sessions.deactivation(db, user)
    if deactivated is not None:
        raise SsoFailed(ErrorCode(deactivated), email)
    if user.oidc_subject is None:
        user.oidc_subject = key
        db.add(user)
    return user


def finish(db: Session, *, state: str, cookie_state: str, code: str, error: str, ip: str | None,
           user_agent: str | None) -> Finished:
    """Check the provider's answer and open the portal session; SsoFailed (recorded) for anything wrong."""
    if error and not state:
        # Some providers leave state out of a refusal; a refusal signs nobody in, so the browser's own sign-in is
        # looked up by its cookie to say what happened.
        state = cookie_state
    email = ""
    try:
        pending = _take_pending(db, state, cookie_state)
        email = pending.email_hint
        if error or not code:
            raise SsoFailed(ErrorCode.SSO_DENIED, email)
        connection = db.get(SsoConnection, pending.connection_id)
        if connection is None:
            raise SsoFailed(ErrorCode.SSO_NOT_CONFIGURED, email)
        provider = _provider(connection.issuer)
        tokens = _exchange(connection, provider, code, pending.code_verifier)
        claims = _verified_claims(connection, provider, tokens, pending.nonce)
        claims = _with_userinfo(connection, provider, tokens, claims)
        email = sessions.normalize_email(str(claims.get("email") or "")) or email
        user = _person(db, connection, claims)
        mfa_by_provider = connection.trust_provider_mfa and provider_asserted_mfa(claims.get("amr"))
        detail: dict[str, object] = {"issuer": connection.issuer}
        if mfa_by_provider:
            detail |= {"mfa_by_provider": True, "amr": [str(m)[:20] for m in claims["amr"]][:10]}
        result = sessions.sign_in_verified(db, user, ip=ip, user_agent=user_agent, reason=SIGN_IN_REASON,
                                           mfa_by_provider=mfa_by_provider, audit_detail=detail)
    except SsoFailed as exc:
        db.rollback()
        who = (exc.email or email)[:254]
        user_row = db.exec(select(User).where(col(User.email) == who)).first() if who else None
        sessions._record_failure(db, who, user_row, ip or sessions.UNKNOWN_ADDRESS, str(exc.code))
        db.commit()
        raise
    return Finished(result=result, next_url=pending.next_url)
