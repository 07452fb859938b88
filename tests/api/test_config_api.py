"""`/api/v1/config/...`: an administrator's session works; ops managers, ops agents, customers and API keys
(an administrator's too) get 403 on every route; bad input is a 4xx in the error shape with nothing written."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import select

from models import AuditLog, Company
from portal_app.api.app import build_api
from tests.api.test_ops_api import _key_client
from tests.config_world import ConfigWorld
from tests.quote_world import principal_for

ADMIN = "admin@harborsky.example"


def _config_routes() -> list[tuple[str, str]]:
    spec = build_api().openapi()
    return [(method.upper(), path.replace("{", "").replace("}", "").replace("mode", "air")
             .replace("kind", "eta_slip").replace("_id", "1"))
            for path, ops in spec["paths"].items() if path.startswith("/api/v1/config") for method in ops]


def test_every_config_route_refuses_everyone_but_an_admin(cworld: ConfigWorld):
    routes = _config_routes()
    assert len(routes) >= 20
    with cworld.session() as db:
        audited = len(db.exec(select(AuditLog).where(AuditLog.action.like("config_%"))).all())
    admin_key = _key_client(cworld.world, principal_for(cworld.world.engine, ADMIN))
    clients = {email: cworld.world.client(email) for email in
               ("manager@harborsky.example", "agent@harborsky.example", "alice@acme.example")}
    clients["admin API key"] = admin_key
    for who, client in clients.items():
        for method, path in routes:
            resp = client.request(method, path, json={})
            assert resp.status_code == 403, (who, method, path, resp.text)
            assert resp.json()["error"]["saved"] is False
    anonymous = cworld.world.client(ADMIN)
    anonymous.cookies.clear()
    assert anonymous.get("/api/v1/config/rules").status_code == 401
    with cworld.session() as db:
        assert len(db.exec(select(AuditLog).where(AuditLog.action.like("config_%"))).all()) == audited


def test_admin_reads_and_changes_configuration(cworld: ConfigWorld):
    c = cworld.world.client(ADMIN)
    for path in ("templates", "documents", "rules", "sla", "branches", "teams", "companies", "staff", "branding"):
        resp = c.get(f"/api/v1/config/{path}")
        assert resp.status_code == 200 and resp.json(), path
    rule = next(r for r in c.get("/api/v1/config/rules").json() if r["kind"] == "invoice_overdue")
    assert rule["unit"] == "days"
    resp = c.put("/api/v1/config/rules/invoice_overdue",
                 json={"is_active": True, "severity": "high", "threshold": 30, "expected_version": rule["version"]})
    assert resp.status_code == 200 and resp.json()["threshold_days"] == 30
    stale = c.put("/api/v1/config/rules/invoice_overdue",
                  json={"is_active": True, "severity": "high", "threshold": 9, "expected_version": rule["version"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    made = c.post("/api/v1/config/companies", json={"code": "KILO", "name": "Kilo Traders", "country": "DE",
                                                    "billing_currency": "EUR", "payment_terms_days": 30})
    assert made.status_code == 201
    staff = c.post("/api/v1/config/staff", json={"email": "ops.new@harborsky.example", "full_name": "Otto New",
                                                 "role": "ops_agent"})
    assert staff.status_code == 201 and staff.json()["temporary_password"]
    with cworld.session() as db:
        actions = [a.action for a in db.exec(select(AuditLog).where(AuditLog.action.like("config_%"))).all()]
    assert {"config_rule_updated", "config_company_saved", "config_staff_created"} <= set(actions)


def test_bad_input_is_a_clear_4xx_and_writes_nothing(cworld: ConfigWorld):
    c = cworld.world.client(ADMIN)
    with cworld.session() as db:
        before = len(db.exec(select(AuditLog)).all())
    low = c.put("/api/v1/config/branding", json={"product_name": "Pale Portal", "accent_color": "#ffd700"})
    assert low.status_code == 422
    error = low.json()["error"]
    assert error["code"] == "low_contrast" and error["saved"] is False and ":1" in error["message"]
    bad = c.post("/api/v1/config/companies", json={"code": "a b", "name": "", "billing_currency": "XXX",
                                                   "payment_terms_days": 999})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {
        "code", "name", "billing_currency", "payment_terms_days"}
    elevate = c.post("/api/v1/config/staff", json={"email": "boss@harborsky.example", "full_name": "Big Boss",
                                                   "role": "superadmin"})
    assert elevate.status_code == 422 and "role" in elevate.json()["error"]["fields"]
    svg = c.put("/api/v1/config/branding/logo", content=b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                headers={"content-type": "image/svg+xml"})
    assert svg.status_code == 422 and svg.json()["error"]["code"] == "invalid_logo"
    huge = c.put("/api/v1/config/branding/logo", content=b"\x89PNG" + b"0" * 300_000,
                 headers={"content-type": "image/png"})
    assert huge.status_code == 413
    assert c.put("/api/v1/config/templates/boat", json={"name": "x", "steps": []}).status_code == 404
    with cworld.session() as db:
        assert len(db.exec(select(AuditLog)).all()) == before
        assert db.exec(select(Company).where(Company.name == "")).first() is None


def test_invoice_identity_is_read_and_replaced_with_each_wrong_field_named(cworld: ConfigWorld):
    c = cworld.world.client(ADMIN)
    shown = c.get("/api/v1/config/invoice-identity")
    assert shown.status_code == 200 and shown.json()["legal_name"] == "Harbor & Sky Logistics B.V."
    wrong = {**shown.json(), "iban": "NL03ABNA0123456789", "vat_number": "NL854891742B0"}
    refused = c.put("/api/v1/config/invoice-identity", json=wrong)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_form" and error["saved"] is False
    assert set(error["fields"]) == {"iban", "vat_number"} and "check digits" in error["fields"]["iban"]
    assert c.put("/api/v1/config/invoice-identity", json={**wrong, "iban": 12}).status_code == 422  # strict types
    assert c.get("/api/v1/config/invoice-identity").json() == shown.json()
    good = {**shown.json(), "iban": "gb82 west 1234 5698 7654 32", "bic": "NWBKGB2L", "bank_name": "NatWest"}
    saved = c.put("/api/v1/config/invoice-identity", json=good)
    assert saved.status_code == 200 and saved.json()["iban"] == "GB82WEST12345698765432"
    assert c.get("/api/v1/config/invoice-identity").json()["bank_name"] == "NatWest"
    with cworld.session() as db:
        rows = db.exec(select(AuditLog).where(AuditLog.action == "config_invoice_identity_saved")).all()
    assert len(rows) == 1


def test_logo_upload_and_public_logo_route(cworld: ConfigWorld):
    c = cworld.world.client(ADMIN)
    out = io.BytesIO()
    Image.new("RGB", (60, 20), (20, 60, 120)).save(out, "JPEG")
    resp = c.put("/api/v1/config/branding/logo", content=out.getvalue(), headers={"content-type": "image/jpeg"})
    assert resp.status_code == 200 and resp.json()["logo_url"].startswith("/api/branding/logo")
    c.cookies.clear()
    served = c.get("/api/branding/logo")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.content == out.getvalue()


@pytest.fixture(autouse=True)
def _fresh_branding_cache():
    from portal_app.services.config import branding

    branding.forget_cache()
    yield
