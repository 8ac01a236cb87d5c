"""How long an operator's session lives: SOHBET_OPERATOR_IDLE_MINUTES after their
last activity, where a visitor's keeps SESSION_COOKIE_AGE.

Activity is a request by the signed-in user (``OperatorIdleTimeoutMiddleware``) or
something the operator does on their inbox socket (``note_socket_activity``: a
message, typing, reading, closing or assigning a conversation; not the pings and
syncs a page sends by itself): an inbox left open without anyone at it signs out,
one in use does not. Each push of the deadline is a session write, so it is made at
most once a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.http import HttpRequest, HttpResponse

ACTIVE_AT_SESSION_KEY = "sohbet_active_at"
PUSH_EVERY_SECONDS = 60


def idle_seconds() -> int:
    return int(settings.SOHBET_OPERATOR_IDLE_MINUTES) * 60


def push_idle_deadline(session: SessionBase) -> bool:
    """Make a signed-in session end SOHBET_OPERATOR_IDLE_MINUTES from now, unless it
    was pushed less than a minute ago. Returns whether the session changed (it is
    saved by its middleware, or by the caller)."""
    now = time.time()
    last = session.get(ACTIVE_AT_SESSION_KEY)
    if isinstance(last, int | float) and 0 <= now - last < PUSH_EVERY_SECONDS:
        return False
    session[ACTIVE_AT_SESSION_KEY] = now
    session.set_expiry(idle_seconds())
    return True


class OperatorIdleTimeoutMiddleware:
    """After AuthenticationMiddleware: a signed-in user's request pushes their
    session's idle deadline (and its cookie's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            push_idle_deadline(request.session)
        return response


def note_socket_activity(*, session_key: str) -> None:
    """An operator acted on their inbox socket: push the idle deadline of the
    session stored under ``session_key`` (read afresh, so nothing a page changed in
    it since the socket opened is written back). Nothing for a session that ended."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if session.get(SESSION_KEY) is None:
        return
    if push_idle_deadline(session):
        try:
            session.save()
        except UpdateError:  # deleted meanwhile (signed out): nothing to extend
            pass
