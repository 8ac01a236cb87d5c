"""The client's address, and the key every per-client limit counts under.

Behind a proxy, ``REMOTE_ADDR`` is the proxy. ``CLIENT_IP_HEADER`` names a header the
proxy sets: for ``X-Forwarded-For`` the right-most entry is used (the one the nearest
proxy appended; the left-most is whatever the client claimed). Unset: REMOTE_ADDR (for
a WebSocket, the scope's ``client``).

Limits never count per IPv6 address: one host is routinely given a whole /64 (2^64
addresses), so ``rate_limit_key`` folds an IPv6 address into its /64 network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest

IPV6_PREFIX = 64


def rate_limit_key(address: str) -> str:
    """What per-client limits count under: an IPv4 address as it is, an IPv6
    address as its /64 network (an IPv4-mapped one as the IPv4 address); anything
    that is not an address as it is ("" for none)."""
    text = address.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def client_key(group: Any, request: HttpRequest) -> str:
    """A django-ratelimit key function (``key=client_key``): the request's
    ``rate_limit_key``."""
    return rate_limit_key(get_client_ip(request))


def get_client_ip(request: HttpRequest) -> str:
    """The request's client address (for logs; limits use ``client_key``)."""
    header = settings.CLIENT_IP_HEADER
    if header:
        found = _from_header(request.META.get(_meta_name(header), ""))
        if found:
            return found
    return str(request.META.get("REMOTE_ADDR", ""))


def get_scope_client_ip(scope: dict[str, Any]) -> str:
    """A WebSocket's client address, by the same rule as ``get_client_ip``."""
    header = settings.CLIENT_IP_HEADER
    if header:
        found = _from_header(_header_value(scope.get("headers", ()), header))
        if found:
            return found
    client = scope.get("client")
    return str(client[0]) if client else ""


def _meta_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _header_value(headers: Iterable[tuple[bytes, bytes]], header: str) -> str:
    wanted = header.lower().encode("latin1")
    values = [value.decode("latin1") for name, value in headers if name == wanted]
    return ",".join(values)


def _from_header(value: str) -> str:
    candidates = [part.strip() for part in value.split(",") if part.strip()]
    return candidates[-1] if candidates else ""
