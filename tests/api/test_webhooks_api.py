"""Webhooks over HTTP: ``/api/v1/account/webhooks`` (create with the secret shown once, list, delete, test, the
delivery log); bad input is a 422 in the error shape with its code and nothing saved; another company's
subscription is 404."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlmodel import Session, select

from models import WebhookDelivery, WebhookSubscription
from portal_app.api.app import build_api
from portal_app.api.deps import get_db
from portal_app.services import webhook_outbox, webhooks
from tests.factories import PASSWORD, client_for

HOOKS = "/api/v1/account/webhooks"
ALFA_ADMIN, BETA_ADMIN, ALFA_USER, STAFF_ADMIN = ("customer_admin@alfa.test", "customer_admin@beta.test",
                                                   "customer_user@alfa.test", "admin@fwd.test")


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[tuple[dict, bytes]]]]:
    got: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/in", got
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _setup(engine: sa.Engine, world, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(webhooks, "settings", replace(webhooks.settings, webhook_allow_private=True))
    with engine.begin() as conn:
        conn.execute(sa.delete(WebhookDelivery))
        conn.execute(sa.delete(WebhookSubscription))
    yield


def _count(engine: sa.Engine) -> int:
    with Session(engine) as db:
        return len(db.exec(select(WebhookSubscription)).all())


def test_create_list_test_log_and_delete(engine, receiver):
    url, got = receiver
    client = client_for(ALFA_ADMIN)
    made = client.post(HOOKS, json={"url": url, "events": ["eta_changed", "document_added"]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert set(body) >= {"id", "url", "events", "secret"} and body["secret"].startswith("whsec_")
    assert body["events"] == ["eta_changed", "document_added"]
    listed = client.get(HOOKS).json()
    assert [r["id"] for r in listed["items"]] == [body["id"]]
    assert body["secret"] not in json.dumps(listed) and "secret" not in listed["items"][0]

    queued = client.post(f"{HOOKS}/{body['id']}/test")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    with Session(engine, expire_on_commit=False) as db:
        webhook_outbox.run_round(db, webhook_outbox.WebhookConfig(allow_private=True),
                                 datetime.now(UTC) + timedelta(seconds=1))
    headers, sent = got[0]
    assert json.loads(sent)["kind"] == "webhook_test"
    assert headers["x-portal-signature"] == webhook_outbox.sign(body["secret"], headers["x-portal-timestamp"], sent)
    log = client.get(f"{HOOKS}/{body['id']}/deliveries").json()
    assert log["total"] == 1 and log["items"][0]["status"] == "sent" and log["items"][0]["response_code"] == 204

    # Another company's admin: the subscription does not exist for them.
    other = client_for(BETA_ADMIN)
    for method, path in (("get", f"{HOOKS}/{body['id']}/deliveries"), ("post", f"{HOOKS}/{body['id']}/test"),
                         ("delete", f"{HOOKS}/{body['id']}")):
        answer = getattr(other, method)(path)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert other.get(HOOKS).json()["items"] == []
    # Staff administrators see every subscription.
    assert body["id"] in [r["id"] for r in client_for(STAFF_ADMIN).get(HOOKS).json()["items"]]

    assert client.delete(f"{HOOKS}/{body['id']}").status_code == 204
    assert client.get(HOOKS).json()["items"] == []
    assert client.delete(f"{HOOKS}/{body['id']}").status_code == 404


@pytest.mark.parametrize(("payload", "code"), [
    ({"url": "not a url", "events": ["*"]}, "invalid_url"),
    ({"url": "ftp://example.com/x", "events": ["*"]}, "invalid_url"),
    ({"url": "", "events": ["*"]}, "invalid_url"),
    ({"url": "http://169.254.169.254/latest/meta-data/", "events": ["*"]}, "invalid_url"),
    ({"url": "http://user:pw@127.0.0.1:9/x", "events": ["*"]}, "invalid_url"),
    ({"url": "http://127.0.0.1:9/x", "events": ["shipment_lost"]}, "unknown_event_kind"),
    ({"url": "http://127.0.0.1:9/x", "events": []}, "unknown_event_kind"),
    ({"url": "http://127.0.0.1:9/x", "events": "*"}, None),
    ({"url": "http://127.0.0.1:9/x", "events": [1]}, None),
    ({"url": 5, "events": ["*"]}, None),
    ({"url": "http://127.0.0.1:9/" + "x" * 600, "events": ["*"]}, None),
    ({"url": "http://127.0.0.1:9/x", "events": ["*"] * 20}, None),
    ({"events": ["*"]}, None),
    ({"url": "http://127.0.0.1:9/x"}, None),
])
def test_bad_input_is_a_422_in_the_error_shape_and_nothing_is_saved(engine, payload, code):
    answer = client_for(ALFA_ADMIN).post(HOOKS, json=payload)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["saved"] is False and error["message"]
    if code:
        assert error["code"] == code
    assert _count(engine) == 0


def test_customer_users_cannot_manage_webhooks(engine):
    client = client_for(ALFA_USER)
    assert client.get(HOOKS).status_code == 403
    answer = client.post(HOOKS, json={"url": "http://127.0.0.1:9/x", "events": ["*"]})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert _count(engine) == 0
    assert client_for(ALFA_ADMIN).get(f"{HOOKS}/999999/deliveries").status_code == 404
    assert client_for(ALFA_ADMIN).get(f"{HOOKS}/0/deliveries").status_code == 422


# --- fuzzing the routes -------------------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "8"))
FUZZ_APP = build_api()
_fuzz_config = schemathesis.Config.from_dict({
    "seed": 20261207,
    "generation": {"max-examples": EXAMPLES, "database": "none"},
    "phases": {"coverage": {"unexpected-methods": []}, "stateful": {"enabled": False}},
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
})
hook_routes = schemathesis.openapi.from_asgi("/api/openapi.json", FUZZ_APP, config=_fuzz_config).include(
    path_regex=r"^/api/v1/account/webhooks")


@pytest.fixture(scope="module")
def fuzz_callers(engine: sa.Engine, world) -> Iterator[dict[str, dict]]:
    """A customer admin's and an administrator's session on the shared test world."""
    def _db() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as s:
            try:
                yield s
            except BaseException:
                s.rollback()
                raise

    FUZZ_APP.dependency_overrides[get_db] = _db
    client = TestClient(FUZZ_APP)
    callers: dict[str, dict] = {}
    for email in (ALFA_ADMIN, STAFF_ADMIN):
        resp = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert resp.status_code == 200
        callers[email] = {"cookies": dict(resp.cookies)}
    yield callers
    FUZZ_APP.dependency_overrides.clear()


@hook_routes.parametrize()
@pytest.mark.parametrize("caller", [ALFA_ADMIN, STAFF_ADMIN])
def test_webhook_routes_fuzz(case: schemathesis.Case, caller: str, fuzz_callers: dict[str, dict]) -> None:
    case.call_and_validate(checks=[not_a_server_error, negative_data_rejection], **fuzz_callers[caller])
