"""A sign-in between the password and the code, as this browser's session keeps it:
the pending user and attempt, how long they wait, and the login that ends them. Also
the ``next`` URL the two steps carry along."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.selectors import SECOND_FACTOR_SESSION_KEY

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


def begin_pending_login(request: HttpRequest, *, user: Any) -> str:
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


def clear_pending_login(request: HttpRequest) -> None:
    for key in (
        PENDING_USER_SESSION_KEY,
        PENDING_BACKEND_SESSION_KEY,
        PENDING_AT_SESSION_KEY,
        PENDING_ATTEMPT_SESSION_KEY,
    ):
        request.session.pop(key, None)


def pending_user(request: HttpRequest) -> Any:
    """The user whose password this session entered, if still recent and allowed."""
    user_id = request.session.get(PENDING_USER_SESSION_KEY)
    started_at = request.session.get(PENDING_AT_SESSION_KEY)
    if user_id is None or not isinstance(started_at, int | float):
        return None
    if time.time() - started_at > PENDING_LOGIN_SECONDS:
        clear_pending_login(request)
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active or not user.is_staff:
        clear_pending_login(request)
        return None
    return user


def pending_attempt(request: HttpRequest) -> str:
    return str(request.session.get(PENDING_ATTEMPT_SESSION_KEY, ""))


def finish_login(request: HttpRequest, *, user: Any) -> HttpResponse:
    next_url = safe_next(request)
    backend = request.session.get(
        PENDING_BACKEND_SESSION_KEY, settings.AUTHENTICATION_BACKENDS[0]
    )
    clear_pending_login(request)
    auth_login(request, user, backend=backend)  # cycles the session key
    request.session[SECOND_FACTOR_SESSION_KEY] = user.pk
    return HttpResponseRedirect(next_url)


def safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return reverse("admin:index")


def redirect_with_next(view_name: str, next_url: str) -> HttpResponse:
    url = reverse(view_name)
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    return HttpResponseRedirect(url)
