"""Database work of async code (the sockets, the bridge) on threads of the engine's own.

Channels' ``database_sync_to_async`` runs every call of a process on one shared thread,
one at a time: one slow query held up every socket's connect, sync and history. Here
``SOHBET_DB_THREADS`` threads take the calls; each call takes a pooled connection and
gives it back, and the events the work sends with ``send_on_commit`` leave once it
returns.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections

from realtime import delivery

T = TypeVar("T")

_threads: ThreadPoolExecutor | None = None  # made on first use (settings are read)


class _DatabaseCall(DatabaseSyncToAsync):
    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            # Given back after each call, whatever the connection's age settings say:
            # a thread keeps none between calls.
            connections.close_all()


async def run_in_db(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` on a database thread; the events it committed
    are sent when it returns. Raises what ``function`` raises."""
    result, sent = await _DatabaseCall(
        _collecting, thread_sensitive=False, executor=_executor()
    )(function, args, kwargs)
    if sent:
        await delivery.send(sent)
    return result


def _executor() -> ThreadPoolExecutor:
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(
            settings.SOHBET_DB_THREADS, thread_name_prefix="sohbet-db"
        )
    return _threads


def _collecting(
    function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[T, list[delivery.Event]]:
    with delivery.collecting() as sent:
        result = function(*args, **kwargs)
    return result, sent
