"""Admin sign-in in two steps (password, then a code from the bot). The page where an
operator links their Telegram account is accounts/telegram_views.py.

Step 1 is ``SohbetAdminSite.login`` (chatsite/admin.py) running ``PasswordLoginView``.
When the second factor is required, a correct password does not sign in: the session
only remembers the pending user for a while, the bot sends a code, and step 2
(``login_code``) or a recovery code (``login_recovery``) completes the login.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage
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
from accounts.selectors import SECOND_FACTOR_SESSION_KEY
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

# Session keys of a sign-in between the password and the code. The code itself is
# never in the session.
PENDING_USER_SESSION_KEY = "sohbet_2fa_pending_user"
PENDING_BACKEND_SESSION_KEY = "sohbet_2fa_pending_backend"
PENDING_AT_SESSION_KEY = "sohbet_2fa_pending_at"
# A random name for this browser's sign-in attempt: the codes sent for it work in
# this session only.
PENDING_ATTEMPT_SESSION_KEY = "sohbet_2fa_attempt"
# How long a correct password waits for its code (a few resends fit in it).
PENDING_LOGIN_SECONDS = 15 * 60

# django-ratelimit rules: "count/period" per key.
LOGIN_RATE_PER_IP = "10/m"
# Wrong passwords for one account, from any number of addresses, per window.
LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURE_WINDOW_MINUTES = 15
CODE_RATE_PER_IP = "10/m"
CODE_RATE_PER_USER = "10/m"
RESEND_RATE_PER_USER = "3/10m"
RESEND_RATE_PER_IP = "10/10m"


def pending_user_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: the user whose password was just accepted."""
    return str(request.session.get(PENDING_USER_SESSION_KEY, "-"))


def account_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: the account a sign-in names, as typed (case-folded)."""
    return str(request.POST.get("username", ""))[:150].casefold()


def _account_failures(request: HttpRequest, *, increment: bool) -> int:
    """Wrong passwords counted for the account this sign-in names (one more with
    ``increment``), in the current window."""
    usage = get_usage(
        request,
        group="accounts.login.password.account",
        key=account_key,
        rate=f"{LOGIN_FAILURES_PER_ACCOUNT}/{LOGIN_FAILURE_WINDOW_MINUTES}m",
        method="POST",
        increment=increment,
    )
    return int(usage["count"]) if usage else 0


password_step_ratelimit = ratelimit(
    group="accounts.login.password",
    key=client_key,
    rate=LOGIN_RATE_PER_IP,
    method="POST",
)


# --- Step 1: password -----------------------------------------------------------------


class PasswordLoginView(LoginView):
    """Django's login view, except that a user who needs a second factor is not
    signed in yet: a code is sent and the browser goes on to step 2."""

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Checked before the password is: hashing it is the work this protects.
        named = account_key("", request)
        if named and _account_failures(request, increment=False) >= (
            LOGIN_FAILURES_PER_ACCOUNT
        ):
            return self._account_locked(request)
        return super().post(request, *args, **kwargs)

    def _account_locked(self, request: HttpRequest) -> HttpResponse:
        messages.error(
            request,
            _(
                "Too many wrong passwords were entered for this account. Wait "
                "%(minutes)s minutes and try again."
            )
            % {"minutes": LOGIN_FAILURE_WINDOW_MINUTES},
        )
        # An unbound form: validating the posted one would check the password.
        form = self.get_form_class()(
            request, initial={"username": request.POST.get("username", "")}
        )
        return self.render_to_response(self.get_context_data(form=form), status=429)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if account_key("", self.request):
            _account_failures(self.request, increment=True)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not selectors.is_second_factor_required(user=user):
            return super().form_valid(form)
        request = self.request
        attempt = _begin_pending_login(request, user=user)
        try:
            services.issue_login_code(user=user, attempt=attempt)
        except SecondFactorNotAvailable:
            # Unlinked between the two reads: the password is all there is.
            _clear_pending_login(request)
            return super().form_valid(form)
        except LoginCodeCooldown as exc:
            if selectors.has_usable_login_code(user=user, attempt=attempt):
                messages.info(
                    request,
                    _("A code was sent to your Telegram moments ago: enter it here."),
                )
            else:
                messages.warning(request, str(exc))
        except LoginCodesExhausted as exc:
            messages.error(request, str(exc))
        except TelegramUnavailable as exc:
            logger.warning(
                "could not send a login code to operator %s: %s", user.pk, exc.detail
            )
            messages.error(request, str(exc))
        return _redirect_with_next("accounts:login-code", self.get_redirect_url() or "")


def _begin_pending_login(request: HttpRequest, *, user: Any) -> str:
    """Remember the user whose password this session entered; returns the new
    sign-in attempt's name, which the codes sent for it are bound to."""
    if request.user.is_authenticated and request.user.pk != user.pk:
        auth_logout(request)  # another account's session ends here
    request.session.cycle_key()
    attempt = secrets.token_urlsafe(24)
    request.session[PENDING_USER_SESSION_KEY] = user.pk
    request.session[PENDING_BACKEND_SESSION_KEY] = getattr(
        user, "backend", settings.AUTHENTICATION_BACKENDS[0]
    )
    request.session[PENDING_AT_SESSION_KEY] = time.time()
    request.session[PENDING_ATTEMPT_SESSION_KEY] = attempt
    return attempt


