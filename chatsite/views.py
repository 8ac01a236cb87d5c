"""Liveness and health: what platforms and monitors poll."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.core import is_ratelimited

from chatsite.health import get_report
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz/"


@require_safe
@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """Touches nothing external: the process answers HTTP. For a platform's restart
    policy and deploy probe (served before host checks: see
    chatsite.middleware.LivenessProbeMiddleware)."""
    return JsonResponse({"status": "ok"})


def _health_rate(group: str, request: HttpRequest) -> str:
    return str(settings.SOHBET_HEALTH_RATE)


@require_safe
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Readiness of this process and what it depends on, as JSON (see
    chatsite.health): 200 when every required check passes, 503 naming the failing
    ones, 429 beyond SOHBET_HEALTH_RATE per client IP."""
    if _is_rate_limited(request):
        return JsonResponse(
            {
                "status": "rate_limited",
                "detail": _("Too many requests. Please wait a moment and try again."),
            },
            status=429,
        )
    status, body = get_report()
    return JsonResponse(body, status=status)


def _is_rate_limited(request: HttpRequest) -> bool:
    # The counters live in the cache, which may be the very thing that is down: then
    # the health URL answers (fail open) and reports it.
    try:
        limited: Any = is_ratelimited(
            request,
            group="chatsite.health",
            key=client_key,
            rate=_health_rate,
            increment=True,
        )
    except Exception as exc:
        logger.warning("health rate limit not counted: %s", type(exc).__name__)
        return False
    return bool(limited)
