"""The site's HTTP middleware: a strict Content-Security-Policy, and the answer to a
platform's liveness probe before host validation."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from chatsite import views


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
