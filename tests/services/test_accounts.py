"""The customer's account: profile, notification preferences, and a customer admin's colleagues.

Each test makes its own company and users (unique emails), so the shared world's users keep their roles.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import AuditLog, Company, NotificationPreference, User, UserSession
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.services import notification_prefs as prefs
from tests.factories import PASSWORD, World, make_user
from tests.page_states import revealed

_n = itertools.count(1)


@dataclass
class Tenant:
    company_id: int
    admin: User
    user: User


def _tenant(db: Session) -> Tenant:
    tag = f"{next(_n)}{uuid.uuid4().hex[:6]}"
    company = Company(code=f"T{tag}"[:20], name=f"Tenant {tag}", kind="customer")
    db.add(company)
    db.flush()
    admin = make_user(db, company.id, Role.CUSTOMER_ADMIN, f"admin-{tag}@tenant.test")
    user = make_user(db, company.id, Role.CUSTOMER_USER, f"user-{tag}@tenant.test")
    db.commit()
    return Tenant(company.id, admin, user)


def _client(email: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(build_api())
    resp = client.post("/api/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return client


def _fresh(db: Session, user_id: int) -> User:
    db.expire_all()
    return db.get(User, user_id)


def _audit(db: Session, action: str, user_id: int) -> list[AuditLog]:
    return db.exec(select(AuditLog).where(AuditLog.action == action, AuditLog.entity_id == str(user_id))).all()


# --- profile -----------------------------------------------------------------------------------------------------


def test_profile_update_is_validated_versioned_and_audited(db):
    t = _tenant(db)
    me = _client(t.user.email)
    start = me.get("/api/v1/account/profile").json()
    assert start["email"] == t.user.email and start["timezone"] == "UTC" and start["role"] == "customer_user"

    for body, code in (
        ({"full_name": "A"}, "invalid_name"),
        ({"full_name": "x" * 201}, "invalid_name"),
        ({"phone": "call me maybe"}, "invalid_phone"),
        ({"timezone": "Mars/Olympus_Mons"}, "invalid_timezone"),
        ({"locale": "tlh"}, "invalid_locale"),
    ):
        resp = me.patch("/api/v1/account/profile", json=body)
        assert resp.status_code == 422, body
        err = resp.json()["error"]
        assert err["code"] == code and err["saved"] is False and "Nothing was saved" in err["message"]
    assert _fresh(db, t.user.id).version == start["version"]

    resp = me.patch("/api/v1/account/profile", json={
        "full_name": "  Grace   Hopper ", "phone": "+31 10 123 4567", "timezone": "Europe/Amsterdam", "locale": "nl",
        "version": start["version"],
    })
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["full_name"], body["phone"], body["timezone"], body["locale"]) == (
        "Grace Hopper", "+31 10 123 4567", "Europe/Amsterdam", "nl")
    assert body["version"] == start["version"] + 1
    stored = _fresh(db, t.user.id)
    assert stored.full_name == "Grace Hopper" and stored.timezone == "Europe/Amsterdam"

    [row] = _audit(db, "profile_updated", t.user.id)
    assert row.actor_id == t.user.id and row.company_id == t.company_id
    assert json.loads(row.before)["timezone"] == "UTC" and json.loads(row.after)["timezone"] == "Europe/Amsterdam"

    stale = me.patch("/api/v1/account/profile", json={"locale": "de", "version": start["version"]})
    assert stale.status_code == 409 and _fresh(db, t.user.id).locale == "nl"
    # Only the acting user's profile changes: the admin of the same company is untouched.
    assert _fresh(db, t.admin.id).full_name == t.admin.full_name


# --- notification preferences ------------------------------------------------------------------------------------


def _matrix(client: TestClient) -> dict[tuple[str, str], dict]:
    items = client.get("/api/v1/account/notification-preferences").json()["items"]
    return {(i["event_kind"], i["channel"]): i for i in items}


def test_preferences_have_defaults_and_round_trip(db):
    t = _tenant(db)
    me = _client(t.user.email)
    matrix = _matrix(me)
    assert set(matrix) == {(k, c) for k in prefs.CUSTOMER_KINDS for c in prefs.CHANNELS}
    assert all(matrix[(k, "in_app")]["enabled"] for k in prefs.CUSTOMER_KINDS)
    assert matrix[("milestone_reached", "email")]["enabled"] is False
    assert matrix[("invoice_overdue", "email")]["enabled"] is True
    assert matrix[("eta_changed", "email")]["threshold_hours"] == 24
    assert matrix[("document_added", "email")]["threshold_hours"] is None
    assert matrix[("eta_changed", "in_app")]["label"] == "ETA changed"

    resp = me.put("/api/v1/account/notification-preferences", json={"items": [
        {"event_kind": "eta_changed", "channel": "email", "enabled": True, "threshold_hours": 48},
        {"event_kind": "milestone_reached", "channel": "email", "enabled": True},
        {"event_kind": "invoice_issued", "channel": "in_app", "enabled": False},
    ]})
    assert resp.status_code == 200, resp.text
    after = _matrix(me)
    assert after[("eta_changed", "email")]["threshold_hours"] == 48
    assert after[("eta_changed", "in_app")]["threshold_hours"] == 24  # left out: unchanged
    assert after[("milestone_reached", "email")]["enabled"] is True
    assert after[("invoice_issued", "in_app")]["enabled"] is False
    stored = db.exec(select(NotificationPreference).where(NotificationPreference.user_id == t.user.id)).all()
    assert len(stored) == 3
    assert _audit(db, "notification_preferences_updated", t.user.id)

    # The sender reads the same decisions.
    mine = prefs.preferences_for_user(db, t.user.id)
    assert prefs.wants(mine[("eta_changed", "email")], eta_shift_hours=49)
    assert not prefs.wants(mine[("eta_changed", "email")], eta_shift_hours=30)
    assert not prefs.wants(mine[("invoice_issued", "in_app")])
    # A colleague keeps the defaults.
    assert _matrix(_client(t.admin.email))[("milestone_reached", "email")]["enabled"] is False


@pytest.mark.parametrize("item", [
    {"event_kind": "shipment_exploded", "channel": "email", "enabled": True},
    {"event_kind": "eta_changed", "channel": "pigeon", "enabled": True},
    {"event_kind": "eta_changed", "channel": "email", "enabled": True, "threshold_hours": 0},
    {"event_kind": "eta_changed", "channel": "email", "enabled": True, "threshold_hours": 721},
    {"event_kind": "invoice_issued", "channel": "email", "enabled": True, "threshold_hours": 5},
])
def test_invalid_preferences_are_refused_and_nothing_is_saved(db, item):
    t = _tenant(db)
    me = _client(t.user.email)
    before = _matrix(me)
    good = {"event_kind": "document_added", "channel": "email", "enabled": True}
    resp = me.put("/api/v1/account/notification-preferences", json={"items": [good, item]})
    assert resp.status_code == 422
    assert resp.json()["error"]["saved"] is False and "Nothing was saved" in resp.json()["error"]["message"]
    assert _matrix(me) == before


# --- colleagues ----------------------------------------------------------------------------------------------------


def _staff_member(db: Session, world: World) -> User:
    user = make_user(db, world.companies["FWD"], Role.OPS_AGENT, f"agent-{uuid.uuid4().hex[:8]}@fwd.test")
    db.commit()
    return user


def test_staff_set_their_own_kinds_and_the_sender_follows_them(db, world: World):
    """Staff see the kinds of their work (in-app on, email off until they ask), cannot set customer kinds, and a
    customer cannot set staff kinds; what they save is what the notification sender does."""
    from models import EmailMessage, Notification
    from portal_app.services import notifications

    agent = _staff_member(db, world)
    me = _client(agent.email)
    matrix = _matrix(me)
    assert set(matrix) == {(k, c) for k in prefs.STAFF_KINDS for c in prefs.CHANNELS}
    assert {k for k, _ in matrix} >= {"task_assigned", "exception_assigned", "request_customer_reply"}
    assert all(matrix[(k, "in_app")]["enabled"] for k in prefs.STAFF_KINDS)
    assert not any(matrix[(k, "email")]["enabled"] for k in ("task_assigned", "exception_assigned", "work_assigned"))
    assert matrix[("task_assigned", "in_app")]["label"] == "Task given to me"

    refused = me.put("/api/v1/account/notification-preferences", json={"items": [
        {"event_kind": "task_assigned", "channel": "email", "enabled": True},
        {"event_kind": "invoice_issued", "channel": "email", "enabled": True},
    ]})
    assert refused.status_code == 422 and "invoice_issued" in refused.json()["error"]["message"]
    assert db.exec(select(NotificationPreference).where(NotificationPreference.user_id == agent.id)).all() == []
    customer = _client(_tenant(db).user.email)
    assert customer.put("/api/v1/account/notification-preferences", json={"items": [
        {"event_kind": "task_assigned", "channel": "email", "enabled": True}]}).status_code == 422

    saved = me.put("/api/v1/account/notification-preferences", json={"items": [
        {"event_kind": "task_assigned", "channel": "email", "enabled": True},
        {"event_kind": "exception_assigned", "channel": "in_app", "enabled": False},
    ]})
    assert saved.status_code == 200, saved.text
    key = f"pref-test:{uuid.uuid4().hex[:8]}"
    notifications.notify(db, "task_assigned", [agent.id], "Call the carrier", None, "/tower/tasks", key + ":t")
    notifications.notify(db, "exception_assigned", [agent.id], "Customs hold", None, "/tower/exceptions",
                         key + ":e")
    db.commit()
    mail = db.exec(select(EmailMessage).where(EmailMessage.user_id == agent.id)).all()
    assert [m.subject for m in mail] == ["Call the carrier"]
    in_app = db.exec(select(Notification).where(Notification.user_id == agent.id)).all()
    assert [n.title for n in in_app] == ["Call the carrier"]


def test_the_tower_account_page_saves_a_staff_members_preferences(db, monkeypatch, world: World):
    from portal_app.tower.account import TowerAccountState as S

    agent = _staff_member(db, world)
    principal = _principal(db, agent)

    async def authorize(self, area):
        assert area == "tower"
        return principal

    monkeypatch.setattr(S, "_authorize", authorize)
    st = S(_reflex_internal_init=True)
    _run(S.load, st)
    assert st.channels_on["request_customer_reply:in_app"] is True
    assert st.channels_on["request_customer_reply:email"] is False
    assert "invoice_issued:email" not in st.channels_on

    form = {f"pref_{k}_{c}": c == "in_app" for k in prefs.STAFF_KINDS for c in prefs.CHANNELS}
    form["pref_request_customer_reply_email"] = "on"  # no ETA threshold field on the staff form
    _run(S.save_preferences, st, form)
    assert st.prefs_error == "" and "saved" in st.prefs_done
    mine = prefs.preferences_for_user(db, agent.id)
    assert mine[("request_customer_reply", "email")].enabled and not mine[("task_assigned", "email")].enabled
    assert st.channels_on["request_customer_reply:email"] is True


def test_customer_admin_adds_a_colleague_who_can_sign_in(db, world: World):
    t = _tenant(db)
    admin = _client(t.admin.email)
    email = f"new-{uuid.uuid4().hex[:8]}@tenant.test"
    resp = admin.post("/api/v1/account/users", json={"email": email.upper(), "full_name": "New Person",
                                                      "role": "customer_user"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    temporary = body["temporary_password"]
    assert len(temporary) >= 10 and body["user"]["email"] == email and body["user"]["role"] == "customer_user"

    stored = db.exec(select(User).where(User.email == email)).one()
    assert stored.company_id == t.company_id and stored.password_hash.startswith("$argon2")
    assert temporary not in stored.password_hash
    [row] = _audit(db, "company_user_created", stored.id)
    assert row.actor_id == t.admin.id and temporary not in (row.after or "")

    colleague = _client(email, temporary)
    me = colleague.get("/api/auth/me").json()
    assert me["email"] == email and me["company_id"] == t.company_id
    listed = admin.get("/api/v1/account/users").json()["items"]
    assert {u["email"] for u in listed} == {t.admin.email, t.user.email, email}
    assert "temporary_password" not in json.dumps(listed)

    # An address used anywhere in the installation is refused without saying where.
    taken = world.users[f"BETA:{Role.CUSTOMER_USER}"].email
    dup = admin.post("/api/v1/account/users", json={"email": taken, "full_name": "Someone", "role": "customer_user"})
    assert dup.status_code == 409
    assert "already in use" in dup.json()["error"]["message"] and "Beta" not in dup.json()["error"]["message"]

    bad_role = admin.post("/api/v1/account/users", json={"email": f"x{email}", "full_name": "Xavier", "role": "admin"})
    assert bad_role.status_code == 422
    assert db.exec(select(User).where(User.email == f"x{email}")).first() is None


@pytest.mark.parametrize("role", ["admin", "ops_agent", "ops_manager", "superuser"])
def test_role_change_is_limited_to_customer_roles(db, role):
    t = _tenant(db)
    admin = _client(t.admin.email)
    resp = admin.patch(f"/api/v1/account/users/{t.user.id}", json={"role": role})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_role"
    user = _fresh(db, t.user.id)
    assert user.role == "customer_user" and user.version == 1
    assert not _audit(db, "company_user_role_changed", t.user.id)

    ok = admin.patch(f"/api/v1/account/users/{t.user.id}", json={"role": "customer_admin"})
    assert ok.status_code == 200 and ok.json()["role"] == "customer_admin"
    [row] = _audit(db, "company_user_role_changed", t.user.id)
    assert json.loads(row.before) == {"role": "customer_user"} and json.loads(row.after) == {"role": "customer_admin"}


def test_other_companies_and_staff_users_are_not_found(db, world: World):
    t = _tenant(db)
    admin = _client(t.admin.email)
    others = [
        world.users[f"BETA:{Role.CUSTOMER_USER}"].id,
        world.users[f"BETA:{Role.CUSTOMER_ADMIN}"].id,
        world.users[f"FWD:{Role.OPS_AGENT}"].id,
        999_999,
    ]
    for user_id in others:
        before = _fresh(db, user_id)
        snapshot = (before.role, before.is_active, before.version) if before else None
        for body in ({"role": "customer_admin"}, {"role": "customer_user"}, {"active": False}):
            resp = admin.patch(f"/api/v1/account/users/{user_id}", json=body)
            assert resp.status_code == 404, (user_id, body)
            assert resp.json()["error"]["saved"] is False
        after = _fresh(db, user_id)
        assert (after.role, after.is_active, after.version) == snapshot if after else snapshot is None
    listed = {u["id"] for u in admin.get("/api/v1/account/users").json()["items"]}
    assert listed == {t.admin.id, t.user.id}


def test_customer_user_and_staff_cannot_manage_colleagues(db, world: World):
    t = _tenant(db)
    for email in (t.user.email, world.users[f"FWD:{Role.OPS_AGENT}"].email):
        client = _client(email)
        assert client.get("/api/v1/account/users").status_code == 403
        made = client.post("/api/v1/account/users",
                           json={"email": f"sneaky-{uuid.uuid4().hex[:6]}@tenant.test", "full_name": "Sneaky"})
        assert made.status_code == 403
        assert client.patch(f"/api/v1/account/users/{t.admin.id}", json={"active": False}).status_code == 403
    admin = _fresh(db, t.admin.id)
    assert admin.is_active and admin.role == "customer_admin"
    assert len(db.exec(select(User).where(User.company_id == t.company_id)).all()) == 2


def test_the_company_always_keeps_an_active_admin(db):
    t = _tenant(db)
    admin = _client(t.admin.email)
    for body in ({"role": "customer_user"}, {"active": False}):
        resp = admin.patch(f"/api/v1/account/users/{t.admin.id}", json=body)
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "last_admin"
    assert _fresh(db, t.admin.id).role == "customer_admin" and _fresh(db, t.admin.id).is_active

    assert admin.patch(f"/api/v1/account/users/{t.user.id}", json={"role": "customer_admin"}).status_code == 200
    # Two admins now, but nobody demotes or deactivates themself.
    for body in ({"role": "customer_user"}, {"active": False}):
        resp = admin.patch(f"/api/v1/account/users/{t.admin.id}", json=body)
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "self_change"
    # The other admin may be demoted: the acting admin remains.
    assert admin.patch(f"/api/v1/account/users/{t.user.id}", json={"role": "customer_user"}).status_code == 200
    assert _fresh(db, t.admin.id).role == "customer_admin"


def test_deactivation_ends_the_colleagues_sessions(db):
    t = _tenant(db)
    admin = _client(t.admin.email)
    colleague = _client(t.user.email)
    assert colleague.get("/api/auth/me").status_code == 200

    resp = admin.patch(f"/api/v1/account/users/{t.user.id}", json={"active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert colleague.get("/api/auth/me").status_code == 401
    sessions = db.exec(select(UserSession).where(UserSession.user_id == t.user.id)).all()
    assert sessions and all(s.revoked_reason == "deactivated" for s in sessions)
    assert _audit(db, "company_user_deactivated", t.user.id)
    refused = TestClient(build_api()).post("/api/auth/login", json={"email": t.user.email, "password": PASSWORD})
    assert refused.status_code == 401

    assert admin.patch(f"/api/v1/account/users/{t.user.id}", json={"active": True}).status_code == 200
    assert _client(t.user.email).get("/api/auth/me").status_code == 200
    assert admin.get("/api/auth/me").status_code == 200  # the admin's own session is untouched


# --- page handlers (the state classes, with the session check stubbed to a known principal) ---------------------------


def _principal(db: Session, user: User):
    from portal_app.auth.principal import Principal

    company = db.get(Company, user.company_id)
    return Principal(user_id=user.id, company_id=user.company_id, role=Role(user.role), email=user.email,
                     full_name=user.full_name, company_name=company.name)


def _state_as(monkeypatch, state_cls, principal):
    async def authorize(self, area):
        assert area == "portal"
        return principal

    monkeypatch.setattr(state_cls, "_authorize", authorize)
    return state_cls(_reflex_internal_init=True)


def _run(handler, state, *args):
    return asyncio.run(handler.fn(state, *args))


def test_account_page_saves_profile_and_preferences(db, monkeypatch):
    from portal_app.portal.account import PortalAccountState as S

    t = _tenant(db)
    st = _state_as(monkeypatch, S, _principal(db, t.user))
    _run(S.load, st)
    assert st.profile.full_name == t.user.full_name and st.profile.timezone == "UTC"
    assert st.channels_on["milestone_reached:email"] is False and st.eta_threshold == "24"
    assert st.can_manage_colleagues is False

    # Checkboxes arrive as booleans (their refs) or "on" (a native post); unchecked ones as False or absent.
    form = {f"pref_{k}_{c}": True for k in prefs.CUSTOMER_KINDS for c in prefs.CHANNELS}
    form.update({"pref_invoice_issued_in_app": False, "pref_document_added_email": "on", "eta_threshold_hours": "12"})
    del form["pref_milestone_reached_in_app"]
    _run(S.save_preferences, st, form)
    assert st.prefs_error == "" and "saved" in st.prefs_done
    mine = prefs.preferences_for_user(db, t.user.id)
    assert mine[("milestone_reached", "email")].enabled and mine[("document_added", "email")].enabled
    assert not mine[("invoice_issued", "in_app")].enabled and not mine[("milestone_reached", "in_app")].enabled
    assert mine[("eta_changed", "email")].threshold_hours == 12 == mine[("eta_changed", "in_app")].threshold_hours
    assert st.eta_threshold == "12"

    _run(S.save_preferences, st, {**form, "eta_threshold_hours": "9999"})
    assert "720" in st.prefs_error and "Nothing was saved" in st.prefs_error
    _run(S.save_preferences, st, {**form, "eta_threshold_hours": "soon"})
    assert "whole number" in st.prefs_error

    profile = {"full_name": "Ada Lovelace", "phone": "", "timezone": "Asia/Shanghai", "locale": "en"}
    _run(S.save_profile, st, profile)
    assert st.profile_error == "" and st.profile.timezone == "Asia/Shanghai" and st.user_name == "Ada Lovelace"
    _run(S.save_profile, st, {**profile, "timezone": "Nowhere/Special"})
    assert "Time zone" in st.profile_error and _fresh(db, t.user.id).timezone == "Asia/Shanghai"


def test_colleagues_page_adds_changes_and_stays_in_the_company(db, monkeypatch, world: World):
    from portal_app.portal.account import PortalColleaguesState as S

    t = _tenant(db)
    st = _state_as(monkeypatch, S, _principal(db, t.admin))
    _run(S.load, st)
    assert st.allowed and {r.email for r in st.colleagues} == {t.admin.email, t.user.email}
    assert [r.is_you for r in st.colleagues if r.email == t.admin.email] == [True]

    email = f"page-{uuid.uuid4().hex[:8]}@tenant.test"
    answer = _run(S.add_colleague, st, {"new_full_name": "Page Person", "new_email": email,
                                        "new_role": "customer_admin"})
    password = revealed(answer)
    assert st.error == "" and len(password) >= 10 and st.password_shown
    assert password not in repr(st.dict()) and password not in repr(vars(st))  # shown, never kept in the state
    assert [r.role for r in st.colleagues if r.email == email] == ["customer_admin"]
    _client(email, password)  # the shown password signs in

    other = world.users[f"BETA:{Role.CUSTOMER_USER}"]
    _run(S.set_colleague_level, st, str(other.id), "customer_admin")
    assert "no such colleague" in st.error and not st.password_shown
    assert _fresh(db, other.id).role == "customer_user"
    _run(S.set_colleague_level, st, str(t.user.id), "admin")
    assert "cannot be given" in st.error and _fresh(db, t.user.id).role == "customer_user"
    _run(S.set_colleague_active, st, "not-a-number", False)
    assert "not in the list" in st.error
    _run(S.set_colleague_active, st, str(t.user.id), False)
    assert st.error == "" and not _fresh(db, t.user.id).is_active
    assert [r.status for r in st.colleagues if r.email == t.user.email] == ["Deactivated"]

    plain = _state_as(monkeypatch, S, _principal(db, _fresh(db, world.users[f"ALFA:{Role.CUSTOMER_USER}"].id)))
    _run(S.load, plain)
    assert plain.allowed is False and plain.colleagues == [] and "Only a customer admin" in plain.error