def _clear_pending_login(request: HttpRequest) -> None:
    for key in (
        PENDING_USER_SESSION_KEY,
        PENDING_BACKEND_SESSION_KEY,
        PENDING_AT_SESSION_KEY,
        PENDING_ATTEMPT_SESSION_KEY,
    ):
        request.session.pop(key, None)


def _pending_user(request: HttpRequest) -> Any:
    """The user whose password this session entered, if still recent and allowed."""
    user_id = request.session.get(PENDING_USER_SESSION_KEY)
    started_at = request.session.get(PENDING_AT_SESSION_KEY)
    if user_id is None or not isinstance(started_at, int | float):
        return None
    if time.time() - started_at > PENDING_LOGIN_SECONDS:
        _clear_pending_login(request)
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active or not user.is_staff:
        _clear_pending_login(request)
        return None
    return user


def _pending_attempt(request: HttpRequest) -> str:
    return str(request.session.get(PENDING_ATTEMPT_SESSION_KEY, ""))


def _finish_login(request: HttpRequest, *, user: Any) -> HttpResponse:
    next_url = _safe_next(request)
    backend = request.session.get(
        PENDING_BACKEND_SESSION_KEY, settings.AUTHENTICATION_BACKENDS[0]
    )
    _clear_pending_login(request)
    auth_login(request, user, backend=backend)  # cycles the session key
    request.session[SECOND_FACTOR_SESSION_KEY] = user.pk
    return HttpResponseRedirect(next_url)


# --- Step 2: the code, a new code, or a recovery code ---------------------------------


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
    user = _pending_user(request)
    if user is None:
        return _restart_login(request)
    attempt = _pending_attempt(request)
    form = LoginCodeForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            if services.verify_login_code(
                user=user, attempt=attempt, code=form.cleaned_data["code"]
            ):
                return _finish_login(request, user=user)
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
    user = _pending_user(request)
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
            services.issue_login_code(user=user, attempt=_pending_attempt(request))
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
    return _redirect_with_next("accounts:login-code", _safe_next(request))


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
    user = _pending_user(request)
    if user is None:
        return _restart_login(request)
    form = RecoveryCodeForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if services.use_recovery_code(user=user, code=form.cleaned_data["code"]):
            response = _finish_login(request, user=user)
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
    next_url = _safe_next(request)
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
    return _redirect_with_next("admin:login", _safe_next(request))


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return reverse("admin:index")


def _redirect_with_next(view_name: str, next_url: str) -> HttpResponse:
    url = reverse(view_name)
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    return HttpResponseRedirect(url)
