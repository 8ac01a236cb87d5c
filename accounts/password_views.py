"""Step 1 of the admin sign-in: the password, and its rate limits.

``SohbetAdminSite.login`` (chatsite/admin.py) runs ``PasswordLoginView``. When the
second factor is required, a correct password does not sign in: the session only
remembers the pending user for a while (accounts/pending_login.py), the bot sends a
code, and step 2 (accounts/code_views.py) completes the login.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit

from accounts import selectors, services
from accounts.exceptions import (
    LoginCodeCooldown,
    LoginCodesExhausted,
    SecondFactorNotAvailable,
    TelegramUnavailable,
)
from accounts.pending_login import (
    begin_pending_login,
    clear_pending_login,
    redirect_with_next,
)
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

# django-ratelimit rules: "count/period" per key.
LOGIN_RATE_PER_IP = "10/m"
# Wrong passwords for one account, from any number of addresses, per window.
LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURE_WINDOW_MINUTES = 15


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
        attempt = begin_pending_login(request, user=user)
        try:
            services.issue_login_code(user=user, attempt=attempt)
        except SecondFactorNotAvailable:
            # Unlinked between the two reads: the password is all there is.
            clear_pending_login(request)
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
        return redirect_with_next("accounts:login-code", self.get_redirect_url() or "")
