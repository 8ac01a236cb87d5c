from __future__ import annotations

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from chatsite.clientip import client_ip


@require_GET
@never_cache
@ratelimit(key=client_ip, rate="120/m", block=True)
def visitor_page(request: HttpRequest) -> HttpResponse:
    """The chat page. Makes sure the browser has a session: the socket's identity."""
    request.session.setdefault("sohbet_started_at", timezone.now().isoformat())
    page_config = {
        "wsPath": "/ws/chat/",
        "siteName": settings.SOHBET_SITE_NAME,
        "lang": get_language(),
    }
    return render(request, "chat/visitor.html", {"page_config": page_config})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says."""
    return HttpResponsePermanentRedirect(static("icons/icon.svg"))


@require_GET
@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """Touches nothing external: the process answers HTTP."""
    return JsonResponse({"status": "ok"})


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer when a view's limit is exceeded."""
    return HttpResponse(
        _("Too many requests. Please wait a moment and try again."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
