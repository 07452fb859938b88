"""``GET /api/v1/admin/system``: the System page's facts for staff administrators; anyone else is refused (401
signed out, 403 ``admin_only`` for customers and for staff who are not administrators) in the error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal_app.api.app import build_api
from tests.factories import client_for

PATH = "/api/v1/admin/system"


def test_signed_out_is_401():
    resp = TestClient(build_api()).get(PATH)
    assert resp.status_code == 401 and set(resp.json()["error"]) == {"code", "message", "saved"}


@pytest.mark.parametrize("email", ["customer_user@alfa.test", "customer_admin@alfa.test", "ops_agent@fwd.test",
                                   "ops_manager@fwd.test"])
def test_customers_and_staff_who_are_not_administrators_are_refused(world, email):
    resp = client_for(email).get(PATH)
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["code"] == "admin_only" and error["saved"] is False and "administrators" in error["message"]


def test_an_administrator_reads_the_state(world):
    resp = client_for("admin@fwd.test").get(PATH)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"version", "checked_at", "database", "redis", "queues", "rule_pass", "backup", "audit",
                         "errors"}
    assert body["database"]["kind"] == "SQLite" and body["database"]["reachable"] is True
    assert body["redis"] == "not_used"
    assert {q["queue"] for q in body["queues"]} == {"email", "webhook"}
    assert isinstance(body["errors"], list)
