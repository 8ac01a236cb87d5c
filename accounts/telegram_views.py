"""The page where a signed-in operator links their Telegram account (the second
factor), unlinks it, and sees their recovery codes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from accounts import selectors, services, telegram
from accounts.codes import hash_link_token
from accounts.exceptions import TelegramUnavailable
from accounts.models import User
from accounts.selectors import LINK_TOKEN_SESSION_KEY, SECOND_FACTOR_SESSION_KEY

logger = logging.getLogger(__name__)

TELEGRAM_PAGE_RATE_PER_USER = "20/h"


@never_cache
@ratelimit(
    group="accounts.telegram.page",
    key="user",
    rate=TELEGRAM_PAGE_RATE_PER_USER,
    method="POST",
)
def telegram_page(request: HttpRequest) -> HttpResponse:
    """The signed-in operator's Telegram link: link, unlink, recovery codes.

    Wrapped by ``admin.site.admin_view`` in accounts/urls.py.
    """
    user = request.user
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Telegram"),
        "subtitle": None,
        "enabled": settings.TELEGRAM_ENABLED,
        "code_ttl_minutes": max(1, settings.SOHBET_LOGIN_CODE_TTL // 60),
    }
    if request.method == "POST" and settings.TELEGRAM_ENABLED:
        action = request.POST.get("action", "")
        if action == "link":
            context.update(_start_linking(request))
        elif action == "unlink":
            services.unlink_telegram(user=user)
            # Other sessions end with the second factor; this one stays signed in.
            update_session_auth_hash(request, cast(User, user))
            request.session.pop(LINK_TOKEN_SESSION_KEY, None)
            messages.success(
                request,
                _(
                    "Your Telegram account is unlinked. You sign in with your "
                    "password alone now."
                ),
            )
            return redirect("accounts:telegram")
        elif action == "recovery-codes" and selectors.get_telegram_link(user=user):
            context["recovery_codes"] = services.issue_recovery_codes(user=user)
        else:
            return redirect("accounts:telegram")
    link = selectors.get_telegram_link(user=user)
    context["link"] = link
    if link is not None and settings.TELEGRAM_ENABLED:
        # The session that made this link (see is_second_factor_satisfied) now holds
        # the same proof as one that entered a code.
        request.session[SECOND_FACTOR_SESSION_KEY] = user.pk
        request.session.pop(LINK_TOKEN_SESSION_KEY, None)
        if "recovery_codes" not in context:
            codes = services.reveal_recovery_codes(user=user)
            if codes is not None:
                context["recovery_codes"] = codes
                context["first_codes"] = True
        context["recovery_code_count"] = selectors.get_unused_recovery_code_count(
            user=user
        )
    elif link is None and "deep_link" not in context:
        token_hash = request.session.get(LINK_TOKEN_SESSION_KEY)
        if token_hash:
            context["waiting_token"] = selectors.get_pending_link_token(
                user=user, token_hash=token_hash
            )
    return TemplateResponse(request, "accounts/telegram.html", context)


def _start_linking(request: HttpRequest) -> dict[str, Any]:
    if selectors.get_telegram_link(user=request.user) is not None:
        return {}
    try:
        bot_username = telegram.get_bot_username()
    except TelegramUnavailable as exc:
        logger.warning("could not reach Telegram for a link: %s", exc.detail)
        messages.error(
            request,
            _(
                "We could not reach Telegram to create your link. Try again in a "
                "minute."
            ),
        )
        return {}
    token = services.issue_link_token(user=request.user)
    request.session[LINK_TOKEN_SESSION_KEY] = hash_link_token(token)
    ttl = settings.SOHBET_LINK_TOKEN_TTL
    return {
        "deep_link": f"https://t.me/{bot_username}?start={token}",
        "bot_username": bot_username,
        "link_expires_at": timezone.now() + timedelta(seconds=ttl),
        "link_ttl_minutes": max(1, ttl // 60),
    }
