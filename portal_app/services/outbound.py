"""Requests the server makes to addresses an administrator typed (an identity provider's issuer URL and the
addresses its discovery document names), guarded against server-side request forgery.

An address is followed only when it is ``https://`` and every address its host name resolves to is public: not
loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata
services), carrier-grade NAT, multicast or reserved. The connection then goes to the very address that was checked
(the host name travels in the Host header and TLS SNI, so the certificate is still verified against it): a DNS
answer that changes between the check and the connection cannot point the request inside. Redirects are not
followed and answers are read up to ``MAX_BYTES``. ``allow_loopback`` (development and tests only) admits this
machine's loopback addresses, over plain ``http://`` too. ``allow_private`` (webhooks to a receiver inside the
forwarder's own network, ``PORTAL_WEBHOOK_ALLOW_PRIVATE``) admits loopback and private addresses (10/8, 172.16/12,
192.168/16, carrier-grade NAT, fc00::/7), over plain ``http://`` too; link-local addresses (169.254/16, fe80::/10)
and the cloud metadata services (169.254.169.254, fd00:ec2::254) are refused whatever is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

MAX_BYTES = 512 * 1024
TIMEOUT_SECONDS = 10.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ValueError):
    """The address may not be requested (its ``reason`` says why, in words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchFailed(Exception):
    """The address was allowed but did not answer usefully (network error, timeout, too large)."""


@dataclass(frozen=True)
class CheckedUrl:
    parts: SplitResult
    address: IPAddress

    @property
    def port(self) -> int:
        return self.parts.port or (443 if self.parts.scheme == "https" else 80)


# Never requested, whatever is allowed: the cloud providers' instance metadata services (AWS's IPv6 one sits inside
# the private fc00::/7 range, so it is named here besides link-local).
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
                                ipaddress.ip_address("100.100.100.200")})
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _private(address: IPAddress) -> bool:
    """A loopback or private-network address (what ``allow_private`` admits)."""
    if address.is_loopback:
        return True
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return True
    return address.is_private and not address.is_link_local and not address.is_multicast \
        and not address.is_unspecified and not address.is_reserved


def _allowed(address: IPAddress, allow_loopback: bool, allow_private: bool = False) -> bool:
    address = _unmapped(address)
    if address in METADATA_ADDRESSES or address.is_link_local or address.is_unspecified:
        return False
    if address.is_loopback:
        return allow_loopback or allow_private
    if allow_private and _private(address):
        return True
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_loopback: bool = False, allow_private: bool = False,
              what: str = "the provider") -> CheckedUrl:
    """The URL's parts and the public address to connect to; raises AddressRefused with a reason otherwise."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise AddressRefused("it is not a valid web address") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressRefused("it must be a full address starting with https://")
    if parts.username or parts.password:
        raise AddressRefused("it must not contain a user name or password")
    if parts.fragment:
        raise AddressRefused("it must not contain a # fragment")
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"the host name {parts.hostname} cannot be found") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if any(_unmapped(a) in METADATA_ADDRESSES or _unmapped(a).is_link_local for a in addresses):
        raise AddressRefused(f"{parts.hostname} is a link-local or cloud metadata address, which is never "
                             "requested")
    if not addresses or not all(_allowed(a, allow_loopback, allow_private) for a in addresses):
        raise AddressRefused(f"{parts.hostname} is a private, local or reserved address; {what} must be "
                             "reachable on the public internet")
    if parts.scheme != "https" and not all(_unmapped(a).is_loopback or (allow_private and _private(_unmapped(a)))
                                           for a in addresses):
        raise AddressRefused("it must start with https://")
    return CheckedUrl(parts=parts, address=addresses[0])


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON; FetchFailed when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise FetchFailed("the answer is not JSON") from exc


def request(method: str, url: str, *, allow_loopback: bool = False, data: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None,
            allow_private: bool = False, content: bytes | None = None, what: str = "the provider",
            timeout: float = TIMEOUT_SECONDS) -> Answer:
    """One request to a checked address, pinned to the address that was checked; the body read in full (capped)."""
    checked = check_url(url, allow_loopback=allow_loopback, allow_private=allow_private, what=what)
    host = checked.parts.hostname or ""
    ip = str(checked.address)
    netloc = f"[{ip}]" if ":" in ip else ip
    pinned = urlunsplit(checked.parts._replace(netloc=f"{netloc}:{checked.port}"))
    extensions: dict[str, Any] = {"sni_hostname": host} if checked.parts.scheme == "https" else {}
    headers = {"Accept": "application/json", **(headers or {}),
               "Host": checked.parts.netloc.rsplit("@", 1)[-1]}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            req = client.build_request(method, pinned, data=data, content=content, headers=headers,
                                       extensions=extensions)
            response = client.send(req, stream=True, auth=auth)
            try:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise FetchFailed(f"the answer from {host} is larger than {MAX_BYTES // 1024} KB")
            finally:
                response.close()
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{host} did not answer ({type(exc).__name__})") from exc
    return Answer(status_code=response.status_code, body=body)
