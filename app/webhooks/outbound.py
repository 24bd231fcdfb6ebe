"""Outbound HTTP to partners' URLs, kept off the platform's own network (server-side request forgery).

A webhook URL names a host the partner controls, and so does its DNS: a name may resolve to 127.0.0.1,
to a private or link-local address (a cloud's metadata service), or change its answer between a check
and the connection. So every delivery resolves the host once, refuses unless every address is public,
and connects to the address it checked (``VettedTransport``: the URL's host becomes that address, while
the ``Host`` header and TLS's SNI and certificate check keep the name). Redirects are not followed (the
client says so). Registration runs the same check, for an early, clear refusal.

Public means ``ipaddress``'s ``is_global`` and none of loopback, private, link-local, multicast, reserved
or unspecified; IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, Teredo) are refused outright,
whatever they carry. CGNAT (100.64.0.0/10) and IPv6 ULA (fc00::/7) are not global.

Development and tests may allow private targets (``XINYI_WEBHOOK_ALLOW_PRIVATE_URLS``): the addresses
are then pinned the same way, just not vetted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[Address]]


class AddressRefused(httpx.TransportError):
    """The URL's host is, or resolves to, an address the platform does not send to (or to none)."""


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (a literal address is itself), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # no IPv6 zone id
        if address not in found:
            found.append(address)
    return found


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped is not None or address.sixtofour is not None or address.teredo is not None
    ):
        return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def vet(host: str, port: int, *, allow_private: bool, resolver: Resolver = resolve) -> Address:
    """The address to connect to for ``host``; raises :class:`AddressRefused` when it has none, or when
    any of its addresses is not public (a name with one private answer among public ones is refused: a
    later resolution could pick it)."""
    addresses = resolver(host.rstrip(".") or host, port)
    if not addresses:
        raise AddressRefused("the host does not resolve")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise AddressRefused("the host is not a public address")
    return addresses[0]


class VettedTransport(httpx.BaseTransport):
    """An httpx transport that connects only to a vetted address of the URL's host, resolved once per
    request; the name still goes in ``Host`` and in TLS's SNI, and the certificate is checked against it.
    Connections are not kept between requests (two names on one address must not share a TLS session
    checked for only one of them)."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = resolve, **kwargs: object) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0), **kwargs)  # type: ignore[arg-type]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = vet(host, port, allow_private=self._allow_private, resolver=self._resolver)
        if str(address) != host:
            # ``Host`` was set from the original URL when the request was built; SNI is set here.
            request.url = request.url.copy_with(host=str(address))
            request.extensions = {**request.extensions, "sni_hostname": host.rstrip(".")}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
