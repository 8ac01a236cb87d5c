"""What a request says about the proxies it came through, believed only from a
trusted proxy.

Daphne turns a ``Daphne-Root-Path`` header into the application's root path (the
prefix of every URL Django builds: a client could make the page load scripts from
another origin, or poison a shared cache). Sohbet honours it only from a peer listed
in ``TRUSTED_PROXIES``, and never when the list is empty. With a list, the
forwarding headers (``X-Forwarded-*``, ``Forwarded``, ``X-Real-IP``,
``CLIENT_IP_HEADER``) of any other peer are removed before Django or the consumers
read them; without one, every peer is taken to be the proxy (a platform such as
Railway, whose edge is the only way in and whose address is not fixed).
Daphne's own ``--proxy-headers`` is refused by ``chatsite.server``.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from django.conf import settings

FORWARDING_HEADERS = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-forwarded-proto",
        b"x-real-ip",
        b"daphne-root-path",
    }
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(scope: dict[str, Any]) -> bool:
    """Whether the peer of this connection is one of ``TRUSTED_PROXIES``."""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    client = scope.get("client")
    if not networks or not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:  # a Unix socket: no address
        return False
    return any(address in network for network in networks)


def believed(scope: dict[str, Any]) -> dict[str, Any]:
    """``scope`` as Sohbet acts on it: the root path and the forwarding headers
    only as a trusted proxy set them."""
    if is_trusted_proxy(scope):
        return scope
    cleared = {**scope, "root_path": ""}
    if settings.TRUSTED_PROXIES:
        drop = FORWARDING_HEADERS | _client_ip_header()
        cleared["headers"] = [
            (name, value)
            for name, value in scope.get("headers", ())
            if name not in drop
        ]
    return cleared


def _client_ip_header() -> frozenset[bytes]:
    header = settings.CLIENT_IP_HEADER
    return frozenset({header.lower().encode("latin1")}) if header else frozenset()


class TrustedProxyMiddleware:
    """ASGI middleware for HTTP: Django sees the scope as ``believed`` leaves it.
    (WebSockets get the same from ``realtime.middleware.WebSocketMiddleware``.)"""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.application(believed(scope), receive, send)
