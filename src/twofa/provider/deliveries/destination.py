"""Keep deliveries off internal networks (SSRF): only globally routable receivers are called.

A callback URL is checked when it is set and again at every attempt: the host name is resolved,
every address it resolves to must be global, and the request then goes to the address that was
checked (the URL's host travels in the ``Host`` header and TLS SNI), so a name that re-resolves
between check and connect (DNS rebinding) gains nothing. Redirects are never followed. An
operator setting allows loopback and private receivers (on in dev, where the demo site listens
on loopback).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class DestinationRefused(ValueError):
    """The receiver's address is not one deliveries may reach."""


def refusal(address: Address) -> str | None:
    """Why ``address`` may not be called (its class), or None for a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    checks: list[tuple[bool, str]] = [
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL, "unique-local"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "shared (CGNAT)"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    ]
    return next((name for hit, name in checks if hit), None)


def check_address(text: str) -> Address:
    """The parsed address, or DestinationRefused naming its class."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    reason = refusal(address)
    if reason:
        raise DestinationRefused(f"{address} is a {reason} address")
    return address


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_url(url: str, *, resolve: Callable[[str], list[str]] | None = None) -> None:
    """Refuse a URL whose host is, or resolves to, a non-global address (when it is set).

    A name that does not resolve now is accepted: the check is made again at every attempt.
    """
    host = urlsplit(url).hostname or ""
    if _literal(host) is not None:
        check_address(host)
        return
    try:
        addresses = (resolve or _resolve_now)(host)
    except OSError:
        return
    for address in addresses:
        check_address(address)


def _resolve_now(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Pinned:
    """Where to connect (the checked address) and what to tell the receiver (its name)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


async def pin(url: str, resolver: Resolver) -> Pinned:
    """Resolve, refuse any non-global address, and aim the request at the checked one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        check_address(str(literal))
        return Pinned(url)
    addresses = await resolver(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    checked = [check_address(a) for a in addresses]
    address = checked[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Pinned(urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions)
