"""The API's input policy, checked over its own OpenAPI description and on the wire: every integer it takes is
bounded, every date is an ISO date, every date-time carries its zone, and a value outside its shape is a 422 in the
error shape (never a 500, never silently read as something else)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_app.api.app import build_api
from tests.factories import PASSWORD

HUGE = "609940349302896852992"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_api().openapi()


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = spec["components"]["schemas"][name]
    return node


def _schemas(spec: dict[str, Any], node: dict[str, Any], where: str, seen: set[str]) -> Iterator[tuple[str, dict]]:
    """Every schema reachable from ``node`` (properties, items, map values, unions), each with where it sits."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
    node = _resolve(spec, node)
    yield where, node
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, []):
            yield from _schemas(spec, sub, where, seen)
    for name, sub in node.get("properties", {}).items():
        yield from _schemas(spec, sub, f"{where}.{name}", seen)
    if isinstance(node.get("items"), dict):
        yield from _schemas(spec, node["items"], f"{where}[]", seen)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _schemas(spec, node["additionalProperties"], f"{where}{{}}", seen)


def request_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, dict]]:
    """Every schema of every parameter and request body of every operation."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            label = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                yield from _schemas(spec, param["schema"], f"{label} {param['in']} {param['name']}", set())
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                yield from _schemas(spec, content.get("schema", {}), f"{label} body ({media})", set())


def test_the_walk_sees_parameters_and_bodies(spec):
    places = [where for where, _ in request_schemas(spec)]
    assert any("query page" in w for w in places)
    assert any("path option_id" in w for w in places)
    assert any(w.endswith("body (application/json).lines[].packages") for w in places)


def test_every_integer_the_api_takes_is_bounded(spec):
    unbounded = sorted({where for where, node in request_schemas(spec)
                        if node.get("type") == "integer" and not ("minimum" in node and "maximum" in node)})
    assert unbounded == [], "integers without a minimum and a maximum:\n" + "\n".join(unbounded)


def test_every_number_the_api_takes_is_bounded(spec):
    unbounded = sorted({where for where, node in request_schemas(spec)
                        if node.get("type") == "number" and not ("minimum" in node and "maximum" in node)})
    assert unbounded == [], "numbers without a minimum and a maximum:\n" + "\n".join(unbounded)


# ------------------------------------------------------------------------------------------- on the wire


def _client(world, email: str | None) -> TestClient:
    client = TestClient(build_api())
    if email:
        assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    return client


def _refused(resp) -> None:
    assert resp.status_code == 422, resp.text
    assert set(resp.json()["error"]) == {"code", "message", "saved"}
    assert resp.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/invoices", "/api/v1/notifications",
                                  "/api/v1/quote-requests", "/api/v1/requests", "/api/v1/shipments",
                                  "/api/v1/change-requests", "/api/v1/rate-cards"])
def test_a_huge_page_number_is_refused(world, path):
    _refused(_client(world, "customer_admin@alfa.test").get(path, params={"page": HUGE}))


def test_a_huge_page_number_is_refused_signed_out_too(world):
    _refused(_client(world, None).get("/api/v1/help/articles", params={"page": HUGE}))


@pytest.mark.parametrize("path", ["/api/v1/quote-options/929629876445804888064",
                                  "/api/v1/documents/929629876445804888064/download",
                                  "/api/v1/exceptions/929629876445804888064", "/api/v1/tasks/929629876445804888064",
                                  "/api/v1/rate-cards/929629876445804888064"])
def test_a_huge_id_in_the_path_is_refused(world, path):
    _refused(_client(world, "ops_manager@fwd.test").get(path))


def test_a_huge_id_in_a_body_is_refused(world):
    resp = _client(world, "ops_manager@fwd.test").post(
        "/api/v1/workload/reassign", json={"from_user_id": int(HUGE), "to_user_id": 1})
    _refused(resp)


def test_a_huge_id_in_a_query_is_refused(world):
    _refused(_client(world, "ops_manager@fwd.test").get("/api/v1/tasks", params={"assignee_id": HUGE}))


@pytest.mark.parametrize("path", ["/api/v1/statement", "/api/v1/statement.csv", "/api/v1/statement.xlsx"])
@pytest.mark.parametrize("as_of", ["0", "1700000000", "20261130", "2026-W48-1", "2026-02-30", "0001-01-01",
                                   "2026-11-30T00:00:00"])
def test_the_statement_takes_only_iso_dates(world, path, as_of):
    _refused(_client(world, "customer_admin@alfa.test").get(path, params={"as_of": as_of}))


def test_the_statement_reads_an_iso_date(world):
    resp = _client(world, "customer_admin@alfa.test").get("/api/v1/statement", params={"as_of": "2026-11-30"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["as_of"] == "2026-11-30"


def test_every_date_query_parameter_refuses_a_number(spec, world):
    """A number of seconds is not a date, on any route that takes a date in its query string."""
    client = _client(world, "admin@fwd.test")
    checked = []
    for path, item in spec["paths"].items():
        if "{" in path:
            continue
        for method, op in item.items():
            for param in op.get("parameters", []):
                formats = {node.get("format") for _, node in _schemas(spec, param["schema"], "", set())}
                if param["in"] == "query" and formats & {"date", "date-time"}:
                    required = {p["name"]: "2026-01-01" for p in op["parameters"]
                                if p.get("required") and p["name"] != param["name"]}
                    resp = client.request(method.upper(), path, params={**required, param["name"]: "0"})
                    assert resp.status_code == 422, f"{method.upper()} {path} {param['name']}=0: {resp.text}"
                    checked.append(f"{path} {param['name']}")
    assert len(checked) >= 5, checked


@pytest.mark.parametrize("value", [0, 1700000000, "2026-11-30T14:00:00", "2026-11-30", "30/11/2026 14:00"])
def test_a_date_time_without_a_zone_or_as_a_number_is_refused(world, value):
    client = _client(world, "ops_manager@fwd.test")
    resp = client.post("/api/v1/tasks", json={"title": "Call the carrier", "due_at": value})
    _refused(resp)


def test_a_date_time_with_a_zone_is_taken(world):
    client = _client(world, "ops_manager@fwd.test")
    resp = client.post("/api/v1/tasks", json={"title": "Call the carrier", "due_at": "2031-11-30T14:00:00+02:00"})
    assert resp.status_code == 201, resp.text


# ------------------------------------------------------------------------------------------- the parsers


@pytest.mark.parametrize("text", ["0", "1700000000", "20261130", "2026-W48-1", "2026-334", "2026-11-30T00:00",
                                  "30.11.2026", " ", "2026-02-30", "1899-12-31", "3000-01-01", "２０２６-11-30"])
def test_only_a_calendar_date_in_iso_form_is_a_date(text):
    from portal_app.services import isodates

    with pytest.raises(ValueError, match=r"YYYY-MM-DD|outside the years"):
        isodates.parse_date(text)


def test_an_iso_date_and_a_zoned_date_time_are_read():
    from datetime import UTC, date, datetime, timedelta, timezone

    from portal_app.services import isodates

    assert isodates.parse_date("2026-11-30") == date(2026, 11, 30)
    assert isodates.parse_datetime("2026-11-30T14:00:00Z") == datetime(2026, 11, 30, 14, tzinfo=UTC)
    assert isodates.parse_datetime("2026-11-30T16:00+02:00").utcoffset() == timedelta(hours=2)
    assert isodates.parse_datetime("2026-11-30 14:00:00.5-05:30").tzinfo == timezone(-timedelta(hours=5, minutes=30))
    for text in ("2026-11-30T14:00:00", "2026-11-30", "1764511200", "2026-11-30T14:00:00+25:00"):
        with pytest.raises(ValueError):
            isodates.parse_datetime(text)


@pytest.mark.parametrize(("text", "expected"), [("7", 7), (" 42 ", 42), ("2147483647", 2**31 - 1), ("0", None),
                                                 ("-3", None), ("2147483648", None), (HUGE, None), ("²", None),
                                                 ("٣", None), ("1e3", None), ("", None), ("12a", None)])
def test_an_id_typed_as_text_is_read_only_when_a_column_can_hold_it(text, expected):
    from portal_app.services.numbers import parse_id

    assert parse_id(text) == expected


@pytest.mark.parametrize("params", [{"etd_from": "20261130"}, {"eta_to": "0"}, {"etd_to": "2026-02-30"}])
def test_the_shipment_list_and_its_export_take_only_iso_dates(world, params):
    client = _client(world, "customer_admin@alfa.test")
    _refused(client.get("/api/v1/shipments", params=params))
    assert client.get("/api/v1/shipments/export", params=params).status_code == 422


@pytest.mark.parametrize("params", [{"owner": HUGE}, {"owner": "²"}, {"branch": HUGE}, {"team": "-1"}])
def test_the_board_refuses_an_id_no_column_can_hold(world, params):
    _refused(_client(world, "ops_manager@fwd.test").get("/api/v1/tower/shipments", params=params))


def test_the_board_reads_a_customer_too_long_for_an_id_as_a_code(world):
    resp = _client(world, "ops_manager@fwd.test").get("/api/v1/tower/shipments", params={"customer": "9" * 20})
    assert resp.status_code == 200 and resp.json()["total"] == 0


def test_a_bulk_action_over_a_board_filter_refuses_a_huge_id(world):
    resp = _client(world, "ops_manager@fwd.test").post(
        "/api/v1/tower/bulk/customer-update", json={"filter": {"owner": HUGE}, "body": "Vessel delayed by storm"})
    assert resp.status_code == 422, resp.text


@pytest.mark.parametrize("world_name", ["qworld", pytest.param("pg_qworld", marks=pytest.mark.postgres)])
def test_the_largest_id_and_page_allowed_fit_both_databases(request, world_name):
    """The bounds are PostgreSQL's integer: the largest id and page still answer 404 and an empty page, on
    SQLite and on PostgreSQL (one past them is a 422 before the database is asked)."""
    qw = request.getfixturevalue(world_name)
    client = qw.client("alice@acme.example")
    top = 2**31 - 1
    assert client.get(f"/api/v1/quote-options/{top}").status_code == 404
    assert client.get(f"/api/v1/documents/{top}/download").status_code == 404
    page = client.get("/api/v1/invoices", params={"page": top, "page_size": 200})
    assert page.status_code == 200 and page.json()["items"] == []
    assert client.get("/api/v1/quote-requests", params={"page": top}).json()["items"] == []
    _refused(client.get(f"/api/v1/quote-options/{top + 1}"))
    _refused(client.get("/api/v1/invoices", params={"page": top + 1}))
