"""Requests the server makes to addresses an administrator typed (an identity provider's issuer URL and the
addresses its discovery document names), guarded against server-side request forgery.

An address is followed only when it is ``https://`` and every address its host name resolves to is public: not
loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata
services), carrier-grade NAT, multicast or reserved. The connection then goes to the very address that was checked
(the host name travels in the Host header and TLS SNI, so the certificate is still verified against it): a DNS
answer that changes between the check and the connection cannot point the request inside. Redirects are not
followed and answers are read up to ``MAX_BYTES``. ``allow_loopback`` (development and tests only) admits this
machine's loopback addresses, over plain ``http://`` too.
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


def _allowed(address: IPAddress, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_loopback: bool = False) -> CheckedUrl:
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
    if not addresses or not all(_allowed(a, allow_loopback) for a in addresses):
        raise AddressRefused(f"{parts.hostname} is a private, local or reserved address; the provider must be "
                             "reachable on the public internet")
    if parts.scheme != "https" and not all(a.is_loopback for a in addresses):
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
            auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One request to a checked address, pinned to the address that was checked; the body read in full (capped)."""
    checked = check_url(url, allow_loopback=allow_loopback)
    host = checked.parts.hostname or ""
    ip = str(checked.address)
    netloc = f"[{ip}]" if ":" in ip else ip
    pinned = urlunsplit(checked.parts._replace(netloc=f"{netloc}:{checked.port}"))
    extensions: dict[str, Any] = {"sni_hostname": host} if checked.parts.scheme == "https" else {}
    headers = {"Accept": "application/json", **(headers or {}),
               "Host": checked.parts.netloc.rsplit("@", 1)[-1]}
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
            req = client.build_request(method, pinned, data=data, headers=headers, extensions=extensions)
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
