"""Who is on the other end of a request: the one place that decides a client's address.

Sign-in limits count failures per client address, so the address must be one a client cannot choose. The address
is the TCP peer, unless the peer is one of the reverse proxies listed in ``PORTAL_TRUSTED_PROXIES``: then
X-Forwarded-For is read from the right (each proxy appends the address it received the request from), skipping
trusted proxies, and the first address that is not a trusted proxy is the client. Entries to the left of it were
written by the client itself and are never believed. With the list empty (the default) the header is ignored.

:class:`ClientAddressMiddleware` applies this at the edge of the ASGI app, for HTTP requests and the websocket
alike, so ``request.client`` in the API and ``router.session.client_ip`` in page events both carry the decided
address. The server under it must not rewrite the peer itself: `make run` starts gunicorn/uvicorn with
``--forwarded-allow-ips ''`` and Reflex's ``trusted_proxy_hops`` stays 0 (rxconfig.py refuses anything else).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from portal_app.settings import IPNetwork, settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SCHEMES = {"http", "https"}


def parse_address(value: str) -> IPAddress | None:
    """An address from a peer or X-Forwarded-For entry (``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:443``,
    ``2001:db8::1``), IPv4-mapped IPv6 as IPv4; None when it is not an IP address."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress | None, trusted: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in net for net in trusted)


def forwarded_entries(header_values: Iterable[str]) -> list[str]:
    """Every X-Forwarded-For entry, in order, over all of the request's X-Forwarded-For headers."""
    return [entry.strip() for value in header_values for entry in value.split(",") if entry.strip()]


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str | None:
    """The client's address given the TCP ``peer``, the X-Forwarded-For entries and the trusted proxies.

    Walks from the right while the hop that handed the request on is a trusted proxy. An entry that is not an
    address ends the walk at the proxy that wrote it, so what a client types is never returned.
    """
    hop = parse_address(peer) if peer else None
    if not is_trusted(hop, trusted):
        return str(hop) if hop is not None else peer
    for entry in reversed(forwarded_for):
        previous = parse_address(entry)
        if previous is None:
            break
        hop = previous
        if not is_trusted(hop, trusted):
            break
    return str(hop)


class ClientAddressMiddleware:
    """Puts the decided client address (and, from a trusted proxy, X-Forwarded-Proto's scheme) into the scope."""

    def __init__(self, app: ASGIApp, trusted: Sequence[IPNetwork] | None = None) -> None:
        self.app = app
        self.trusted = tuple(settings.trusted_proxies if trusted is None else trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self._rewritten(scope)
        await self.app(scope, receive, send)

    def _rewritten(self, scope: Scope) -> Scope:
        peer_host, peer_port = scope.get("client") or (None, 0)
        headers = scope.get("headers") or ()
        forwarded = forwarded_entries(v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for")
        decided = client_address(peer_host, forwarded, self.trusted)
        scope = dict(scope)
        if decided is not None:
            scope["client"] = (decided, peer_port)
        if is_trusted(parse_address(peer_host or ""), self.trusted):
            proto = [v.decode("latin-1").strip().lower() for k, v in headers if k == b"x-forwarded-proto"]
            if len(proto) == 1 and proto[0] in _SCHEMES:
                scope["scheme"] = proto[0] if scope["type"] == "http" else proto[0].replace("http", "ws")
        return scope
