"""REST v1 and the API contracts: health, OpenAPI, error shape, paging, search, and tenancy (404 for others)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal_app.api.app import build_api
from tests.factories import World, client_for


@pytest.fixture()
def alfa(world: World) -> TestClient:
    return client_for("customer_user@alfa.test")


@pytest.fixture()
def agent(world: World) -> TestClient:
    return client_for("ops_agent@fwd.test")


def test_health_reports_the_database(world):
    resp = TestClient(build_api()).get("/api/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok"}


def test_openapi_describes_the_api(world):
    spec = TestClient(build_api()).get("/api/openapi.json").json()
    assert "/api/v1/shipments" in spec["paths"] and "/api/v1/shipments/{reference}" in spec["paths"]
    assert "/api/auth/login" in spec["paths"]


def test_anonymous_gets_401_in_the_error_shape(world):
    resp = TestClient(build_api()).get("/api/v1/shipments")
    assert resp.status_code == 401
    assert set(resp.json()["error"]) == {"code", "message", "saved"}


def test_customer_lists_only_own_company(alfa, world):
    resp = alfa.get("/api/v1/shipments", params={"page_size": 200})
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == len(world.shipments["ALFA"])
    assert {i["reference"] for i in body["items"]} == set(world.shipments["ALFA"])
    assert {i["company_name"] for i in body["items"]} == {"Alfa Imports"}


def test_forged_company_parameter_is_ignored(alfa, world):
    other = world.companies["BETA"]
    body = alfa.get("/api/v1/shipments", params={"company_id": other, "page_size": 200}).json()
    assert {i["company_name"] for i in body["items"]} == {"Alfa Imports"}


def test_staff_see_every_company(agent, world):
    body = agent.get("/api/v1/shipments", params={"page_size": 200}).json()
    assert body["total"] == len(world.shipments["ALFA"]) + len(world.shipments["BETA"])


def test_paging_and_filters(alfa, world):
    page1 = alfa.get("/api/v1/shipments", params={"page_size": 5, "page": 1, "sort": "reference"}).json()
    page2 = alfa.get("/api/v1/shipments", params={"page_size": 5, "page": 2, "sort": "reference"}).json()
    assert page1["pages"] == -(-len(world.shipments["ALFA"]) // 5)
    assert len(page1["items"]) == 5
    assert not {i["reference"] for i in page1["items"]} & {i["reference"] for i in page2["items"]}
    assert [i["reference"] for i in page1["items"]] == sorted(world.shipments["ALFA"])[:5]
    air = alfa.get("/api/v1/shipments", params={"mode": "air"}).json()
    assert air["total"] > 0 and {i["mode"] for i in air["items"]} == {"air"}
    two = alfa.get("/api/v1/shipments", params=[("status", "booked"), ("status", "delivered")]).json()
    assert two["total"] > 0 and {i["status"] for i in two["items"]} <= {"booked", "delivered"}


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4])  # shipment ref, booking, MBL, customer PO, container
def test_search_by_any_reference(alfa, world, index):
    value = world.references["ALFA"][index]
    typed = value.lower().replace("-", " ")  # however the customer types it
    body = alfa.get("/api/v1/shipments", params={"q": typed}).json()
    assert body["total"] >= 1
    assert world.shipments["ALFA"][0] in {i["reference"] for i in body["items"]}


def test_search_by_prefix(alfa, world):
    body = alfa.get("/api/v1/shipments", params={"q": "PO-ALFA"}).json()
    assert body["total"] == len(world.shipments["ALFA"])


def test_search_never_finds_another_companys_reference(alfa, world):
    for value in world.references["BETA"][:10]:
        assert alfa.get("/api/v1/shipments", params={"q": value}).json()["total"] == 0


def test_detail_and_other_companys_reference_is_404(alfa, world):
    own = alfa.get(f"/api/v1/shipments/{world.shipments['ALFA'][0]}")
    assert own.status_code == 200
    detail = own.json()
    assert detail["reference"] == world.shipments["ALFA"][0]
    assert detail["containers"] and detail["containers"][0]["size_type"] == "45G1"
    assert detail["updated_at"].endswith(("Z", "+00:00")) and detail["eta"].endswith(("Z", "+00:00"))  # UTC, aware
    theirs = alfa.get(f"/api/v1/shipments/{world.shipments['BETA'][0]}")
    missing = alfa.get("/api/v1/shipments/SH9999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_bad_input_is_a_4xx_with_a_message(alfa, world):
    bad_status = alfa.get("/api/v1/shipments", params={"status": "lost_at_sea"})
    assert bad_status.status_code == 422
    assert "lost_at_sea" in bad_status.json()["error"]["message"]
    bad_page = alfa.get("/api/v1/shipments", params={"page": 0})
    assert bad_page.status_code == 422 and bad_page.json()["error"]["saved"] is False
    bad_sort = alfa.get("/api/v1/shipments", params={"sort": "price"})
    assert bad_sort.status_code == 422
    garbage = TestClient(build_api()).post("/api/auth/login", content=b"{not json",
                                           headers={"content-type": "application/json"})
    assert garbage.status_code == 422 and "email" in garbage.json()["error"]["message"]


def test_api_key_acts_as_its_user_within_its_company(world, db):
    import secrets

    from models import ApiKey
    from portal_app.auth.sessions import hash_token

    raw = "pk_" + secrets.token_urlsafe(24)
    user = world.users["BETA:customer_admin"]
    db.add(ApiKey(name="ERP", prefix=raw[:8], key_hash=hash_token(raw), user_id=user.id, company_id=user.company_id))
    db.commit()
    client = TestClient(build_api(), headers={"Authorization": f"Bearer {raw}"})
    body = client.get("/api/v1/shipments", params={"page_size": 200}).json()
    assert {i["company_name"] for i in body["items"]} == {"Beta Trading"}
    assert client.get(f"/api/v1/shipments/{world.shipments['ALFA'][0]}").status_code == 404
    wrong = TestClient(build_api(), headers={"Authorization": "Bearer pk_not-a-key"})
    assert wrong.get("/api/v1/shipments").status_code == 401
