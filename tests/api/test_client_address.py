"""The client address: the TCP peer, and X-Forwarded-For only as far as PORTAL_TRUSTED_PROXIES vouch for it.

The rules here are the ones sign-in limits count by; tests/browser/test_browser_sign_in.py checks the same through the
server `make run` starts (gunicorn and uvicorn must not rewrite the peer themselves).
"""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models import LoginAttempt
from portal_app.api.app import build_api
from portal_app.client_address import ClientAddressMiddleware, client_address, forwarded_entries
from portal_app.settings import parse_networks
from tests.factories import World

LOOPBACK = parse_networks("127.0.0.1,::1")
PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1")


def nets(raw: str) -> tuple:
    return parse_networks(raw)


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        # No proxy trusted (the default): the peer is the client, whatever the header says.
        ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),
        ("127.0.0.1", "198.51.100.1", (), "127.0.0.1"),
        # From a trusted proxy: the address it appended (the right-most); what the client wrote to its left is not.
        ("127.0.0.1", "198.51.100.1", LOOPBACK, "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", LOOPBACK, "198.51.100.1"),
        ("127.0.0.1", "127.0.0.1, 198.51.100.1", LOOPBACK, "198.51.100.1"),
        # A chain of trusted proxies is walked from the right until the first address that is not one of them.
        ("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", PROXIES, "198.51.100.1"),
        # A peer that is not a trusted proxy is not believed even when the list is set.
        ("198.51.100.7", "6.6.6.6", PROXIES, "198.51.100.7"),
        # From a trusted proxy without the header: the proxy itself.
        ("127.0.0.1", "", LOOPBACK, "127.0.0.1"),
        # Something that is not an address ends the walk at the proxy that passed it on.
        ("127.0.0.1", "6.6.6.6, not-an-address", LOOPBACK, "127.0.0.1"),
        ("127.0.0.1", "6.6.6.6, unknown, 10.9.9.9", PROXIES, "10.9.9.9"),
        # Ports and IPv6 forms; IPv4-mapped IPv6 counts as the IPv4 address.
        ("127.0.0.1", "198.51.100.1:4711", LOOPBACK, "198.51.100.1"),
        ("::1", "[2001:db8::7]:443", LOOPBACK, "2001:db8::7"),
        ("::ffff:127.0.0.1", "2001:DB8:0::7", LOOPBACK, "2001:db8::7"),
        ("::ffff:203.0.113.9", "", (), "203.0.113.9"),
        # A peer that is not an IP address (a test client, a Unix socket) is used as it is and never trusted.
        ("testclient", "198.51.100.1", LOOPBACK, "testclient"),
        (None, "198.51.100.1", LOOPBACK, None),
    ],
)
def test_client_address(peer, header, trusted, expected):
    assert client_address(peer, forwarded_entries([header]), trusted) == expected


def test_several_forwarded_headers_read_as_one_list():
    assert forwarded_entries(["6.6.6.6, 198.51.100.1", "10.0.0.5"]) == ["6.6.6.6", "198.51.100.1", "10.0.0.5"]
    assert client_address("127.0.0.1", forwarded_entries(["6.6.6.6", "198.51.100.1"]), LOOPBACK) == "198.51.100.1"


def test_trusted_proxies_setting_accepts_addresses_and_networks_and_refuses_mistakes():
    assert parse_networks("") == ()
    assert parse_networks(" 127.0.0.1 , 10.0.0.0/8,::1 ") == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))
    for wrong in ("*", "localhost", "192.168.1.1/24", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="PORTAL_TRUSTED_PROXIES"):
            parse_networks(wrong)


def _scope_after_middleware(scope: dict, trusted: tuple) -> dict:
    """The scope the app under ClientAddressMiddleware receives."""
    seen: dict = {}

    async def app(inner_scope, _receive, _send):
        seen.update(inner_scope)

    asyncio.run(ClientAddressMiddleware(app, trusted=trusted)(scope, None, None))
    return seen


