"""The client's address for per-address budgets, trusting ``X-Forwarded-For`` only from a proxy
the operator named (``TWOFA_TRUSTED_PROXY``): anyone else could write any address there."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request


def client_address(request: Request, trusted_proxy: str) -> str | None:
    """The peer's address, or the last hop the trusted proxy saw when the peer is that proxy."""
    peer = request.client.host if request.client else None
    if not peer or not trusted_proxy or peer != trusted_proxy:
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return peer
    try:
        return str(ipaddress.ip_address(hops[-1]))  # the address the proxy itself saw
    except ValueError:
        return peer
