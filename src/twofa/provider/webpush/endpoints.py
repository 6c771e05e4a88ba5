"""Which push endpoints the provider will POST to.

A subscription's endpoint is a URL the device chose, so without a check the provider would
POST wherever a device asks: a server-side request forgery. Only https URLs on the browser
vendors' push services (plus hosts the operator adds, such as a self-hosted autopush) pass; at
send time the delivery queue resolves the host and connects only to the public addresses it
checked (``deliveries/destination.py``). Loopback passes only when the operator turned on
``webpush_allow_loopback`` (dev and test), private addresses only with
``webpush_allow_private``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from twofa.settings import Settings

# The push services of Chrome/Edge-on-Android (FCM), Firefox (autopush), Safari and Windows.
KNOWN_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "*.notify.windows.com",
)
MAX_ENDPOINT = 2000
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class EndpointRefused(ValueError):
    """The endpoint is not one the provider will send to; the message says why."""


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    """The allow-list and address rules, from settings."""

    operator_hosts: tuple[str, ...] = ()
    allow_private: bool = False
    allow_loopback: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> EndpointPolicy:
        hosts = tuple(h.strip().lower() for h in settings.webpush_hosts.split(",") if h.strip())
        return cls(hosts, settings.webpush_allow_private, settings.webpush_allow_loopback)

    def _is_loopback(self, host: str) -> bool:
        ip = _ip(host)
        return host in LOOPBACK_NAMES or (ip is not None and ip.is_loopback)

    def check(self, endpoint: object) -> str:
        """The endpoint, if it may be stored; ``EndpointRefused`` otherwise."""
        if not isinstance(endpoint, str) or not endpoint:
            raise EndpointRefused("endpoint must be a URL")
        if len(endpoint) > MAX_ENDPOINT or not endpoint.isascii() or not endpoint.isprintable():
            raise EndpointRefused("endpoint is too long or holds characters a URL cannot")
        if any(c.isspace() for c in endpoint):
            raise EndpointRefused("endpoint holds whitespace")
        try:
            parts = urlsplit(endpoint)
            port = parts.port
        except ValueError as exc:
            raise EndpointRefused("endpoint is not a valid URL") from exc
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme != "https":
            raise EndpointRefused("endpoint must use https")
        if not host or parts.username is not None or parts.password is not None:
            raise EndpointRefused("endpoint must name a host and carry no credentials")
        if parts.fragment:
            raise EndpointRefused("endpoint must not have a fragment")
        if self._is_loopback(host):
            if self.allow_loopback:
                return endpoint
            raise EndpointRefused("endpoint is a loopback address")
        if any(_matches(host, p) for p in KNOWN_HOSTS):
            if port not in (None, 443):
                raise EndpointRefused("endpoint must use the push service's standard port")
            return endpoint
        if any(_matches(host, p) for p in self.operator_hosts):
            ip = _ip(host)
            if ip is not None and not ip.is_global and not self.allow_private:
                raise EndpointRefused("endpoint is a private address")
            return endpoint
        raise EndpointRefused(f"{host} is not a known push service")
