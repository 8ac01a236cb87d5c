"""The client's IP address, for rate limits and logs.

Behind a proxy, ``REMOTE_ADDR`` is the proxy. ``CLIENT_IP_HEADER`` names a header the
proxy sets: for ``X-Forwarded-For`` the right-most entry is used (the one the nearest
proxy appended; the left-most is whatever the client claimed). Unset: REMOTE_ADDR.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def client_ip(group: Any, request: HttpRequest) -> str:
    """A django-ratelimit key function (``key=client_ip``)."""
    return get_client_ip(request)


def get_client_ip(request: HttpRequest) -> str:
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        candidates = [part.strip() for part in value.split(",") if part.strip()]
        if candidates:
            return candidates[-1]
    return str(request.META.get("REMOTE_ADDR", ""))
