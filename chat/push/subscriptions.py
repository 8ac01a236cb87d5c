"""A browser's subscription as ``PushSubscription.toJSON()`` gives it, checked
before anything is stored: the worker posts only to the push services of
settings.SOHBET_PUSH_SERVICE_HOSTS (never to an address a visitor made up), and
the keys must be what RFC 8291 encrypts with."""

from __future__ import annotations

import base64
import binascii
import fnmatch
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_ENDPOINT = 1000
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


class InvalidSubscription(ValueError):
    """The subscription cannot be used; the message says why (translated)."""


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    endpoint: str
    p256dh: str
    auth: str

    def as_webpush(self) -> dict[str, Any]:
        """The ``subscription_info`` pywebpush takes."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


def b64url_bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def parse_subscription(data: Any) -> SubscriptionInfo:
    """``{"endpoint", "keys": {"p256dh", "auth"}}`` checked; raises
    InvalidSubscription."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise InvalidSubscription(_("This is not a push subscription."))
    endpoint, keys = data.get("endpoint"), data["keys"]
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(v, str) for v in (endpoint, p256dh, auth)):
        raise InvalidSubscription(_("This is not a push subscription."))
    assert isinstance(endpoint, str) and isinstance(p256dh, str)  # noqa: S101
    assert isinstance(auth, str)  # noqa: S101 - for mypy, checked above
    if len(endpoint) > MAX_ENDPOINT or not is_allowed_endpoint(endpoint):
        raise InvalidSubscription(_("This push service is not allowed."))
    if len(p256dh) > 120 or len(auth) > 40:
        raise InvalidSubscription(_("This is not a push subscription."))
    try:
        public, secret = b64url_bytes(p256dh), b64url_bytes(auth)
    except (binascii.Error, ValueError):
        raise InvalidSubscription(_("This is not a push subscription.")) from None
    if len(public) != 65 or public[0] != 4 or len(secret) != 16:
        raise InvalidSubscription(_("This is not a push subscription."))
    return SubscriptionInfo(endpoint=endpoint, p256dh=p256dh, auth=auth)


def is_allowed_endpoint(endpoint: str) -> bool:
    """HTTPS to a listed push service; plain HTTP only to a listed loopback host
    (the tests' push service)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.username or parts.password or not host:
        return False
    listed = any(
        fnmatch.fnmatchcase(host, pattern.lower())
        for pattern in settings.SOHBET_PUSH_SERVICE_HOSTS
    )
    if parts.scheme == "https":
        return listed
    return parts.scheme == "http" and listed and (host in LOOPBACK or host == "::1")
