"""The widget's HTTP side: the loader (``/widget.js``), the frame, and the frame's
two calls (a session, an identity), answered with JSON."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import JavaScriptCatalog
from django_ratelimit.core import is_ratelimited

from chat import services, uploads
from chat.appearance import widget_appearance
from chat.exceptions import ChatError
from chat.pages import render_page
from chat.services.identity import identify_visitor
from chat.views import appearance_context, telegram_config
from chat.widget import grants, sites
from realtime import tokens
from realtime.cache import CountersUnavailable
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

LOADER = Path(settings.BASE_DIR) / "static" / "widget" / "loader.js"
LOADER_MAX_AGE = 300  # seconds a browser or CDN keeps /widget.js
MAX_BODY = 4096  # bytes of a session or identify request
SESSION_RATE = "120/m"  # frames loaded, per client IP
IDENTIFY_RATE = "60/m"


@require_safe
def loader(request: HttpRequest) -> HttpResponse:
    """The script a host page includes: the loader with this chat's settings."""
    response = HttpResponse(
        _loader_source().replace("/*CONFIG*/", _js_json(loader_config()), 1),
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE}"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def loader_config() -> dict[str, Any]:
    strings = {}
    for code, _name in settings.LANGUAGES:
        look = widget_appearance(code)
        with translation.override(code):
            strings[code] = {
                "label": look["launcherLabel"],  # empty: an icon only
                "open": _("Open the chat"),
                "close": _("Close the chat"),
                "title": _("Chat"),
                "unread": [
                    ngettext("%(count)s unread message", "%(count)s unread messages", n)
                    for n in (1, 2)
                ],
            }
    look = widget_appearance(settings.LANGUAGE_CODE)
    return {
        "look": {
            "color": look["color"],
            "textColor": look["textColor"],
            "position": "left" if look["position"] == "bottom-left" else "right",
        },
        "frame": reverse("widget-frame"),
        "sites": list(sites.allowed()),
        "languages": [code for code, _name in settings.LANGUAGES],
        "strings": strings,
    }


@cache
def _loader_source() -> str:
    return LOADER.read_text(encoding="utf-8")


def _js_json(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@require_safe
@never_cache
@xframe_options_exempt
def frame(request: HttpRequest) -> HttpResponse:
    """The visitor's conversation, for the allowed sites to frame. It sets no cookie:
    its script asks for a session (``session``) with the token the loader keeps."""
    language = _language(request.GET.get("lang"))
    host = request.GET.get("host", "")
    with translation.override(language):
        page_config = {
            "wsPath": "/ws/chat/",
            "siteName": settings.SOHBET_SITE_NAME,
            "lang": language,
            "widget": {
                "host": host if sites.is_allowed(host) else "",
                "session": reverse("widget-session"),
                "identify": reverse("widget-identify"),
            },
            "devices": {
                "code": reverse("widget-device-code"),
                "redeem": reverse("widget-device-redeem"),
                "signOut": reverse("widget-device-sign-out"),
            },
            **telegram_config("widget-telegram-link"),
            **uploads.client_config(),
        }
        response = render_page(
            request,
            "chat/visitor.html",
            {
                "page_config": page_config,
                "embedded": True,
                "catalog_url": reverse("widget-catalog") + f"?lang={language}",
                **appearance_context(language),
            },
        )
    response.frame_ancestors = sites.frame_ancestors()  # type: ignore[attr-defined]
    return response


def _language(code: str | None) -> str:
    known = [code for code, _name in settings.LANGUAGES]
    if code in known:
        return code
    return translation.get_language() or settings.LANGUAGE_CODE


@require_safe
def catalog(request: HttpRequest) -> HttpResponseBase:
    """The JavaScript catalog in the frame's language (not the browser's)."""
    with translation.override(_language(request.GET.get("lang"))):
        response = JavaScriptCatalog.as_view(packages=["chat"])(request)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@csrf_exempt  # no cookie is read; a JSON body needs a CORS pre-flight, never granted
@require_POST
@never_cache
def session(request: HttpRequest) -> HttpResponse:
    """The frame's visitor: the session its token names (``X-Sohbet-Visitor``,
    chatsite.middleware.VisitorTokenMiddleware) if it still exists, else a new one;
    answered with a fresh token and a media grant."""
    refused = _refused(request, "chat.widget.session", SESSION_RATE)
    if refused is not None:
        return refused
    store = request.session
    # Never the cookie's session (an operator's, maybe): only the one a token named.
    if tokens.HEADER not in request.META or not store.session_key or store.is_empty():
        store = type(store)()
        services.begin_visitor_session(store)
        store.create()
        store.modified = False  # saved by create(), which marks it modified anyway
    headers = request.headers
    conversation = services.open_conversation(
        store,
        locale=translation.get_language() or "",
        user_agent=headers.get("user-agent", ""),
    )
    if store.modified:
        store.save()
    return JsonResponse(
        {
            "token": tokens.sign(store.session_key or ""),
            "grant": grants.grant(conversation.visitor_id),
        }
    )


@csrf_exempt  # the token is in a header: no ambient credential to forge
@require_POST
@never_cache
def identify(request: HttpRequest) -> HttpResponse:
    """What the host site says of the frame's visitor
    (``chat.services.identity``); a rotated session comes back as a new token."""
    refused = _refused(request, "chat.widget.identify", IDENTIFY_RATE)
    if refused is not None:
        return refused
    if not request.session.session_key:
        return _error(
            401, "forbidden", _("This chat session has ended. Reload the page.")
        )
    body = _json_body(request)
    fields = {
        key: body.get(key, "") for key in ("user_id", "email", "name", "user_hash")
    }
    if not all(isinstance(value, str | int) for value in fields.values()):
        return _error(400, "invalid", _("The identity's fields must be text."))
    try:
        result = identify_visitor(
            request.session,
            user_id=str(fields["user_id"]),
            email=str(fields["email"]),
            name=str(fields["name"]),
            hash=str(fields["user_hash"]),
        )
    except ChatError as exc:
        status = 403 if exc.code == "forbidden" else 400
        return _error(status, str(exc.code), str(exc.detail))
    request.session.modified = True
    return JsonResponse(
        {
            "verified": result.verified,
            "token": tokens.sign(request.session.session_key or ""),
            "reconnect": result.rotated,
        }
    )


def _refused(request: HttpRequest, group: str, rate: str) -> HttpResponse | None:
    if request.content_type != "application/json":
        return _error(415, "invalid", _("Send JSON."))
    if len(request.body) > MAX_BODY:
        return _error(413, "too_long", _("The request is too large."))
    try:
        limited = is_ratelimited(
            request, group=group, key=client_key, rate=rate, increment=True
        )
    except CountersUnavailable:
        logger.warning("%s served without its rate limit: Redis unavailable", group)
        limited = False
    if limited:
        return _error(
            429,
            "rate_limited",
            _("Too many requests. Please wait a moment and try again."),
        )
    return None


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "detail": detail}}, status=status)
