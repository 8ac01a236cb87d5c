"""Push over HTTP: the service workers (the inbox's and the chat page's), the
offline page they fall back to, and the JSON calls that store a browser's
subscription (an operator's, a visitor's) and an operator's choices."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from chat.models import PushPreferences, PushSubscription, Visitor
from chat.push import release, services
from chat.push.subscriptions import InvalidSubscription, parse_subscription
from chat.services.visitors import VISITOR_SESSION_KEY
from realtime.cache import CountersUnavailable
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

MAX_BODY = 4096
SUBSCRIBE_RATE = "20/m"  # per client IP


@require_GET
def service_worker(request: HttpRequest, *, scope: str) -> HttpResponse:
    """The service worker of ``scope`` ("inbox" or "visitor"), named for the
    release (its caches are), never cached by HTTP: the browser compares it with
    what it runs at each navigation and installs a changed one."""
    config = release.worker_config(scope)
    response = render(
        request,
        "chat/service-worker.js",
        {"config": json.dumps(config)},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = config["scope"]
    return response


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """What a navigation shows when the network is gone (cached by the workers at
    install, in the language of the browser's session)."""
    return render(request, "chat/offline.html")


def _limited(request: HttpRequest) -> bool:
    try:
        return is_ratelimited(
            request,
            group="chat.push.subscribe",
            key=client_key,
            rate=SUBSCRIBE_RATE,
            increment=True,
        )
    except CountersUnavailable:
        logger.warning("push subscription without its rate limit: Redis unavailable")
        return False


def _json(request: HttpRequest) -> Any:
    if len(request.body) > MAX_BODY:
        raise InvalidSubscription(_("This request is too large."))
    try:
        return json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidSubscription(_("This request is not valid JSON.")) from None


def _error(status: int, text: str) -> JsonResponse:
    return JsonResponse({"error": text}, status=status)


def _subscription(
    request: HttpRequest, *, operator_id: int | None, visitor_id: int | None
) -> HttpResponse:
    if not settings.SOHBET_PUSH_ENABLED:
        return _error(404, _("Notifications are not set up on this site."))
    if _limited(request):
        return _error(429, _("Too many requests. Please wait a little."))
    try:
        data = _json(request)
        info = parse_subscription(data.get("subscription") if data else None)
    except InvalidSubscription as exc:
        return _error(400, str(exc))
    if request.method == "DELETE":
        services.unsubscribe(
            endpoint=info.endpoint, operator_id=operator_id, visitor_id=visitor_id
        )
        return JsonResponse({"subscribed": False})
    services.subscribe(
        info=info,
        operator_id=operator_id,
        visitor_id=visitor_id,
        user_agent=request.headers.get("user-agent", ""),
        language=translation.get_language() or "",
    )
    return JsonResponse({"subscribed": True}, status=201)


@require_http_methods(["POST", "DELETE"])
@never_cache
def operator_subscription(request: HttpRequest) -> HttpResponse:
    """Store (POST) or forget (DELETE) this browser's subscription for the
    signed-in operator (admin_view in chatsite.urls: staff, second factor):
    ``{"subscription": PushSubscription.toJSON()}``."""
    return _subscription(request, operator_id=request.user.pk, visitor_id=None)


@require_http_methods(["POST", "DELETE"])
@never_cache
def visitor_subscription(request: HttpRequest) -> HttpResponse:
    """The same for the session's visitor, once their conversation exists (a
    reply is what they are told of)."""
    if not settings.SOHBET_PUSH_ENABLED:
        return _error(404, _("Notifications are not set up on this site."))
    visitor_id = request.session.get(VISITOR_SESSION_KEY)
    if visitor_id is None or not Visitor.objects.filter(pk=visitor_id).exists():
        return _error(409, _("Send a message first."))
    return _subscription(request, operator_id=None, visitor_id=visitor_id)


@require_http_methods(["GET", "POST"])
@never_cache
def preferences(request: HttpRequest) -> HttpResponse:
    """The operator's push choices: GET reads them, POST stores
    ``{new_conversations, messages, mentions, quiet_from, quiet_until,
    time_zone}`` (times "HH:MM" or "")."""
    user_id = int(request.user.pk or 0)
    if request.method == "POST":
        try:
            data = _json(request)
            fields = _preferences_fields(data)
        except (InvalidSubscription, ValueError, TypeError) as exc:
            return _error(400, str(exc))
        services.save_preferences(operator_id=user_id, **fields)
    saved = PushPreferences.objects.filter(operator_id=user_id).first()
    saved = saved or PushPreferences(operator_id=user_id)
    return JsonResponse(
        {
            "new_conversations": saved.new_conversations,
            "messages": saved.messages,
            "mentions": saved.mentions,
            "quiet_from": _hhmm(saved.quiet_from),
            "quiet_until": _hhmm(saved.quiet_until),
            "time_zone": saved.time_zone,
            "devices": PushSubscription.objects.filter(operator_id=user_id).count(),
        }
    )


def _preferences_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(_("This request is not valid JSON."))
    flags = {
        name: bool(data.get(name, True))
        for name in ("new_conversations", "messages", "mentions")
    }
    return {
        **flags,
        "quiet_from": _time(data.get("quiet_from")),
        "quiet_until": _time(data.get("quiet_until")),
        "time_zone": str(data.get("time_zone") or "")[:64],
    }


def _time(value: Any) -> dt.time | None:
    if value in (None, ""):
        return None
    try:
        return dt.time.fromisoformat(str(value)[:8])
    except ValueError:
        raise ValueError(_("Enter a time as HH:MM.")) from None


def _hhmm(value: dt.time | None) -> str:
    return value.strftime("%H:%M") if value else ""
