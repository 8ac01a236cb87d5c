from __future__ import annotations

import logging

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from chat import selectors, services, uploads
from chat.models import DEFAULT_COLOR
from chat.pages import render_page
from chat.push.release import push_config
from realtime.cache import CountersUnavailable
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

VISITOR_PAGE_RATE = "120/m"  # per client IP (django-ratelimit rate)


@require_safe
@never_cache
def visitor_page(request: HttpRequest) -> HttpResponse:
    """The chat page. Makes sure the browser has a session: the socket's identity.

    Rate-limited per client IP, failing open: while the counters (Redis) cannot be
    reached the page is served, since it is the way to the conversation and costs a
    session row at most.
    """
    try:
        limited = is_ratelimited(
            request,
            group="chat.views.visitor_page",
            key=client_key,
            rate=VISITOR_PAGE_RATE,
            increment=True,
        )
    except CountersUnavailable:
        logger.warning("chat page served without its rate limit: Redis unavailable")
        limited = False
    if limited:
        raise Ratelimited()
    if request.method == "GET":  # a HEAD (an uptime monitor) starts no session
        request.session.setdefault("sohbet_started_at", timezone.now().isoformat())
        services.begin_visitor_session(request.session)
    page_config = {
        "wsPath": "/ws/chat/",
        "siteName": settings.SOHBET_SITE_NAME,
        "lang": get_language(),
        "devices": {
            "code": reverse("device-code"),
            "redeem": reverse("device-redeem"),
            "signOut": reverse("device-sign-out"),
        },
        **telegram_config("telegram-link"),
        **uploads.client_config(),
        "push": push_config(operator=False),
    }
    get_token(request)  # the CSRF cookie that uploads send back
    return render_page(
        request,
        "chat/visitor.html",
        {"page_config": page_config, **appearance_context(get_language())},
    )


def telegram_config(url_name: str) -> dict[str, object]:
    """ "Continue in Telegram" (telegram_bridge.visitor_views), when it is on."""
    if not settings.TELEGRAM_VISITOR_CHATS:
        return {}
    return {"telegram": {"link": reverse(url_name)}}


def appearance_context(language: str | None) -> dict[str, object]:
    """What templates/chat/visitor.html shows of the appearance set in the admin:
    ``appearance`` (chat.selectors.widget_appearance) and ``theme_css``, the URL of
    the colour's style sheet (None for the default colour, visitor.css's own)."""
    appearance = selectors.widget_appearance(language)
    color = appearance["color"]
    return {
        "appearance": appearance,
        "theme_css": (
            None if color == DEFAULT_COLOR else reverse("theme-css", args=[color[1:]])
        ),
    }


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says."""
    return HttpResponsePermanentRedirect(static("icons/icon.svg"))


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer when a view's limit is exceeded."""
    return HttpResponse(
        _("Too many requests. Please wait a moment and try again."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
