"""A deactivated user or company is refused at sign-in and for API keys with its own code, not bounced in silence.

Only someone who typed the right password (or holds the key) learns why; a wrong password gets the same answer as
for an unknown email. The sign-in page shows the message: tests/browser/test_browser_sign_in.py.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from models import ApiKey, Company
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.auth.sessions import hash_token
from portal_app.services import clock
from tests.factories import PASSWORD, World, make_user


def _company(db: Session, *, active: bool) -> int:
    code = uuid.uuid4().hex[:8].upper()
    company = Company(code=code, name=f"Company {code}", kind="customer", is_active=active)
    db.add(company)
    db.flush()
    return company.id


def _user(db: Session, *, company_active: bool = True, user_active: bool = True) -> str:
    email = f"u{uuid.uuid4().hex[:10]}@deactivated.test"
    make_user(db, _company(db, active=company_active), Role.CUSTOMER_ADMIN, email, active=user_active)
    db.commit()
    return email


def _login(email: str, password: str = PASSWORD):
    return TestClient(build_api()).post("/api/auth/login", json={"email": email, "password": password})


def test_a_user_of_a_deactivated_company_is_refused_at_sign_in_and_told_why(world: World, db):
    email = _user(db, company_active=False)
    resp = _login(email)
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["code"] == "company_inactive" and error["saved"] is False
    assert "switched off" in error["message"] and "forwarder" in error["message"]
    assert "set-cookie" not in resp.headers  # no session opened

    # The sign-in form goes back to the page with the code, which the page turns into the message.
    form = TestClient(build_api()).post("/api/auth/login", data={"email": email, "password": PASSWORD},
                                        follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith("/login?error=company_inactive")


def test_a_deactivated_user_is_told_so_with_the_right_password(world: World, db):
    email = _user(db, user_active=False)
    resp = _login(email)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "account_inactive"
    assert "deactivated" in resp.json()["error"]["message"]


def test_without_the_right_password_a_deactivated_account_looks_like_any_other(world: World, db):
    unknown = _login("nobody-at-all@deactivated.test", "wrong-Pass-9")
    for email in (_user(db, company_active=False), _user(db, user_active=False)):
        wrong = _login(email, "wrong-Pass-9")
        assert wrong.status_code == 401 and wrong.json() == unknown.json()
        assert wrong.json()["error"]["code"] == "invalid_credentials"


def _key(db: Session, email: str, **fields: object) -> str:
    from sqlmodel import select

    from models import User

    user = db.exec(select(User).where(User.email == email)).one()
    raw = secrets.token_urlsafe(24)
    db.add(ApiKey(name="ERP", prefix=raw[:8], key_hash=hash_token(raw), user_id=user.id, company_id=user.company_id,
                  **fields))
    db.commit()
    return raw


def _me(raw_key: str):
    return TestClient(build_api()).get("/api/auth/me", headers={"Authorization": f"Bearer {raw_key}"})


def test_api_keys_that_stopped_working_say_why(world: World, db):
    working = _key(db, _user(db))
    assert _me(working).status_code == 200

    cases = {
        "company_inactive": _key(db, _user(db, company_active=False)),
        "account_inactive": _key(db, _user(db, user_active=False)),
        "api_key_revoked": _key(db, _user(db), revoked_at=clock.now()),
        "api_key_expired": _key(db, _user(db), expires_at=clock.now() - timedelta(days=1)),
    }
    for expected, raw in cases.items():
        resp = _me(raw)
        assert resp.status_code == 401, expected
        error = resp.json()["error"]
        assert error["code"] == expected and error["message"] and error["saved"] is False
        # Every route, not only /me.
        listing = TestClient(build_api()).get("/api/v1/shipments", headers={"Authorization": f"Bearer {raw}"})
        assert listing.status_code == 401 and listing.json()["error"]["code"] == expected

    unknown = _me("not-a-key-" + secrets.token_urlsafe(8))
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "not_authenticated"


def test_deactivating_a_company_stops_its_keys_at_once(world: World, db):
    email = _user(db)
    raw = _key(db, email)
    assert _me(raw).status_code == 200
    company = db.get(Company, _me(raw).json()["company_id"])
    company.is_active = False
    db.add(company)
    db.commit()
    assert _me(raw).json()["error"]["code"] == "company_inactive"
