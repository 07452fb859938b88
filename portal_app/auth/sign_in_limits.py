"""Failed sign-ins slow an attacker down without letting a stranger lock an account's owner out.

Everything is counted from ``LoginAttempt`` rows (in the database, so it holds across workers and hosts) by the
normalised email as typed, so an email without an account is treated exactly like one with an account. The client
address is the one ``portal_app/client_address.py`` decided. The rules, in the order they are checked:

1. **Network limit** (per address): ``PORTAL_LOGIN_IP_LIMIT`` failed sign-ins from one address within
   ``PORTAL_LOGIN_IP_WINDOW_MINUTES`` refuse every sign-in from it (429 ``rate_limited``).
2. **Pause** (per email and address): ``PORTAL_LOGIN_MAX_FAILURES`` failures for one email from one address pause
   that email *from that address* until ``PORTAL_LOGIN_LOCKOUT_MINUTES`` after the last one (429
   ``account_locked``). The owner signing in from any other address is not affected.
3. **Many addresses** (per email): past ``PORTAL_LOGIN_EMAIL_HOURLY_LIMIT`` wrong passwords for one email within an
   hour, from however many addresses, only addresses the account signed in from within
   ``PORTAL_LOGIN_KNOWN_ADDRESS_DAYS`` may still try it (429 ``sign_in_limited`` elsewhere), until the hour's
   count falls below the limit again. The owner at a usual place keeps signing in; guesses stay bounded per hour.
4. **Slowing** (per email): from ``PORTAL_LOGIN_MAX_FAILURES`` wrong passwords for one email within
   ``PORTAL_LOGIN_LOCKOUT_MINUTES`` (any address), every answer about it waits 0.5 s, doubling with each further
   wrong password, at most ``PORTAL_LOGIN_DELAY_MAX_SECONDS``. It only slows; the right password still passes.

Rules 1 and 2 count refused attempts too (hammering keeps an attacker's own address paused); rules 3 and 4 count
only wrong passwords, so a paused attacker who keeps trying cannot raise the limit for everyone else. A wrong
two-factor code (``WRONG_CODE``: at sign-in, or when turning two-factor sign-in off) counts exactly as a wrong
password in every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import LoginAttempt
from portal_app.services.errors import ErrorCode, RateLimited
from portal_app.settings import settings

# LoginAttempt.reason of a failed attempt.
WRONG_PASSWORD = "bad_credentials"
WRONG_CODE = "bad_otp"  # the right password, but a wrong, stale or replayed two-factor code
GUESSES = (WRONG_PASSWORD, WRONG_CODE)  # what rules 3 and 4 count
ACCOUNT_INACTIVE = ErrorCode.ACCOUNT_INACTIVE  # the right password, but a deactivated account or company
COMPANY_INACTIVE = ErrorCode.COMPANY_INACTIVE
ADDRESS_LIMITED = "ip_rate_limited"
PAUSED = "locked"
EMAIL_LIMITED = "email_limited"

HOUR = timedelta(hours=1)
FIRST_DELAY_SECONDS = 0.5

ADDRESS_LIMITED_MESSAGE = "Too many failed sign-ins from your network. Wait a few minutes, then try again."
PAUSED_MESSAGE = (
    "Sign-in for this account from your network is paused after repeated failed attempts. Try again in "
    "{minutes} minutes, or ask your administrator to reset your password."
)
EMAIL_LIMITED_MESSAGE = (
    "Sign-in for this account is limited after many failed attempts from different places. Sign in from a "
    "network where you have signed in before, or try again in {minutes} minutes."
)


@dataclass(frozen=True)
class Assessment:
    """What the rules say before the password is checked."""

    refusal: RateLimited | None
    reason: str  # LoginAttempt.reason to record when refused
    failures_here: int  # failures for this email from this address within the pause window

    @property
    def pause_begins_with_another_failure(self) -> bool:
        return self.failures_here + 1 == settings.login_max_failures


def _failures(db: Session, since: datetime, *conditions: sa.ColumnElement) -> tuple[int, datetime | None]:
    count, last = db.exec(
        select(sa.func.count(), sa.func.max(LoginAttempt.created_at)).where(
            LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since, *conditions
        )
    ).one()
    return int(count), last


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() // 60) + 1)


def assess(db: Session, email: str, address: str, now: datetime) -> Assessment:
    """Rules 1 to 3 for an attempt on ``email`` from ``address``; the same queries whether the account exists."""
    ip_since = now - timedelta(minutes=settings.login_ip_window_minutes)
    from_address, _ = _failures(db, ip_since, LoginAttempt.ip_address == address)
    if from_address >= settings.login_ip_limit:
        return Assessment(
            RateLimited(ADDRESS_LIMITED_MESSAGE, retry_after_seconds=settings.login_ip_window_minutes * 60),
            ADDRESS_LIMITED, 0,
        )

    pause = timedelta(minutes=settings.login_lockout_minutes)
    here, last_here = _failures(db, now - pause, LoginAttempt.email == email, LoginAttempt.ip_address == address)
    if here >= settings.login_max_failures and last_here is not None:
        minutes = _minutes_until(last_here + pause, now)
        return Assessment(
            RateLimited(PAUSED_MESSAGE.format(minutes=minutes), retry_after_seconds=minutes * 60,
                        code=ErrorCode.ACCOUNT_LOCKED),
            PAUSED, here,
        )

    wrong_this_hour, _ = _failures(db, now - HOUR, LoginAttempt.email == email, col(LoginAttempt.reason).in_(GUESSES))
    limit = settings.login_email_hourly_limit
    if wrong_this_hour >= limit and not _signed_in_here_before(db, email, address, now):
        # The count falls below the limit once the (wrong_this_hour - limit + 1) oldest of them are an hour old.
        oldest_to_go = db.exec(
            select(LoginAttempt.created_at)
            .where(LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= now - HOUR,
                   LoginAttempt.email == email, col(LoginAttempt.reason).in_(GUESSES))
            .order_by(LoginAttempt.created_at)
            .offset(wrong_this_hour - limit)
            .limit(1)
        ).first()
        minutes = _minutes_until((oldest_to_go or now) + HOUR, now)
        return Assessment(
            RateLimited(EMAIL_LIMITED_MESSAGE.format(minutes=minutes), retry_after_seconds=minutes * 60,
                        code=ErrorCode.SIGN_IN_LIMITED),
            EMAIL_LIMITED, here,
        )
    return Assessment(None, "", here)


def _signed_in_here_before(db: Session, email: str, address: str, now: datetime) -> bool:
    since = now - timedelta(days=settings.login_known_address_days)
    return db.exec(
        select(LoginAttempt.id).where(
            LoginAttempt.email == email, LoginAttempt.ip_address == address,
            LoginAttempt.succeeded.is_(True), LoginAttempt.created_at >= since,
        ).limit(1)
    ).first() is not None


def answer_delay(db: Session, email: str, now: datetime) -> float:
    """Rule 4: seconds every answer about ``email`` waits (0 until it has repeated wrong passwords)."""
    since = now - timedelta(minutes=settings.login_lockout_minutes)
    wrong, _ = _failures(db, since, LoginAttempt.email == email, col(LoginAttempt.reason).in_(GUESSES))
    over = wrong - settings.login_max_failures
    if over < 0:
        return 0.0
    return min(settings.login_delay_max_seconds, FIRST_DELAY_SECONDS * 2 ** min(over, 16))
