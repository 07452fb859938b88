"""Two-factor sign-in: TOTP codes (RFC 6238, pyotp), one-time recovery codes, the encrypted secret and the short
"password verified" token of the sign-in page's code step. The rules are written down in docs/identity.md.

- The TOTP secret is stored encrypted (Fernet) with ``PORTAL_MFA_KEY``; without it, a key generated once into
  ``<PORTAL_DATA_DIR>/mfa.key`` (mode 0600). Several comma-separated keys: the first encrypts, all decrypt.
- A code is accepted at most once: the time-step it belongs to is stored (``User.mfa_last_step``) by a conditional
  UPDATE, so only later steps pass afterwards, even when two sign-ins race.
- Recovery codes are random (50 bits), so their SHA-256 is enough; each is spent by a conditional UPDATE.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime
from functools import lru_cache

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlmodel import Session, col

from models import MfaRecoveryCode, User
from models.enums import Role
from portal_app.auth.permissions import STAFF_ROLES
from portal_app.key_files import installation_key
from portal_app.settings import settings

log = logging.getLogger(__name__)

PENDING_COOKIE = "portal_mfa_pending"
PENDING_SECONDS = 300  # the code step of the sign-in page must follow the password within five minutes
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_PENDING_PURPOSE = "mfa_pending"
TOTP_DIGITS = 6
TOTP_SECONDS = 30
VALID_WINDOW = 1  # one step either side: clocks of phones drift


# --- the key --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _box() -> MultiFernet:
    raw = settings.mfa_key
    keys = ([k.strip().encode() for k in raw.split(",") if k.strip()] if raw
            else [installation_key("mfa.key", "PORTAL_MFA_KEY")])
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise ValueError("PORTAL_MFA_KEY: each key must be a Fernet key (32 url-safe base64-encoded bytes), "
                         "e.g. from `python -c 'from cryptography.fernet import Fernet; "
                         "print(Fernet.generate_key().decode())'`.") from exc


def seal(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def unseal(stored: str | None) -> str | None:
    """The plain secret, or None when there is none or it cannot be decrypted (another key)."""
    if not stored:
        return None
    try:
        return _box().decrypt(stored.encode()).decode()
    except InvalidToken:
        log.error("A two-factor secret cannot be decrypted with PORTAL_MFA_KEY; the person needs a reset.")
        return None


# --- TOTP ---------------------------------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def looks_like_totp(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isdigit()


def clean_code(code: str | None) -> str:
    return "".join((code or "").split()).lower()


def matching_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    """The time-step ``code`` belongs to (now, or one step either side), if later than ``after_step``."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def claim_step(db: Session, user_id: int, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already (a replay)."""
    result = db.exec(  # type: ignore[call-overload]
        sa.update(User)
        .where(col(User.id) == user_id, sa.or_(col(User.mfa_last_step).is_(None), col(User.mfa_last_step) < step))
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


# --- recovery codes -----------------------------------------------------------------------------------------------


def _normal_recovery(code: str) -> str:
    return clean_code(code).replace("-", "")


def recovery_hash(code: str) -> str:
    return hashlib.sha256(_normal_recovery(code).encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def spend_recovery_code(db: Session, user_id: int, code: str, now: datetime) -> bool:
    normal = _normal_recovery(code)
    if len(normal) != 10:
        return False
    result = db.exec(  # type: ignore[call-overload]
        sa.update(MfaRecoveryCode)
        .where(col(MfaRecoveryCode.user_id) == user_id, col(MfaRecoveryCode.code_hash) == recovery_hash(normal),
               col(MfaRecoveryCode.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def accept_code(db: Session, user: User, code: str | None, now: datetime) -> str | None:
    """Spend a second factor of an enrolled ``user``: ``"totp"`` or ``"recovery"`` when accepted, else None.

    The caller commits (or rolls back) with the rest of the sign-in.
    """
    assert user.id is not None  # a stored row
    cleaned = clean_code(code)
    if looks_like_totp(cleaned):
        secret = unseal(user.mfa_secret)
        if secret is None:
            return None
        step = matching_step(secret, cleaned, now, user.mfa_last_step)
        return "totp" if step is not None and claim_step(db, user.id, step) else None
    return "recovery" if spend_recovery_code(db, user.id, cleaned, now) else None


# --- policy -------------------------------------------------------------------------------------------------------


def must_enrol(role: str, enrolled: bool, company_requires: bool) -> bool:
    """Whether a signed-in person must set up two-factor sign-in before anything else."""
    if enrolled:
        return False
    try:
        staff = Role(role) in STAFF_ROLES
    except ValueError:
        staff = False
    return company_requires or (staff and settings.staff_mfa)


# --- the sign-in page's code step ---------------------------------------------------------------------------------


def _password_mark(user: User) -> str:
    """Changes when the password does, so a pending step ends with a password change."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def pending_token(user: User) -> str:
    """A short-lived, encrypted and authenticated note that ``user`` typed the right password just now."""
    body = json.dumps({"p": _PENDING_PURPOSE, "u": user.id, "h": _password_mark(user)})
    return _box().encrypt(body.encode()).decode()


def pending_user(db: Session, token: str | None) -> User | None:
    """The user a pending token (at most PENDING_SECONDS old) was made for, if it still holds."""
    if not token or len(token) > 1000:
        return None
    try:
        body = json.loads(_box().decrypt(token.encode(), ttl=PENDING_SECONDS))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(body, dict) or body.get("p") != _PENDING_PURPOSE or not isinstance(body.get("u"), int):
        return None
    user = db.get(User, body["u"])
    if user is None or not hmac.compare_digest(str(body.get("h")), _password_mark(user)):
        return None
    return user
