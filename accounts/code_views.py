"""Step 2 of the admin sign-in: the code the bot sent, a new code, or a recovery
code instead. Each page needs a password accepted by step 1
(accounts/password_views.py) a short while ago in this session."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from accounts import selectors, services
from accounts.exceptions import (
    LoginCodeCooldown,
    LoginCodesExhausted,
    LoginCodesPaused,
    SecondFactorNotAvailable,
    TelegramUnavailable,
)
from accounts.forms import LoginCodeForm, RecoveryCodeForm
from accounts.pending_login import (
    PENDING_USER_SESSION_KEY,
    finish_login,
    pending_attempt,
    pending_user,
    redirect_with_next,
    safe_next,
)
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

# django-ratelimit rules: "count/period" per key.
CODE_RATE_PER_IP = "10/m"
CODE_RATE_PER_USER = "10/m"
RESEND_RATE_PER_USER = "3/10m"
RESEND_RATE_PER_IP = "10/10m"


def pending_user_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: the user whose password was just accepted."""
    return str(request.session.get(PENDING_USER_SESSION_KEY, "-"))


@never_cache
@sensitive_post_parameters("code")
@ratelimit(
    group="accounts.login.code.ip", key=client_key, rate=CODE_RATE_PER_IP, method="POST"
)
@ratelimit(
    group="accounts.login.code.user",
    key=pending_user_key,
    rate=CODE_RATE_PER_USER,
    method="POST",
)
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the six-digit code the bot sent."""
    user = pending_user(request)
    if user is None:
        return _restart_login(request)
    attempt = pending_attempt(request)
    form = LoginCodeForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            if services.verify_login_code(
                user=user, attempt=attempt, code=form.cleaned_data["code"]
            ):
                return finish_login(request, user=user)
            error = _wrong_code_message(user=user, attempt=attempt)
        except LoginCodesPaused as exc:
            error = str(exc)
        # A fresh form: the wrong code is not echoed back into the page.
        form = LoginCodeForm()
    link = selectors.get_telegram_link(user=user)
    return _second_step_page(
        request,
        "accounts/login_code.html",
        form=form,
        title=_("Enter your code"),
        extra={
            "error": error,
            "telegram_username": link.telegram_username if link else "",
            "resend_wait": selectors.get_login_code_cooldown_seconds(user=user),
        },
    )


def _wrong_code_message(*, user: Any, attempt: str) -> str:
    if selectors.has_usable_login_code(user=user, attempt=attempt):
        return _(
            "That code is not right. Check the latest message from the bot and try "
            "again."
        )
    return _(
        "This code can no longer be used: it has expired, was already used or was "
        "tried too many times. Ask for a new code."
    )


@require_POST
@never_cache
@ratelimit(
    group="accounts.login.resend.ip",
    key=client_key,
    rate=RESEND_RATE_PER_IP,
    method="POST",
    block=False,
)
@ratelimit(
    group="accounts.login.resend.user",
    key=pending_user_key,
    rate=RESEND_RATE_PER_USER,
    method="POST",
    block=False,
)
def login_code_resend(request: HttpRequest) -> HttpResponse:
    """ "Send a new code" on step 2."""
    user = pending_user(request)
    if user is None:
        return _restart_login(request)
    if getattr(request, "limited", False):
        messages.error(
            request,
            _(
                "Too many new codes were asked for. Wait a few minutes, or use a "
                "recovery code."
            ),
        )
    else:
        try:
            services.issue_login_code(user=user, attempt=pending_attempt(request))
        except (LoginCodeCooldown, SecondFactorNotAvailable) as exc:
            messages.warning(request, str(exc))
        except LoginCodesExhausted as exc:
            messages.error(request, str(exc))
        except TelegramUnavailable as exc:
            logger.warning(
                "could not send a login code to operator %s: %s", user.pk, exc.detail
            )
            messages.error(request, str(exc))
        else:
            messages.success(request, _("A new code is on its way to your Telegram."))
    return redirect_with_next("accounts:login-code", safe_next(request))


@never_cache
@sensitive_post_parameters("code")
@ratelimit(
    group="accounts.login.recovery.ip",
    key=client_key,
    rate=CODE_RATE_PER_IP,
    method="POST",
)
@ratelimit(
    group="accounts.login.recovery.user",
    key=pending_user_key,
    rate=CODE_RATE_PER_USER,
    method="POST",
)
def login_recovery(request: HttpRequest) -> HttpResponse:
    """Step 2 without Telegram: one of the recovery codes shown at linking."""
    user = pending_user(request)
    if user is None:
        return _restart_login(request)
    form = RecoveryCodeForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if services.use_recovery_code(user=user, code=form.cleaned_data["code"]):
            response = finish_login(request, user=user)
            left = selectors.get_unused_recovery_code_count(user=user)
            messages.warning(
                request,
                ngettext(
                    "You signed in with a recovery code; %(count)s is left. Make "
                    "new ones on the Telegram page if you are running short.",
                    "You signed in with a recovery code; %(count)s are left. Make "
                    "new ones on the Telegram page if you are running short.",
                    left,
                )
                % {"count": left},
            )
            return response
        form = RecoveryCodeForm()
        error = _("That recovery code is not valid or was already used.")
    return _second_step_page(
        request,
        "accounts/login_recovery.html",
        form=form,
        title=_("Use a recovery code"),
        extra={"error": error},
    )


def _second_step_page(
    request: HttpRequest,
    template: str,
    *,
    form: Any,
    title: str,
    extra: dict[str, Any],
) -> HttpResponse:
    next_url = safe_next(request)
    context = {
        **admin.site.each_context(request),
        "title": title,
        "subtitle": None,
        "form": form,
        "next": next_url,
        "next_query": urlencode({"next": next_url}),
        **extra,
    }
    return TemplateResponse(request, template, context)


def _restart_login(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Please sign in again."))
    return redirect_with_next("admin:login", safe_next(request))
