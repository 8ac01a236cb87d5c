"""Close an operator's sockets when their login session ends."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from chat import events


@receiver(user_logged_out)
def close_operator_sockets(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        async_to_sync(events.broadcast_now)(
            events.session_group(session_key), {"type": events.SESSION_ENDED}
        )
