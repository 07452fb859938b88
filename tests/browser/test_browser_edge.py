"""The web edge of the running app (started like `make run`): CORS and the page websocket allow only the portal's
own origin, a page on another origin (another port of the same host) cannot sign a browser in or out, every kind
of response carries the security headers, the pages run under their Content-Security-Policy, and a chunked body is
cut off at its route's limit while it is still arriving."""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from tests.browser_app import CHROMIUM, CHROMIUM_ARGS, DEMO_CUSTOMER, SHARED_APP, _at, sign_in
from tests.services.test_documents import pdf_bytes

pytestmark = pytest.mark.browser
EVIL = "http://evil.example"
MB = 1024 * 1024


def signed_in_client(app_url: str, email: str = DEMO_CUSTOMER[0]) -> httpx.Client:
    client = httpx.Client(base_url=app_url, timeout=30, headers={"Origin": app_url})
    assert client.post("/api/auth/login", json={"email": email, "password": DEMO_CUSTOMER[1]}).status_code == 200
    return client


# ------------------------------------------------------------------------------------------- CORS and websocket


def test_cors_gives_a_session_only_to_the_portals_own_origin(app_url):
    alice = signed_in_client(app_url)
    for origin in (EVIL, "null", f"http://127.0.0.1:{free_port()}"):
        resp = alice.get("/api/auth/me", headers={"Origin": origin})
        assert resp.status_code == 200  # the cookie works, but no other origin's page may read the answer
        assert "access-control-allow-origin" not in resp.headers, (origin, resp.headers)
    own = alice.get("/api/auth/me", headers={"Origin": app_url})
    assert own.headers["access-control-allow-origin"] == app_url
    assert own.headers["access-control-allow-credentials"] == "true"

    preflight = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
    allowed = httpx.options(f"{app_url}/api/v1/shipments/X/follow", headers={"Origin": app_url, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == app_url
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    foreign = httpx.options(f"{app_url}/api/v1/shipments/X/follow", headers={"Origin": EVIL, **preflight})
    assert foreign.headers.get("access-control-allow-origin") != EVIL and foreign.status_code >= 400


def test_the_page_websocket_accepts_only_the_portals_own_origin(app_url):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = app_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
    for origin in (EVIL, "null", f"http://127.0.0.1:{free_port()}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin=origin, open_timeout=10).close()
        assert refused.value.response.status_code in (400, 403), origin
    with connect(url, origin=app_url, open_timeout=10) as ws:
        assert ws.recv(timeout=10).startswith("0{")  # the Engine.IO handshake: the socket is open


# ------------------------------------------------------------------------------------------- CSRF in a browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def page_elsewhere(app_url: str) -> Iterator[str]:
    """Another site, on another port of the same host: pages that auto-submit a form to the portal."""
    forms = {
        "/sign-in": f'<form method="post" action="{app_url}/api/auth/login">'
                    '<input name="email" value="bob@acme.example"><input name="password" value="demo-Pass-2026">'
                    '<input name="next" value="/portal"></form>',
        "/sign-out": f'<form method="post" action="{app_url}/api/auth/logout"></form>',
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ("<!doctype html><title>Win a prize</title>" + forms[self.path] +
                    "<script>document.forms[0].submit()</script>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def session_cookie(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "portal_session"), None)


def test_a_page_on_another_origin_cannot_sign_the_browser_in_or_out(page, app_url):
    with page_elsewhere(app_url) as elsewhere:
        # Login CSRF: the form arrives with the other site's Origin and signs nobody in.
        with page.expect_response(re.compile(r".*/api/auth/login$")) as answer:
            page.goto(f"{elsewhere}/sign-in")
        assert answer.value.status == 403 and answer.value.json()["error"]["code"] == "origin_refused"
        assert session_cookie(page) is None

        # Logout CSRF: Alice stays signed in.
        sign_in(page, DEMO_CUSTOMER[0], "/portal/shipments")
        cookie = session_cookie(page)
        assert cookie
        with page.expect_response(re.compile(r".*/api/auth/logout$")) as answer:
            page.goto(f"{elsewhere}/sign-out")
        assert answer.value.status == 403
        assert session_cookie(page) == cookie
        assert page.request.get(f"{app_url}/api/auth/me").json()["email"] == DEMO_CUSTOMER[0]

    # The portal's own Sign out button (a form post from its own page) still works.
    page.goto("/portal/shipments")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(_at("/login", query=True))
    assert page.request.get(f"{app_url}/api/auth/me").status == 401


# ------------------------------------------------------------------------------------------- headers and CSP


def assert_edge_headers(resp: httpx.Response) -> str:
    assert resp.headers["x-content-type-options"] == "nosniff", resp.url
    assert resp.headers["x-frame-options"] == "DENY", resp.url
    assert resp.headers["referrer-policy"] == "same-origin", resp.url
    assert "geolocation=()" in resp.headers["permissions-policy"], resp.url
    assert "strict-transport-security" not in resp.headers  # served over http
    csp = resp.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp, resp.url
    return csp


def test_pages_api_answers_downloads_and_errors_carry_the_security_headers(app_url):
    alice = signed_in_client(app_url)
    page_csp = assert_edge_headers(httpx.get(f"{app_url}/login/", headers={"Accept-Encoding": "gzip"}))
    assert re.search(r"script-src 'self' 'unsafe-eval'( 'sha256-[A-Za-z0-9+/]+=*')+;", page_csp), page_csp
    assert "object-src 'none'" in page_csp and "base-uri 'none'" in page_csp
    assert_edge_headers(httpx.get(f"{app_url}/no-such-page/"))
    for resp in (alice.get("/api/health"), alice.get("/api/v1/shipments?page_size=1"),
                 alice.get("/api/v1/shipments/NO-SUCH-REF"), httpx.get(f"{app_url}/api/v1/shipments"),
                 alice.post("/api/v1/notifications/read-all", headers={"Origin": EVIL})):
        assert assert_edge_headers(resp).startswith("default-src 'none'"), resp.url
    ref = alice.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    uploaded = alice.post(f"/api/v1/shipments/{ref}/documents", data={"doc_type": "packing_list"},
                          files={"file": ("edge.pdf", pdf_bytes("Edge headers"), "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    download = alice.get(uploaded.json()["download_url"])
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert assert_edge_headers(download).startswith("default-src 'none'")


def test_the_pages_run_under_their_policy(page, app_url):
    """The `page` fixture fails the test on any blocked script, style, connection or eval."""
    from playwright.sync_api import expect

    sign_in(page, DEMO_CUSTOMER[0], "/portal/shipments")
    expect(page.get_by_role("table").first).to_be_visible()
    page.goto("/portal/documents")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/help")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_policy_blocks_a_script_injected_into_a_page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(base_url=app_url)
        pg.goto("/login")
        pg.get_by_label("Email").wait_for()
        blocked = pg.evaluate("""() => new Promise((resolve) => {
            document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective));
            setTimeout(() => resolve('nothing blocked'), 5000);
            const s = document.createElement('script');
            s.textContent = 'window.injected = true';
            document.body.appendChild(s);
        })""")
        assert blocked.startswith("script-src") and pg.evaluate("window.injected") is None
        browser.close()


# ------------------------------------------------------------------------------------------- body limits


def send_chunked(app_url: str, path: str, headers: dict[str, str], head: bytes, total: int) -> tuple[bytes, int]:
    """POST ``head`` and then filler as `Transfer-Encoding: chunked` up to ``total`` bytes, from one thread, while
    another reads; the answer, and how many bytes were sent when its first byte arrived."""
    url = urlsplit(app_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Transfer-Encoding: chunked",
             *(f"{k}: {v}" for k, v in headers.items())]
    sent, sent_at_answer, answer = 0, None, bytearray()

    def send_all() -> None:
        nonlocal sent
        filler = b"x" * (256 * 1024)
        with contextlib.suppress(OSError):
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = head
            while sent < total:
                sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                sent += len(data)
                data = filler[: total - sent]
            sock.sendall(b"0\r\n\r\n")

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            sent_at_answer = sent if sent_at_answer is None else sent_at_answer
            answer.extend(chunk)
            if b"\r\n\r\n" in answer and b'"saved"' in answer:
                break
    sock.close()
    sender.join(timeout=60)
    return bytes(answer), sent if sent_at_answer is None else sent_at_answer


def stored(app_url: str) -> tuple[int, set[Path]]:
    files = SHARED_APP.app.log_path.parent / "files"
    with SHARED_APP.engine.connect() as conn:
        documents = conn.execute(sa.text("SELECT count(*) FROM document")).scalar_one()
    return documents, ({p for p in files.rglob("*") if p.is_file()} if files.exists() else set())


def test_a_chunked_60_mb_upload_and_json_body_are_cut_off_at_the_limit(app_url, app_engine):
    alice = signed_in_client(app_url)
    ref = alice.get("/api/v1/shipments?page_size=1").json()["items"][0]["reference"]
    cookie = {"Cookie": f"portal_session={alice.cookies['portal_session']}", "Origin": app_url}
    before = stored(app_url)

    head = (b'--B\r\nContent-Disposition: form-data; name="doc_type"\r\n\r\npacking_list\r\n--B\r\n'
            b'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            b"%PDF-1.4\n")
    answer, sent = send_chunked(app_url, f"/api/v1/shipments/{ref}/documents",
                                {**cookie, "Content-Type": "multipart/form-data; boundary=B"}, head, 60 * MB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"too_large"' in answer
    assert sent < 40 * MB, f"the server took {sent / MB:.0f} MB of a 25 MB upload limit before answering"

    answer, sent = send_chunked(app_url, "/api/v1/requests", {**cookie, "Content-Type": "application/json"},
                                b'{"category": "other", "subject": "', 60 * MB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert sent < 16 * MB, f"the server took {sent / MB:.0f} MB of a 1 MB JSON limit before answering"
    assert stored(app_url) == before
