"""A person's own sign-in sessions: where they are signed in, and ending the ones they do not recognise.

Only the acting person's sessions are ever read or ended here: a session id of someone else is "not found". The
session the request itself runs in is ended with Sign out (the page and the API refuse to end it from here, so
nobody cuts the branch they sit on by a misclick).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select
from ua_parser import parse as parse_user_agent

from models import UserSession
from portal_app.auth import sessions
from portal_app.auth.principal import Principal
from portal_app.services import audit, clock
from portal_app.services.errors import ErrorCode, NotFound, ValidationFailed

MAX_LISTED = 50  # far more than anyone has; a list longer than this ends with "and more"
ENDED_BY_OWNER = "ended_by_owner"


@dataclass(frozen=True)
class SessionView:
    """One live session as its owner sees it."""

    id: int
    device: str
    address: str
    started_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    current: bool


def device_words(user_agent: str | None) -> str:
    """The browser and system a user agent names, in words ("Chrome on Linux"); the raw text when unknown."""
    if not user_agent:
        return "Unknown device"
    parsed = parse_user_agent(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser and browser != "Other":
        return f"{browser} on {system}" if system and system != "Other" else browser
    return user_agent[:60]


def _live(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [col(UserSession.user_id) == principal.user_id, col(UserSession.revoked_at).is_(None),
            col(UserSession.expires_at) > clock.now()]


def list_sessions(db: Session, principal: Principal) -> list[SessionView]:
    """The acting person's live sessions, the most recently used first."""
    rows = db.exec(
        select(UserSession).where(*_live(principal))
        .order_by(sa.func.coalesce(UserSession.last_seen_at, UserSession.created_at).desc(), col(UserSession.id).desc())
        .limit(MAX_LISTED)
    ).all()
    return [
        SessionView(id=r.id or 0, device=device_words(r.user_agent), address=r.ip_address or "unknown",
                    started_at=r.created_at, last_seen_at=r.last_seen_at, expires_at=r.expires_at,
                    current=r.id == principal.session_id)
        for r in rows
    ]


def end_session(db: Session, principal: Principal, session_id: int) -> None:
    """End one of the acting person's other sessions: that browser is signed out at its next click."""
    if session_id == principal.session_id:
        raise ValidationFailed("This is the session you are using now. Use Sign out to end it; nothing was changed.",
                               code=ErrorCode.CURRENT_SESSION)
    row = db.exec(select(UserSession).where(col(UserSession.id) == session_id, *_live(principal))).first()
    if row is None:
        raise NotFound("That session has already ended or is not one of yours. Nothing was changed.")
    row.revoked_at = clock.now()
    row.revoked_reason = ENDED_BY_OWNER
    db.add(row)
    audit.record(db, principal, "session_ended", "user", principal.user_id, principal.company_id, None,
                 {"session": session_id, "device": device_words(row.user_agent), "address": row.ip_address})
    db.commit()
    sessions.forget_principals()


def end_other_sessions(db: Session, principal: Principal) -> int:
    """End every session of the acting person but this one. Returns how many ended."""
    ended = sessions.revoke_user_sessions(db, principal.user_id, reason=ENDED_BY_OWNER,
                                          keep_session_id=principal.session_id)
    if ended:
        audit.record(db, principal, "sessions_ended", "user", principal.user_id, principal.company_id, None,
                     {"ended": ended})
    db.commit()
    return ended
