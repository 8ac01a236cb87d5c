from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie

from chatsite import views
from chatsite.logging import connection_id_var, new_id
from chatsite.sessions import session_cookie_value

CLOSE_FORBIDDEN = 4403


class WebSocketMiddleware:
    """What every WebSocket connection goes through before its consumer, in one layer:

    - an id for the connection's log lines (``chatsite.logging.connection_id_var``);
    - Django's ALLOWED_HOSTS applied to the ``Origin`` header. Unlike Channels'
      validator (which rejects the handshake, so a browser only sees 1006), a
      refused socket is accepted and closed with 4403, as docs/protocol.md promises;
    - ``scope["cookies"]`` and ``scope["session"]`` (loaded on first use): what
      Channels' ``SessionMiddlewareStack`` gives, without its wrapper around every
      frame sent (it saves a modified session on an HTTP response, which a WebSocket
      never sends; the consumers save the session themselves).

    One layer rather than three: each layer keeps a coroutine frame, and each that
    adds to the scope a copy of it, for the whole life of the socket (≈ 1 KiB of an
    idle socket's memory, docs/performance.md).
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        self._origins = AllowedHostsOriginValidator(application)
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = connection_id_var.set(new_id())
        try:
            origin = None
            cookie = []
            for name, value in scope.get("headers", ()):
                if name == b"origin":
                    try:
                        origin = urlparse(value.decode("latin1"))
                    except (UnicodeDecodeError, ValueError):
                        origin = None
                elif name == b"cookie":
                    cookie.append(value.decode("latin1"))
            if not self._origins.valid_origin(origin):
                message = await receive()
                if message["type"] == "websocket.connect":
                    await send({"type": "websocket.accept"})
                    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
                return None
            cookies = parse_cookie("; ".join(cookie)) if cookie else {}
            session = self.session_store(session_cookie_value(cookies))
            return await self.application(
                {**scope, "cookies": cookies, "session": session}, receive, send
            )
        finally:
            connection_id_var.reset(token)


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy: no inline scripts or styles, own origin only.

    The admin's own pages use a few inline styles, so they get ``style-src
    'unsafe-inline'``; scripts stay locked down everywhere.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        admin = request.path.startswith("/admin/")
        style = "'self' 'unsafe-inline'" if admin else "'self'"
        media = "'self' blob: data: https://res.cloudinary.com"
        response["Content-Security-Policy"] = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                f"style-src {style}",
                f"img-src {media}",
                f"media-src {media}",
                "connect-src 'self'" + _websocket_sources(request),
                "font-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        return response


def _websocket_sources(request: HttpRequest) -> str:
    # 'self' covers ws:/wss: of the same host in current browsers; older ones need it
    # spelled out.
    host = request.get_host()
    scheme = "wss" if request.is_secure() or not settings.DEBUG else "ws"
    return f" {scheme}://{host}"


class LivenessProbeMiddleware:
    """Answers GET/HEAD of the liveness path (``/healthz/``) before anything reads the
    Host header or redirects to HTTPS.

    Platform probes use their own host name over plain HTTP (Railway's is
    ``healthcheck.railway.app``), which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would
    refuse; the answer says only that the process is up, so any host may have it.
    Every other path, ``/health/`` included, goes through the full stack.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == views.LIVENESS_PATH and request.method in (
            "GET",
            "HEAD",
        ):
            return views.liveness(request)
        return self.get_response(request)
