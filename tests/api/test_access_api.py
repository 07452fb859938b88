"""Who has access: a person's sessions, the audit trail, personal data and erasure, and retention, over the API."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import ApiKey, AuditLog, EmailMessage, LoginAttempt, Notification, Ticket, TicketMessage, User, UserSession
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.auth.sessions import hash_token
from portal_app.services import clock, retention
from portal_app.settings import settings
from tests.factories import PASSWORD, World, make_user

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _person(db: Session, world: World, company: str = "ALFA", role: Role = Role.CUSTOMER_USER) -> User:
    user = make_user(db, world.companies[company], role, f"p-{uuid.uuid4().hex[:10]}@{company.lower()}.test")
    db.commit()
    return user


def _signed_in(email: str, agent: str = CHROME) -> TestClient:
    client = TestClient(build_api(), headers={"user-agent": agent})
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


def test_a_person_sees_their_sessions_and_ends_the_others(db: Session, world: World) -> None:
    user = _person(db, world)
    laptop, phone, other = _signed_in(user.email, CHROME), _signed_in(user.email, FIREFOX), _signed_in(user.email)
    listed = laptop.get("/api/v1/account/sessions").json()["items"]
    assert len(listed) == 3
    assert {s["device"] for s in listed} == {"Chrome on Linux", "Firefox on Windows"}
    current = [s for s in listed if s["current"]]
    assert len(current) == 1 and current[0]["device"] == "Chrome on Linux"

    # The session making the call is ended with Sign out, not from here.
    refused = laptop.delete(f"/api/v1/account/sessions/{current[0]['id']}")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "current_session"

    phone_id = next(s["id"] for s in phone.get("/api/v1/account/sessions").json()["items"] if s["current"])
    assert laptop.delete(f"/api/v1/account/sessions/{phone_id}").status_code == 200
    assert phone.get("/api/v1/account/profile").status_code == 401
    assert laptop.delete(f"/api/v1/account/sessions/{phone_id}").status_code == 404

    assert laptop.post("/api/v1/account/sessions/end-others").json() == {"ended": 1}
    assert other.get("/api/v1/account/profile").status_code == 401
    assert laptop.get("/api/v1/account/profile").status_code == 200
    assert [s["current"] for s in laptop.get("/api/v1/account/sessions").json()["items"]] == [True]


def test_nobody_ends_someone_elses_session(db: Session, world: World) -> None:
    alice, bob = _person(db, world), _person(db, world, "BETA")
    a, b = _signed_in(alice.email), _signed_in(bob.email)
    bob_session = b.get("/api/v1/account/sessions").json()["items"][0]["id"]
    assert a.delete(f"/api/v1/account/sessions/{bob_session}").status_code == 404
    assert b.get("/api/v1/account/profile").status_code == 200


def test_sign_ins_downloads_and_exports_reach_the_audit_trail_with_their_address(db: Session, world: World) -> None:
    user = _person(db, world)
    bad = TestClient(build_api()).post("/api/auth/login", json={"email": user.email, "password": "wrong-one"})
    assert bad.status_code == 401
    client = _signed_in(user.email)
    assert client.get("/api/v1/shipments/export?format=csv").status_code == 200
    rows = db.exec(select(AuditLog).where(AuditLog.entity_id == str(user.id), AuditLog.entity_type == "user")
                   .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["sign_in_failed", "sign_in"]
    assert all(r.ip_address == "testclient" for r in rows)
    assert rows[1].actor_id == user.id and rows[0].actor_id is None
    export = db.exec(select(AuditLog).where(AuditLog.actor_id == user.id, AuditLog.action == "export")).one()
    assert export.entity_id == "shipments" and export.company_id == user.company_id


def test_customer_admins_read_their_company_access_entries_only(db: Session, world: World) -> None:
    alfa_person, beta_person = _person(db, world), _person(db, world, "BETA")
    _signed_in(alfa_person.email), _signed_in(beta_person.email)
    admin = _signed_in(world.users["ALFA:customer_admin"].email)
    page = admin.get("/api/v1/audit", params={"category": "sign_in", "q": alfa_person.email}).json()
    assert page["total"] >= 1 and all(alfa_person.email in e["actor"] for e in page["items"])
    assert page["items"][0]["action_words"] == "Signed in" and page["items"][0]["category"] == "sign_in"
    other = admin.get("/api/v1/audit", params={"q": beta_person.email}).json()
    assert other["total"] == 0
    # The forwarder's settings and the staff's work on records are not a customer's to read.
    assert admin.get("/api/v1/audit", params={"category": "settings"}).json()["total"] == 0
    assert admin.get("/api/v1/audit", params={"category": "records"}).json()["total"] == 0
    staff_admin = _signed_in(world.users["FWD:admin"].email)
    assert staff_admin.get("/api/v1/audit", params={"q": beta_person.email}).json()["total"] >= 1

    user = _signed_in(alfa_person.email)
    refused = user.get("/api/v1/audit")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
    agent = _signed_in(world.users["FWD:ops_agent"].email)
    assert agent.get("/api/v1/audit").status_code == 403


def test_the_audit_trail_exports_as_csv_filtered(db: Session, world: World) -> None:
    person = _person(db, world)
    _signed_in(person.email)
    admin = _signed_in(world.users["ALFA:customer_admin"].email)
    response = admin.get("/api/v1/audit.csv", params={"q": person.email, "since": clock.today().isoformat()})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith('"Time (UTC)","Category","What happened","Who"')
    assert len(lines) == 2 and "Signed in" in lines[1] and person.email in lines[1]
    assert admin.get("/api/v1/audit", params={"since": "2026-13-01"}).status_code == 422


def test_a_person_downloads_everything_held_about_them(db: Session, world: World) -> None:
    person = _person(db, world)
    db.add(Notification(user_id=person.id, event_kind="eta_changed", title="ETA moved", link="/portal"))
    db.commit()
    client = _signed_in(person.email)
    response = client.get("/api/v1/account/personal-data")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"README.txt", "profile.json", "sessions.json", "notifications.json", "requests.json",
            "audit.json"} <= names
    profile = json.loads(archive.read("profile.json"))
    assert profile["email"] == person.email and "password_hash" not in profile and "mfa_secret" not in profile
    assert json.loads(archive.read("notifications.json"))[0]["title"] == "ETA moved"
    assert any(e["action"] == "sign_in" for e in json.loads(archive.read("audit.json")))
    assert "key_hash" not in archive.read("api_keys.json").decode()


def test_an_admin_erases_a_colleague_and_the_records_stay(db: Session, world: World) -> None:
    person = _person(db, world)
    email = person.email
    thread = Ticket(reference=f"RQ{uuid.uuid4().hex[:8]}", company_id=person.company_id, raised_by_id=person.id,
                    category="general", subject="Where is my box?")
    db.add(thread)
    db.flush()
    db.add(TicketMessage(ticket_id=thread.id, author_id=person.id, body="Please check the container."))
    db.add(ApiKey(name="erp", prefix="pk_erase", key_hash=hash_token(uuid.uuid4().hex), user_id=person.id,
                  company_id=person.company_id))
    db.add(EmailMessage(to_address=email, user_id=person.id, subject="Hello", body_text="Hi"))
    db.commit()
    victim = _signed_in(email)

    admin = _signed_in(world.users["ALFA:customer_admin"].email)
    response = admin.post(f"/api/v1/users/{person.id}/erase")
    assert response.status_code == 200, response.text
    pseudonym = response.json()["pseudonym"]
    assert victim.get("/api/v1/account/profile").status_code == 401

    db.expire_all()
    erased = db.get(User, person.id)
    assert erased.full_name == pseudonym and erased.email.endswith("@erased.invalid")
    assert erased.password_hash is None and not erased.is_active and erased.erased_at is not None
    assert db.exec(select(ApiKey).where(ApiKey.user_id == person.id)).one().revoked_at is not None
    assert db.exec(select(EmailMessage).where(EmailMessage.to_address == email)).all() == []
    assert db.exec(select(LoginAttempt).where(LoginAttempt.email == email)).all() == []
    leftovers = db.exec(select(AuditLog).where(sa.or_(AuditLog.after.contains(email),
                                                      AuditLog.before.contains(email)))).all()
    assert leftovers == []
    # The business record is intact and still readable, signed by the pseudonym.
    assert db.get(Ticket, thread.id).subject == "Where is my box?"
    assert db.exec(select(TicketMessage).where(TicketMessage.ticket_id == thread.id)).one().author_id == person.id
    login = TestClient(build_api()).post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    again = admin.post(f"/api/v1/users/{person.id}/erase")
    assert again.status_code == 422 and again.json()["error"]["code"] == "already_erased"
    listed = next(u for u in admin.get("/api/v1/account/users").json()["items"] if u["id"] == person.id)
    assert listed["erased"] is True and listed["full_name"] == pseudonym  # the list marks them erased
    trail = admin.get("/api/v1/audit", params={"category": "people"}).json()["items"]
    assert any(e["action"] == "user_erased" and e["subject"] == f"User {person.id}" for e in trail)


def test_erasure_stays_within_the_admins_reach(db: Session, world: World) -> None:
    other_company = _person(db, world, "BETA")
    admin = _signed_in(world.users["ALFA:customer_admin"].email)
    assert admin.post(f"/api/v1/users/{other_company.id}/erase").status_code == 404
    assert admin.post(f"/api/v1/users/{world.users['FWD:ops_agent'].id}/erase").status_code == 404
    me = admin.post(f"/api/v1/users/{world.users['ALFA:customer_admin'].id}/erase")
    assert me.status_code == 422 and me.json()["error"]["code"] == "self_change"
    colleague = _person(db, world)
    plain = _signed_in(_person(db, world).email)
    assert plain.post(f"/api/v1/users/{colleague.id}/erase").status_code == 403
    for staff in ("FWD:ops_agent", "FWD:ops_manager"):  # staff who are not administrators erase nobody
        refused = _signed_in(world.users[staff].email).post(f"/api/v1/users/{other_company.id}/erase")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
    staff_admin = _signed_in(world.users["FWD:admin"].email)
    assert staff_admin.post(f"/api/v1/users/{other_company.id}/erase").status_code == 200


def test_retention_removes_only_what_is_past_its_time(db: Session, world: World) -> None:
    person = _person(db, world)
    now = clock.now()
    old, recent = now - timedelta(days=500), now - timedelta(days=10)
    db.add_all([
        AuditLog(actor_id=person.id, action="sign_in", entity_type="user", entity_id=str(person.id), created_at=old),
        AuditLog(actor_id=person.id, action="sign_in", entity_type="user", entity_id=str(person.id),
                 created_at=recent),
        Notification(user_id=person.id, event_kind="eta_changed", title="old", created_at=old),
        Notification(user_id=person.id, event_kind="eta_changed", title="new", created_at=recent),
        LoginAttempt(email=person.email, user_id=person.id, created_at=old),
        UserSession(token_hash=hash_token(uuid.uuid4().hex), user_id=person.id, expires_at=now + timedelta(hours=1)),
    ])
    db.commit()
    result = retention.run(db, settings, now)
    assert result.audit >= 1 and result.notifications >= 1 and result.login_attempts >= 1
    mine = db.exec(select(AuditLog).where(AuditLog.actor_id == person.id)).all()
    assert [r.created_at for r in mine] == [recent]
    assert [n.title for n in db.exec(select(Notification).where(Notification.user_id == person.id)).all()] == ["new"]


def test_the_last_customer_admin_is_not_erased(db: Session, world: World) -> None:
    from models import Company

    company = Company(code=f"L{uuid.uuid4().hex[:6]}", name="Lone Admin Co", kind="customer")
    db.add(company)
    db.flush()
    lone = make_user(db, company.id, Role.CUSTOMER_ADMIN, f"lone-{uuid.uuid4().hex[:8]}@lone.test")
    db.commit()
    staff_admin = _signed_in(world.users["FWD:admin"].email)
    refused = staff_admin.post(f"/api/v1/users/{lone.id}/erase")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "last_admin"
    db.expire_all()
    assert db.get(User, lone.id).erased_at is None
