"""The sites allowed to embed the widget: ``SOHBET_WIDGET_SITES`` and the admin's
``WidgetSite`` rows, as origin patterns that a Content-Security-Policy's
``frame-ancestors`` takes as they are: ``https://shop.example.com``,
``https://*.example.com`` (subdomains, not the domain itself), ``http://localhost:*``
(any port)."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

CACHE_SECONDS = 30.0  # an admin's change reaches every process within this
_HOST = re.compile(
    r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
)
_lock = threading.Lock()
_cached: tuple[float, tuple[str, ...]] = (0.0, ())


def normalize(pattern: str) -> str:
    """The pattern in the form compared and sent; ValueError (translated) if it is not
    an origin pattern."""
    text = pattern.strip().lower().rstrip("/")
    match = re.fullmatch(r"(https?)://([^/:?#]+)(?::(\d{1,5}|\*))?", text)
    if match is None or not _HOST.match(match.group(2)):
        raise ValueError(
            _(
                "Enter an origin such as https://www.example.com or "
                "https://*.example.com (no path)."
            )
        )
    scheme, host, port = match.groups()
    if port and port != "*" and not 0 < int(port) < 65536:
        raise ValueError(_("The port must be between 1 and 65535."))
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def allowed() -> tuple[str, ...]:
    """Every allowed pattern (the setting's, then the admin's), read at most every
    CACHE_SECONDS per process."""
    global _cached
    now = time.monotonic()
    stamp, patterns = _cached
    if now - stamp < CACHE_SECONDS and stamp:
        return patterns
    with _lock:
        from chat.models import WidgetSite

        rows = WidgetSite.objects.values_list("origin", flat=True)
        configured = [normalize(entry) for entry in settings.SOHBET_WIDGET_SITES]
        patterns = tuple(dict.fromkeys([*configured, *rows]))
        _cached = (now, patterns)
    return patterns


def forget() -> None:
    """Read the patterns afresh next time (this process: an admin's save)."""
    global _cached
    _cached = (0.0, ())


def is_allowed(origin: str) -> bool:
    return any(matches(pattern, origin) for pattern in allowed())


def matches(pattern: str, origin: str) -> bool:
    """Whether a page's origin is one the pattern allows, as a browser decides
    ``frame-ancestors``."""
    try:
        parsed = urlsplit(origin)
        port = parsed.port
    except ValueError:
        return False
    p_scheme, _sep, rest = pattern.partition("://")
    p_host, _colon, p_port = rest.partition(":")
    host = parsed.hostname or ""
    if parsed.scheme != p_scheme or not host:
        return False
    if p_host.startswith("*."):
        if not host.endswith(p_host[1:]):
            return False
    elif host != p_host:
        return False
    if p_port == "*":
        return True
    default = 443 if p_scheme == "https" else 80
    return (port or default) == (int(p_port) if p_port else default)


def frame_ancestors() -> str:
    """The frame's ``frame-ancestors`` source list: none but the allowed sites."""
    return " ".join(allowed()) or "'none'"
