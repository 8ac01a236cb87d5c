"""Close an operator's sockets when their login session ends; lift the database
timeouts while migrations run."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.contrib.auth.signals import user_logged_out
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate
from django.dispatch import receiver

from chat import events


@receiver(user_logged_out)
def close_operator_sockets(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        async_to_sync(events.broadcast_now)(
            events.session_group(session_key), {"type": events.SESSION_ENDED}
        )


@receiver(pre_migrate)
def lift_timeouts(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """A migration may rewrite a large table: no statement or lock timeout
    (settings: DATABASE_STATEMENT_TIMEOUT, DATABASE_LOCK_TIMEOUT) while it runs."""
    _set_timeouts(using, "SET statement_timeout = 0; SET lock_timeout = 0")


@receiver(post_migrate)
def restore_timeouts(sender: Any, using: str = "default", **kwargs: Any) -> None:
    _set_timeouts(using, "RESET statement_timeout; RESET lock_timeout")


def _set_timeouts(using: str, sql: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql)
