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

CLOSE_FORBIDDEN = 4403


class WebSocketOriginValidator:
    """Django's ALLOWED_HOSTS applied to the WebSocket ``Origin`` header.

    Unlike Channels' validator (which rejects the handshake, so a browser only sees
    1006), this one accepts and closes with 4403, as docs/protocol.md promises.
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        self._validator = AllowedHostsOriginValidator(application)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origin = None
        for name, value in scope.get("headers", []):
            if name == b"origin":
                try:
                    origin = urlparse(value.decode("latin1"))
                except (UnicodeDecodeError, ValueError):
                    origin = None
        if self._validator.valid_origin(origin):
            return await self.application(scope, receive, send)
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})


class WebSocketSessionMiddleware:
    """``scope["cookies"]`` and ``scope["session"]`` (loaded on first use) for the
    WebSocket consumers.

    What Channels' ``SessionMiddlewareStack`` gives them, in one layer instead of two:
    one copy of the scope per socket instead of two, and no wrapper around every
    frame sent (Channels' saves a modified session on an HTTP response, which a
    WebSocket never sends; the consumers save the session themselves).
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        header = "; ".join(
            value.decode("latin1")
            for name, value in scope.get("headers", ())
            if name == b"cookie"
        )
        cookies = parse_cookie(header) if header else {}
        session = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        return await self.application(
            {**scope, "cookies": cookies, "session": session}, receive, send
        )


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
