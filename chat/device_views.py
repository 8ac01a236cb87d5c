"""Continue on another device over HTTP (chat.services.devices): the page that takes
a code (``/continue/``), and the conversation's calls to show a code, enter one and
sign this browser out. The calls answer JSON at ``/device/…`` for the chat page
(cookie session, CSRF) and at ``/widget/device/…`` for the widget's frame (its
token's session, chatsite.middleware.VisitorTokenMiddleware; a rotated session
comes back as a new token)."""

from __future__ import annotations

import json
import logging

import segno
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from chat import services
from chat.exceptions import ChatError, ErrorCode
from chat.services.devices import CODE_LIFETIME, client_key_of, display_code
from realtime import tokens
from realtime.cache import CountersUnavailable
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

DEVICE_RATE = "30/m"  # calls per client IP (the services hold the real limits)
MAX_BODY = 1024
STATUS = {
    ErrorCode.INVALID: 400,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RATE_LIMITED: 429,
}


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def continue_page(request: HttpRequest) -> HttpResponse:
    """The other device's way in: a form for the code (a QR code's link fills it
    from the address's fragment, continue.js). A right code attaches this browser
    and lands on the conversation; a wrong one says why and changes nothing."""
    error: ChatError | None = None
    if request.method == "POST":
        error = _limited(request)
        if error is None:
            try:
                services.redeem_device_code(
                    request.session,
                    code=request.POST.get("code", "")[:64],
                    client_key=_client(request),
                )
            except ChatError as exc:
                error = exc
            else:
                return redirect("visitor-page")
    return render(
        request,
        "chat/continue.html",
        {
            "error": "" if error is None else str(error.detail),
            "code": request.POST.get("code", "")[:16],
        },
        status=200 if error is None else STATUS.get(error.code, 400),
    )


@require_POST
@never_cache
def issue_code(request: HttpRequest) -> HttpResponse:
    """A new code for this browser's visitor, its link and the link's QR code."""
    refused = _refused(request)
    if refused is not None:
        return refused
    try:
        issued = services.issue_device_code(
            request.session, client_key=_client(request)
        )
    except ChatError as exc:
        return _error(exc)
    link = request.build_absolute_uri(reverse("continue")) + "#" + issued.code
    return JsonResponse(
        {
            "code": display_code(issued.code),
            "link": link,
            "qr": qr_data_uri(link),
            "expires_in": int(CODE_LIFETIME.total_seconds()),
        }
    )


@require_POST
@never_cache
def redeem_code(request: HttpRequest) -> HttpResponse:
    """Attach this browser to the visitor whose code is ``{"code": …}``."""
    refused = _refused(request)
    if refused is not None:
        return refused
    code = request.POST.get("code") or _json_code(request)
    try:
        services.redeem_device_code(
            request.session, code=code, client_key=_client(request)
        )
    except ChatError as exc:
        return _error(exc)
    return _done(request)


@require_POST
@never_cache
def sign_out(request: HttpRequest) -> HttpResponse:
    """This browser forgets its visitor; its sockets reconnect into a new chat."""
    refused = _refused(request)
    if refused is not None:
        return refused
    services.sign_out_device(request.session)
    return _done(request)


def qr_data_uri(link: str) -> str:
    """The QR code of a link as an SVG ``data:`` URI (black on white, whatever the
    page's colours: scanners want dark on light)."""
    qr = segno.make(link, error="m")
    return str(qr.svg_data_uri(scale=4, border=4, dark="#000", light="#fff"))


def _refused(request: HttpRequest) -> HttpResponse | None:
    """A widget call without its token (never the cookie's session there), or a
    client over the rate."""
    widget = request.path_info.startswith("/widget/")
    if widget and tokens.HEADER not in request.META:
        return _error(
            ChatError(ErrorCode.FORBIDDEN, _("This chat session has ended.")), 401
        )
    if len(request.body) > MAX_BODY:
        return _error(ChatError(ErrorCode.TOO_LONG, _("The request is too large.")))
    limited = _limited(request)
    return None if limited is None else _error(limited)


def _limited(request: HttpRequest) -> ChatError | None:
    try:
        limited = is_ratelimited(
            request,
            group="chat.device_views",
            key=client_key,
            rate=DEVICE_RATE,
            increment=True,
        )
    except CountersUnavailable:  # the services' own limits are in the database
        logger.warning("device codes served without the HTTP rate: Redis unavailable")
        limited = False
    if limited:
        return ChatError(
            ErrorCode.RATE_LIMITED,
            _("Too many requests. Please wait a moment and try again."),
        )
    return None


def _client(request: HttpRequest) -> str:
    return client_key_of(client_key(None, request))


def _json_code(request: HttpRequest) -> str:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code[:64] if isinstance(code, str) else ""


def _done(request: HttpRequest) -> JsonResponse:
    answer: dict[str, object] = {"ok": True}
    if tokens.HEADER in request.META:  # the widget's frame takes its new token
        request.session.modified = True
        answer["token"] = tokens.sign(request.session.session_key or "")
    return JsonResponse(answer)


def _error(exc: ChatError, status: int | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": str(exc.code), "detail": str(exc.detail)}},
        status=status or STATUS.get(exc.code, 400),
    )
