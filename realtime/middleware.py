"""What every WebSocket connection goes through before its consumer
(``WebSocketMiddleware``), and the session cookie's names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from realtime import tokens
from realtime.logs import connection_id_var, new_id
from realtime.proxies import believed

# The names of the session and CSRF cookies before the ``__Host-`` names of
# production (chatsite.sessions adopts a session cookie still named so).
LEGACY_SESSION_COOKIE = "sessionid"
LEGACY_CSRF_COOKIE = "csrftoken"

CLOSE_FORBIDDEN = 4403


class WebSocketMiddleware:
    """What every WebSocket connection goes through before its consumer, in one
    layer (each layer costs every idle socket a coroutine frame and a scope copy): an
    id for its log lines; the root path and forwarding headers as a trusted proxy set
    them; the ``Origin`` checked as Django checks an unsafe request's
    (``is_allowed_origin``), a refused socket accepted then closed with 4403 so that
    the browser sees why; ``scope["cookies"]`` and a lazily loaded
    ``scope["session"]``: the cookie's, or a visitor token's (``realtime.tokens``),
    as ``resolve_identity`` decides; the consumers save it themselves."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = connection_id_var.set(new_id())
        try:
            scope = believed(scope)
            identity = resolve_identity(scope, self.session_store)
            if identity is None:
                message = await receive()
                if message["type"] == "websocket.connect":
                    await send(accept_message(scope))
                    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
                return None
            scope = {**scope, "cookies": identity.cookies, "session": identity.session}
            if identity.token:
                scope["visitor_token"] = True  # a visitor's: never an operator's
            return await self.application(scope, receive, send)
        finally:
            connection_id_var.reset(token)


def accept_message(scope: dict[str, Any]) -> dict[str, Any]:
    """The accept of a socket refused after it (the browser then sees the close
    code): with the subprotocol it offered, if any, or the browser drops it first."""
    if tokens.PROTOCOL in (scope.get("subprotocols") or ()):
        return {"type": "websocket.accept", "subprotocol": tokens.PROTOCOL}
    return {"type": "websocket.accept"}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a connection is, whatever its transport: its cookies and its session
    (lazily loaded; empty when it has none); ``token``: the session is a visitor
    token's, not the cookie's."""

    cookies: dict[str, str]
    session: SessionBase
    token: bool = False


def resolve_identity(scope: dict[str, Any], session_store: Any) -> Identity | None:
    """A connection's identity as every transport decides it (a WebSocket here, the
    HTTP fallback in ``realtime.fallback``), from a ``believed`` scope: None when its
    ``Origin`` is missing or not allowed; else the session a visitor token names (a
    socket's subprotocol, the fallback's ``X-Sohbet-Visitor``), or none if the token
    is bad, or else the session its cookie names."""
    origin = None
    cookie = []
    header_token = None
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            origin = value.decode("latin1")
        elif name == b"cookie":
            cookie.append(value.decode("latin1"))
        elif name == b"x-sohbet-visitor":
            header_token = value.decode("latin1")
    if origin is None or not is_allowed_origin(scope, origin):
        return None
    cookies = parse_cookie("; ".join(cookie)) if cookie else {}
    offered = tokens.offered(scope.get("subprotocols") or ()) or header_token
    if offered is None:
        return Identity(cookies, session_store(session_cookie_value(cookies)))
    return Identity(cookies, session_store(tokens.session_key(offered)), token=True)


def is_allowed_origin(scope: dict[str, Any], origin: str) -> bool:
    """Whether a WebSocket's ``Origin`` is its own origin (the scheme it came by,
    through the proxy's SECURE_PROXY_SSL_HEADER; the Host header, which must be in
    ALLOWED_HOSTS; the port) or one of CSRF_TRUSTED_ORIGINS, as Django decides for
    an unsafe request."""
    try:
        parsed = urlsplit(origin)
        port = parsed.port
    except ValueError:
        return False
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS or any(
        parsed.scheme == scheme and is_same_domain(parsed.netloc, pattern)
        for scheme, pattern in _trusted_subdomains()
    ):
        return True
    headers = dict(scope.get("headers", ()))
    host = headers.get(b"host", b"").decode("latin1")
    domain, host_port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = "https" if _is_secure(scope, headers) else "http"
    return (parsed.scheme, parsed.hostname, port or DEFAULT_PORTS[parsed.scheme]) == (
        scheme,
        domain.strip("[]"),  # an IPv6 host is bracketed, its hostname is not
        int(host_port) if host_port else DEFAULT_PORTS[scheme],
    )


DEFAULT_PORTS = {"http": 80, "https": 443}


def _trusted_subdomains() -> list[tuple[str, str]]:
    """CSRF_TRUSTED_ORIGINS entries with a wildcard (``https://*.example.com``) as
    (scheme, ``.example.com``), as Django's CSRF check reads them."""
    found = []
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in entry:
            parsed = urlsplit(entry)
            found.append((parsed.scheme, parsed.netloc.lstrip("*")))
    return found


def _is_secure(scope: dict[str, Any], headers: dict[bytes, bytes]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy_header:
        return False
    meta_name, secure_value = proxy_header
    name = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin1")
    value = headers.get(name, b"").decode("latin1")
    return value.split(",", 1)[0].strip() == secure_value


def session_cookie_value(cookies: Mapping[str, str]) -> str | None:
    """The session key a request's cookies carry: under the current name, else under
    the name used before ``__Host-`` (a page opened before the change)."""
    return cookies.get(settings.SESSION_COOKIE_NAME) or cookies.get(
        LEGACY_SESSION_COOKIE
    )
