"""Sohbet's sessions: the engine, and the cookie names.

The engine is Django's ``cached_db``, except that deleting a session (a sign-out's
flush, a key rotated by ``cycle_key``, an explicit ``delete``) sends
``rights.changed`` to the sockets opened with it, in every web process, after
commit: they close, reconnect with whatever the browser holds now and are checked
again. Sessions deleted behind the engine's back (a bulk delete in the database) are
found by the operator sockets' check on each ping.

In production the session and CSRF cookies are named ``__Host-…`` (settings): the
browser then takes them only from this host over HTTPS, so no sibling subdomain can
plant one. ``LegacySessionCookieMiddleware`` adopts a session cookie from before that
name, once, under a new key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import get_random_string

from chat import events
from realtime import Event, send_now, send_on_commit
from realtime.middleware import LEGACY_CSRF_COOKIE, LEGACY_SESSION_COOKIE


class SessionStore(CachedDbStore):
    def _get_new_session_key(self) -> str:
        # No look-up first (a cache read and a query per new session): a new session
        # is inserted with must_create, whose unique key refuses a taken one, and
        # create() draws again.
        return get_random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        super().delete(session_key)
        if key and not _on_an_event_loop():
            send_on_commit(_deleted(key))

    async def adelete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        await super().adelete(session_key)
        if key:
            await send_now(_deleted(key))


def _deleted(key: str) -> Event:
    return events.session_event(events.session_group(key), events.RIGHTS_CHANGED)


def _on_an_event_loop() -> bool:
    """Whether this synchronous call runs on a thread whose event loop is running
    (sync code inside a coroutine, as browser-driving tests do): no blocking send
    from there; the sockets' ping check finds the deletion instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class LegacySessionCookieMiddleware:
    """Adopts a session cookie named as before the ``__Host-`` names: its session is
    kept under a new key (``chat.sessions.rotate_session``: whoever else knew the
    old key is left out), the response sets the new cookie and clears the old ones.
    Between SessionMiddleware and AuthenticationMiddleware; does nothing when the
    names did not change (development)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.renamed = settings.SESSION_COOKIE_NAME != LEGACY_SESSION_COOKIE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        legacy = request.COOKIES.get(LEGACY_SESSION_COOKIE) if self.renamed else None
        if legacy and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            self._adopt(request, legacy)
        response = self.get_response(request)
        if legacy:
            response.delete_cookie(LEGACY_SESSION_COOKIE)
            if LEGACY_CSRF_COOKIE in request.COOKIES:
                response.delete_cookie(LEGACY_CSRF_COOKIE)
        return response

    def _adopt(self, request: HttpRequest, key: str) -> None:
        from chat.sessions import rotate_session

        session = import_module(settings.SESSION_ENGINE).SessionStore(key)
        if not session.keys():  # unknown or expired: the new name starts afresh
            return
        request.session = session
        rotate_session(request)
