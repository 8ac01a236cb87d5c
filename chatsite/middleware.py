"""The site's HTTP middleware: a strict Content-Security-Policy, the answer to a
platform's liveness probe before host validation, and the widget's visitor token."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from chatsite import views
from realtime import tokens


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy: no inline scripts or styles, own origin only.

    The admin's own pages use a few inline styles, so they get ``style-src
    'unsafe-inline'``; scripts stay locked down everywhere.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            # A page that may be framed names who may frame it (the widget's frame).
            ancestors = getattr(response, "frame_ancestors", "'none'")
            response["Content-Security-Policy"] = content_security_policy(
                request, ancestors
            )
        return response


def content_security_policy(
    request: HttpRequest, frame_ancestors: str = "'none'"
) -> str:
    """The policy of a page; ``frame_ancestors``: who may frame it (the widget's
    frame: the allowed sites)."""
    admin = request.path.startswith("/admin/")
    style = "'self' 'unsafe-inline'" if admin else "'self'"
    media = "'self' blob: data: https://res.cloudinary.com"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style}",
            f"img-src {media}",
            f"media-src {media}",
            "connect-src 'self'" + _websocket_sources(request),
            "font-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


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


class VisitorTokenMiddleware:
    """A request carrying ``X-Sohbet-Visitor`` (the widget's frame, where the browser
    may keep no third-party cookie) is the session its token names, not the cookie's
    (``realtime.tokens``). It needs no CSRF token: the header is no ambient credential
    (a page elsewhere cannot set it without CORS, which is not granted). The session,
    if changed, is saved here; the cookie's stays untouched and no cookie is set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    PATHS = ("/widget/", "/api/uploads/")  # where a visitor token is taken

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request.META.get(tokens.HEADER)
        if token is None or not request.path_info.startswith(self.PATHS):
            return self.get_response(request)
        cookie_session = request.session
        session = self.session_store(tokens.session_key(token))
        request.session = session
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
            if session.modified and session.session_key and not session.is_empty():
                session.save()
        finally:
            request.session = cookie_session
        return response
