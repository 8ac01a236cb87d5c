"""Rotating a browser session's key when the session gains rights.

A key someone else knows (planted in the browser: session fixation) must stop
working the moment the session becomes worth having. ``rotate_session`` is called
where a session gains rights: today when a session cookie from before the
``__Host-`` names is adopted (chatsite.sessions); the widget's identity from the host
site, a verified email and a resumed conversation are to call it as well.
"""

from __future__ import annotations

from django.http import HttpRequest

from chat import services
from chat.services.visitors import THREAD_SESSION_KEY, VISITOR_SESSION_KEY

__all__ = ["THREAD_SESSION_KEY", "VISITOR_SESSION_KEY", "rotate_session"]


def rotate_session(request: HttpRequest) -> None:
    """Give the request's session a new key, keeping its data; the old key opens
    nothing any more. The session's visitor moves to the new key, and the sockets
    opened with the old key close and reconnect with the new cookie: a visitor's
    through their thread (``services.rebind_visitor_session``), an operator's
    through their login's group (the session engine, chatsite.sessions). The
    response sets the new cookie."""
    session = request.session
    old_key = session.session_key
    session.cycle_key()
    visitor_id = session.get(VISITOR_SESSION_KEY)
    if old_key and visitor_id is not None and session.session_key:
        services.rebind_visitor_session(
            visitor_id=visitor_id,
            old_session_key=old_key,
            session_key=session.session_key,
            thread_id=session.get(THREAD_SESSION_KEY),
        )
