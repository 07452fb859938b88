"""Two-factor sign-in in the services: enrolment, codes used once, recovery codes, turning it off, the admins'
reset and the company policy (portal_app/services/mfa.py, portal_app/auth/mfa.py).

Each test makes its own company and users (unique emails), so the shared world's users keep signing in with
passwords alone.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from models import AuditLog, Company, EmailMessage, LoginAttempt, MfaRecoveryCode, User, UserSession
from models.enums import Role
from portal_app.auth import mfa as auth_mfa
from portal_app.auth import sessions
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services import mfa as svc
from portal_app.services.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from tests.factories import PASSWORD, World, make_user

_n = itertools.count(1)


@dataclass
class Tenant:
    company_id: int
    admin: User
    user: User


def tenant(db: Session) -> Tenant:
    tag = f"{next(_n)}{uuid.uuid4().hex[:6]}"
    company = Company(code=f"M{tag}"[:20], name=f"Mfa {tag}", kind="customer")
    db.add(company)
    db.flush()
    admin = make_user(db, company.id, Role.CUSTOMER_ADMIN, f"admin-{tag}@mfa.test")
    user = make_user(db, company.id, Role.CUSTOMER_USER, f"user-{tag}@mfa.test")
    db.commit()
    return Tenant(company.id, admin, user)


def principal(db: Session, user: User) -> Principal:
    db.expire_all()
    fresh = db.get(User, user.id)
    company = db.get(Company, fresh.company_id)
    return Principal(fresh.id, company.id, Role(fresh.role), fresh.email, fresh.full_name, company.name)


def enrol(db: Session, user: User) -> tuple[str, list[str]]:
    """Switch two-factor sign-in on for ``user``: its secret and recovery codes."""
    me = principal(db, user)
    started = svc.start_enrolment(db, me)
    codes = svc.confirm_enrolment(db, me, pyotp.TOTP(started.secret).now()).recovery_codes
    return started.secret, codes


def code_at(secret: str, seconds_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=seconds_from_now))


def test_enrolment_shows_the_secret_once_stores_it_encrypted_and_needs_a_first_code(db):
    t = tenant(db)
    me = principal(db, t.user)
    assert svc.status(db, me).enabled is False
    started = svc.start_enrolment(db, me)
    assert started.otpauth_uri.startswith("otpauth://totp/") and f"secret={started.secret}" in started.otpauth_uri
    assert started.qr_svg.startswith("data:image/svg+xml")
    stored = db.get(User, t.user.id)
    db.refresh(stored)
    assert stored.mfa_secret and started.secret not in stored.mfa_secret  # encrypted at rest
    assert auth_mfa.unseal(stored.mfa_secret) == started.secret
    assert svc.status(db, me).pending is True

    with pytest.raises(ValidationFailed) as wrong:
        svc.confirm_enrolment(db, me, "000000" if code_at(started.secret) != "000000" else "111111")
    assert wrong.value.code == "invalid_otp" and svc.status(db, me).enabled is False

    codes = svc.confirm_enrolment(db, me, code_at(started.secret)).recovery_codes
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = set(db.exec(select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == t.user.id)).all())
    assert hashes == {auth_mfa.recovery_hash(c) for c in codes} and not hashes & set(codes)  # only hashes stored
    status = svc.status(db, me)
    assert status.enabled and status.recovery_codes_left == 10
    with pytest.raises(Conflict) as again:
        svc.start_enrolment(db, me)
    assert again.value.code == "mfa_already_enabled"
    assert db.exec(select(AuditLog).where(AuditLog.action == "mfa_enabled",
                                          AuditLog.entity_id == str(t.user.id))).first() is not None


def test_confirming_without_a_started_enrolment_is_refused(db):
    t = tenant(db)
    with pytest.raises(Conflict) as refused:
        svc.confirm_enrolment(db, principal(db, t.user), "123456")
    assert refused.value.code == "mfa_not_started"


def test_sign_in_needs_a_code_each_code_works_once_and_recovery_codes_once(db):
    t = tenant(db)
    secret, recovery = enrol(db, t.user)
    email = t.user.email

    with pytest.raises(sessions.MfaRequired) as needed:
        sessions.login(db, email, PASSWORD)
    assert needed.value.code == "mfa_required" and needed.value.pending_token
    # Without the right password nothing about two-factor sign-in is revealed.
    with pytest.raises(NotAuthenticated) as wrong_password:
        sessions.login(db, email, "not-the-password")
    assert wrong_password.value.code == "invalid_credentials"

    # The confirming code's step is used already; the next step's code signs in once, then is a replay.
    # (One code, typed twice: computing it again could cross into the next 30 seconds and be a new, valid code.)
    next_code = code_at(secret, 30)
    assert sessions.login(db, email, PASSWORD, otp=next_code).principal.user_id == t.user.id
    with pytest.raises(NotAuthenticated) as replay:
        sessions.login(db, email, PASSWORD, otp=next_code)
    assert replay.value.code == "invalid_otp"

    first = recovery[0]
    assert sessions.login(db, email, PASSWORD, otp=first.upper().replace("-", " ")).principal.user_id == t.user.id
    with pytest.raises(NotAuthenticated):
        sessions.login(db, email, PASSWORD, otp=first)
    assert svc.status(db, principal(db, t.user)).recovery_codes_left == 9


def test_the_pending_token_stands_for_the_password_for_five_minutes_only(db, monkeypatch):
    t = tenant(db)
    secret, _ = enrol(db, t.user)
    with pytest.raises(sessions.MfaRequired) as needed:
        sessions.login(db, t.user.email, PASSWORD)
    token = needed.value.pending_token
    # The code step: no password, the pending token instead; the email typed does not matter.
    result = sessions.login(db, "someone-else@mfa.test", "", otp=code_at(secret, 30), pending=token)
    assert result.principal.user_id == t.user.id
    with pytest.raises(NotAuthenticated) as forged:
        sessions.login(db, t.user.email, "", otp=code_at(secret, 60), pending=token[:-4] + "AAAA")
    assert forged.value.code == "mfa_expired"
    monkeypatch.setattr(auth_mfa, "PENDING_SECONDS", -1)
    with pytest.raises(NotAuthenticated) as late:
        sessions.login(db, t.user.email, "", otp=code_at(secret, 60), pending=token)
    assert late.value.code == "mfa_expired"


def test_wrong_codes_count_as_failed_sign_ins_and_pause(db, monkeypatch):
    from portal_app.auth import sign_in_limits

    monkeypatch.setattr(sign_in_limits, "settings", replace(sign_in_limits.settings, login_max_failures=3))
    t = tenant(db)
    secret, _ = enrol(db, t.user)
    wrong = "000000" if code_at(secret, 30) != "000000" else "999999"
    for _ in range(3):
        with pytest.raises(NotAuthenticated) as bad:
            sessions.login(db, t.user.email, PASSWORD, otp=wrong, ip="198.51.100.7")
        assert bad.value.code == "invalid_otp"
    reasons = db.exec(select(LoginAttempt.reason).where(LoginAttempt.email == t.user.email)).all()
    assert reasons == [sign_in_limits.WRONG_CODE] * 3
    assert sign_in_limits.answer_delay(db, t.user.email, clock.now()) > 0  # answers slow down
    with pytest.raises(Exception) as paused:  # even the right code waits out the pause from that address
        sessions.login(db, t.user.email, PASSWORD, otp=code_at(secret, 30), ip="198.51.100.7")
    assert paused.value.code == "account_locked"


def test_turning_it_off_needs_a_code_or_the_password(db):
    t = tenant(db)
    secret, _ = enrol(db, t.user)
    me = principal(db, t.user)
    with pytest.raises(ValidationFailed):
        svc.disable(db, me)
    with pytest.raises(ValidationFailed) as wrong:
        svc.disable(db, me, password="not-the-password")
    assert wrong.value.code == "invalid_otp" and svc.status(db, me).enabled
    assert db.exec(select(LoginAttempt.reason).where(LoginAttempt.email == t.user.email)).all() == ["bad_otp"]
    assert svc.disable(db, me, code=code_at(secret, 30)).enabled is False
    assert db.exec(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == t.user.id)).first() is None
    assert sessions.login(db, t.user.email, PASSWORD).principal.user_id == t.user.id  # the password alone again

    enrol(db, t.user)
    assert svc.disable(db, principal(db, t.user), password=PASSWORD).enabled is False


def test_company_policy_forces_enrolment_until_done(db):
    t = tenant(db)
    admin = principal(db, t.admin)
    with pytest.raises(Conflict) as first_yourself:
        svc.set_policy(db, admin, True)
    assert first_yourself.value.code == "mfa_not_enabled"
    enrol(db, t.admin)
    with pytest.raises(PermissionDenied):
        svc.set_policy(db, principal(db, t.user), True)
    assert svc.set_policy(db, admin, True).required is True

    result = sessions.login(db, t.user.email, PASSWORD)
    assert result.principal.mfa_enrolment_required is True
    assert sessions.resolve_session(db, result.token).mfa_enrolment_required is True
    enrol(db, t.user)
    assert sessions.resolve_session(db, result.token).mfa_enrolment_required is False
    assert db.exec(select(AuditLog).where(AuditLog.action == "mfa_policy_changed",
                                          AuditLog.entity_id == str(t.company_id))).first() is not None


def test_staff_policy_setting(db, world: World, monkeypatch):
    staff = make_user(db, world.companies["FWD"], Role.OPS_AGENT, f"agent-{uuid.uuid4().hex[:8]}@fwd.test")
    db.commit()
    assert sessions.login(db, staff.email, PASSWORD).principal.mfa_enrolment_required is False
    monkeypatch.setattr(auth_mfa, "settings", replace(auth_mfa.settings, staff_mfa=True))
    assert sessions.login(db, staff.email, PASSWORD).principal.mfa_enrolment_required is True
    t = tenant(db)  # customers are not staff
    assert sessions.login(db, t.user.email, PASSWORD).principal.mfa_enrolment_required is False


def test_admin_reset_is_audited_emailed_and_ends_sessions(db, world: World):
    t = tenant(db)
    secret, _ = enrol(db, t.user)
    session = sessions.login(db, t.user.email, PASSWORD, otp=code_at(secret, 30))
    done = svc.reset(db, principal(db, t.admin), t.user.id)
    assert done.user_id == t.user.id and done.sessions_ended == 1
    assert sessions.resolve_session(db, session.token) is None
    assert svc.status(db, principal(db, t.user)).enabled is False
    [row] = db.exec(select(AuditLog).where(AuditLog.action == "mfa_reset", AuditLog.entity_id == str(t.user.id))).all()
    assert row.actor_id == t.admin.id and json.loads(row.before) == {"mfa": True}
    [mail] = db.exec(select(EmailMessage).where(EmailMessage.user_id == t.user.id)).all()
    assert mail.status == "queued" and mail.to_address == t.user.email and "reset" in mail.subject
    assert t.admin.email in mail.body_text
    assert db.exec(select(UserSession).where(UserSession.user_id == t.user.id,
                                             UserSession.revoked_reason == "mfa_reset")).first() is not None

    # An administrator of the forwarder may reset anyone; nobody resets their own this way.
    enrol(db, t.user)
    assert svc.reset(db, principal(db, world.users["FWD:admin"]), t.user.id).user_id == t.user.id
    with pytest.raises(ValidationFailed):
        svc.reset(db, principal(db, t.admin), t.admin.id)


def test_a_customer_admin_cannot_reset_another_companys_user_or_staff(db, world: World):
    t, other = tenant(db), tenant(db)
    enrol(db, other.user)
    admin = principal(db, t.admin)
    for target in (other.user.id, world.users["FWD:ops_agent"].id, 10**9):
        with pytest.raises(NotFound):
            svc.reset(db, admin, target)
    assert svc.status(db, principal(db, other.user)).enabled is True
    with pytest.raises(PermissionDenied):
        svc.reset(db, principal(db, t.user), t.admin.id)  # a customer user may not reset anyone
    with pytest.raises(PermissionDenied):
        svc.reset(db, principal(db, world.users["FWD:ops_manager"]), other.user.id)  # nor staff short of admin


def test_an_administrator_requires_it_of_all_staff(db, world: World):
    tag = uuid.uuid4().hex[:8]
    admin = make_user(db, world.companies["FWD"], Role.ADMIN, f"admin-{tag}@fwd.test")
    agent = make_user(db, world.companies["FWD"], Role.OPS_AGENT, f"agent-{tag}@fwd.test")
    db.commit()
    enrol(db, admin)
    try:
        assert svc.set_policy(db, principal(db, admin), True).company_id == world.companies["FWD"]
        assert sessions.login(db, agent.email, PASSWORD).principal.mfa_enrolment_required is True
        t = tenant(db)  # the forwarder's policy is the staff's, not the customers'
        assert sessions.login(db, t.user.email, PASSWORD).principal.mfa_enrolment_required is False
    finally:  # the shared world's staff sign in with passwords in every other test
        svc.set_policy(db, principal(db, admin), False)
    assert sessions.login(db, agent.email, PASSWORD).principal.mfa_enrolment_required is False


def test_the_key_comes_from_the_environment_and_rotates(monkeypatch):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        monkeypatch.setattr(auth_mfa, "settings", replace(auth_mfa.settings, mfa_key=old))
        auth_mfa._box.cache_clear()
        sealed = auth_mfa.seal("JBSWY3DPEHPK3PXP")
        assert Fernet(old.encode()).decrypt(sealed.encode()) == b"JBSWY3DPEHPK3PXP"
        monkeypatch.setattr(auth_mfa, "settings", replace(auth_mfa.settings, mfa_key=f"{new}, {old}"))
        auth_mfa._box.cache_clear()
        assert auth_mfa.unseal(sealed) == "JBSWY3DPEHPK3PXP"  # still readable after the new key came first
        assert Fernet(new.encode()).decrypt(auth_mfa.seal("x").encode()) == b"x"
        monkeypatch.setattr(auth_mfa, "settings", replace(auth_mfa.settings, mfa_key=new))
        auth_mfa._box.cache_clear()
        assert auth_mfa.unseal(sealed) is None  # the old key gone: the secret cannot be read (an admin resets it)
        monkeypatch.setattr(auth_mfa, "settings", replace(auth_mfa.settings, mfa_key="not-a-key"))
        auth_mfa._box.cache_clear()
        with pytest.raises(ValueError, match="PORTAL_MFA_KEY"):
            auth_mfa.seal("x")
    finally:
        monkeypatch.undo()
        auth_mfa._box.cache_clear()
