""" "Continue in Telegram" over HTTP: the conversation's call that makes the
visitor's one-time ``t.me/<bot>?start=v_…`` link, at ``/telegram/link/`` for the
chat page (cookie session, CSRF) and ``/widget/telegram/link/`` for the widget's
frame (its token's session), rate-limited as the device calls are."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import telegram
from accounts.exceptions import TelegramUnavailable
from chat.device_views import _error, _refused
from chat.exceptions import ChatError, ErrorCode
from telegram_bridge import selectors, visitor_services

logger = logging.getLogger(__name__)


@require_POST
@never_cache
def issue_link(request: HttpRequest) -> HttpResponse:
    """A new deep link to the bot for this browser's visitor."""
    if not settings.TELEGRAM_VISITOR_CHATS:
        return _error(ChatError(ErrorCode.NOT_FOUND, _("Telegram is not set up.")))
    refused = _refused(request)
    if refused is not None:
        return refused
    username = bot_username()
    if not username:
        return _error(
            ChatError(
                ErrorCode.RATE_LIMITED,
                _("Telegram cannot be reached right now. Please try again later."),
            ),
            503,
        )
    try:
        token = visitor_services.issue_link_token(request.session)
    except ChatError as exc:
        return _error(exc)
    return JsonResponse(
        {
            "url": f"https://t.me/{username}?start={token}",
            "expires_in": int(visitor_services.TOKEN_LIFETIME.total_seconds()),
        }
    )


def bot_username() -> str:
    """The bot's username as the bridge recorded it, else from Telegram ("" when
    neither answers)."""
    state = selectors.get_state()
    if state is not None and state.bot_username:
        return state.bot_username
    try:
        return telegram.get_bot_username()
    except TelegramUnavailable as exc:
        logger.warning("bot username unknown: %s", exc)
        return ""