def test_page_events_get_the_decided_address():
    """The websocket's scope carries the decided address, and Reflex hands exactly that to page states
    (``router.session.client_ip``) because rxconfig keeps its own X-Forwarded-For reading off."""
    from reflex.app import EventNamespace
    from reflex.istate.data import SessionData
    from reflex_base.config import get_config

    def page_state_sees(scope: dict) -> str:
        router_data = EventNamespace._build_static_router_data(None, "sid", {"asgi.scope": scope})
        return SessionData.from_router_data(router_data).client_ip

    assert get_config().trusted_proxy_hops == 0
    headers = [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.1"), (b"x-forwarded-proto", b"https")]
    base = {"type": "websocket", "path": "/_event/", "headers": headers, "client": ("127.0.0.1", 50123),
            "scheme": "ws"}

    trusted = _scope_after_middleware(dict(base), LOOPBACK)
    assert trusted["client"][0] == "198.51.100.1" and trusted["scheme"] == "wss"
    assert page_state_sees(trusted) == "198.51.100.1"

    default = _scope_after_middleware(dict(base), ())
    assert default["client"][0] == "127.0.0.1" and default["scheme"] == "ws"
    assert page_state_sees(default) == "127.0.0.1"


def test_forwarded_scheme_only_from_a_trusted_proxy():
    scope = {"type": "http", "headers": [(b"x-forwarded-proto", b"https")], "client": ("127.0.0.1", 1),
             "scheme": "http"}
    assert (_scope_after_middleware(dict(scope), LOOPBACK))["scheme"] == "https"
    assert (_scope_after_middleware(dict(scope), ()))["scheme"] == "http"
    odd = dict(scope, headers=[(b"x-forwarded-proto", b"gopher")])
    assert (_scope_after_middleware(odd, LOOPBACK))["scheme"] == "http"


def _api(monkeypatch: pytest.MonkeyPatch, trusted: str, peer: str) -> TestClient:
    from dataclasses import replace

    from portal_app import client_address as module

    monkeypatch.setattr(module, "settings", replace(module.settings, trusted_proxies=parse_networks(trusted)))
    return TestClient(build_api(), client=(peer, 40000))


def _attempt_addresses(db, email: str) -> list[str]:
    db.expire_all()
    return [a.ip_address for a in db.exec(select(LoginAttempt).where(LoginAttempt.email == email)
                                          .order_by(LoginAttempt.id)).all()]


def test_by_default_forged_addresses_count_against_the_real_peer(monkeypatch, world: World, db):
    """Six failed sign-ins, each claiming another address, all count against the one peer: the sixth attempt,
    even with the right password, is refused for that email from that peer."""
    client = _api(monkeypatch, "", "127.0.0.1")
    email = world.users["BETA:customer_user"].email
    for i in range(5):
        wrong = client.post("/api/auth/login", json={"email": email, "password": "wrong-pass-1"},
                            headers={"X-Forwarded-For": f"198.51.100.{i + 10}"})
        assert wrong.status_code == 401
    right = client.post("/api/auth/login", json={"email": email, "password": "demo-Pass-2026"},
                        headers={"X-Forwarded-For": "198.51.100.99"})
    assert right.status_code == 429 and right.json()["error"]["code"] == "account_locked"
    assert set(_attempt_addresses(db, email)) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_forwarded_address_counts_and_a_forged_one_does_not(monkeypatch, world: World, db):
    client = _api(monkeypatch, "127.0.0.1", "127.0.0.1")
    email = world.users["BETA:customer_admin"].email
    for i in range(5):  # the attacker writes a new address every time; the proxy appends the real one
        resp = client.post("/api/auth/login", json={"email": email, "password": "wrong-pass-1"},
                           headers={"X-Forwarded-For": f"6.6.6.{i}, 198.51.100.20"})
        assert resp.status_code == 401
    assert set(_attempt_addresses(db, email)) == {"198.51.100.20"}
    paused = client.post("/api/auth/login", json={"email": email, "password": "wrong-pass-1"},
                         headers={"X-Forwarded-For": "6.6.6.99, 198.51.100.20"})
    assert paused.status_code == 429 and paused.json()["error"]["code"] == "account_locked"
    # Someone else behind the same proxy is another client.
    other = client.post("/api/auth/login", json={"email": email, "password": "wrong-pass-1"},
                        headers={"X-Forwarded-For": "198.51.100.21"})
    assert other.status_code == 401


def test_a_client_that_is_not_the_trusted_proxy_is_not_believed(monkeypatch, world: World, db):
    client = _api(monkeypatch, "127.0.0.1", "203.0.113.50")
    email = world.users["ALFA:customer_admin"].email
    client.post("/api/auth/login", json={"email": email, "password": "wrong-pass-1"},
                headers={"X-Forwarded-For": "198.51.100.30"})
    assert _attempt_addresses(db, email) == ["203.0.113.50"]
