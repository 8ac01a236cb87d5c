"""EXPERIMENT ONLY: the ASGI application with the patches proposed in
docs/performance.md applied at import time, to measure them before they land.

    BENCH_PATCHES=dispatch,coalesce,thread_update \\
        .venv/bin/daphne -b 127.0.0.1 -p 8001 bench.patched_asgi:application

Never used in production: once the lead applies the patches to chat/, this module
is obsolete (each patch below says which proposed change it mirrors). Unknown patch
names stop the server at import, so a typo cannot silently measure the baseline.

* ``dispatch``: consumers skip channels' ``aclose_old_connections()`` hop to the
  shared sync thread before every handler (and on disconnect).
* ``coalesce``: a batch's message events go out as one event per thread group plus
  one for the operators group, instead of two per message.
* ``thread_update``: the batch's thread rows are written with one
  ``UPDATE ... FROM unnest(...)`` instead of Django's ``bulk_update`` (CASE WHEN).
"""

from __future__ import annotations  # noqa: I001 - Django is set up by chatsite.asgi first

import os
from typing import Any

from chatsite.asgi import application  # noqa: F401 - sets Django up; re-exported

from chat import consumers, events, services  # noqa: E402  (after django.setup)
from chat.models import Message, Thread  # noqa: E402

KNOWN = {"dispatch", "coalesce", "thread_update"}
PATCHES = {p.strip() for p in os.environ.get("BENCH_PATCHES", "").split(",") if p}
if PATCHES - KNOWN:
    raise SystemExit(f"unknown BENCH_PATCHES {sorted(PATCHES - KNOWN)}; know {KNOWN}")


if "dispatch" in PATCHES:
    from channels.consumer import get_handler_name
    from channels.exceptions import StopConsumer

    async def dispatch(self: Any, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self: Any, message: dict[str, Any]) -> None:
        await self.disconnect(message["code"])
        raise StopConsumer()

    consumers.ChatConsumer.dispatch = dispatch  # type: ignore[method-assign]
    consumers.ChatConsumer.websocket_disconnect = websocket_disconnect  # type: ignore[method-assign]


if "coalesce" in PATCHES:

    def _broadcast_messages(
        messages: list[Message], threads: dict[int, Thread], state_changed: set[int]
    ) -> None:
        payloads = [events.message_payload(m) for m in messages]
        by_thread: dict[int, list[dict[str, Any]]] = {}
        for payload in payloads:
            by_thread.setdefault(payload["thread"], []).append(payload)
        for thread_id, items in by_thread.items():
            events.broadcast_on_commit(
                events.thread_group(thread_id),
                {"type": events.MESSAGES, "messages": items},
            )
        events.broadcast_on_commit(
            events.OPERATORS_GROUP, {"type": events.MESSAGES, "messages": payloads}
        )
        if state_changed:
            for thread in Thread.objects.select_related(
                *services.THREAD_RELATED
            ).filter(pk__in=state_changed):
                services._broadcast_thread(thread)

    services._broadcast_messages = _broadcast_messages


if "thread_update" in PATCHES:
    from django.db import connection

    original_bulk_update = Thread.objects.bulk_update

    def bulk_update(objs: Any, fields: list[str], batch_size: Any = None) -> int:
        threads = list(objs)
        if connection.vendor != "postgresql" or not threads:
            return original_bulk_update(threads, fields, batch_size=batch_size)
        meta = Thread._meta
        columns = [meta.get_field(name) for name in fields]
        pk = meta.pk
        assert pk is not None
        names = [pk.column] + [f.column for f in columns]
        types = [pk.cast_db_type(connection)] + [
            f.cast_db_type(connection) for f in columns
        ]
        sets = ", ".join(f'"{f.column}" = v."{f.column}"' for f in columns)
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        quoted = ", ".join(f'"{n}"' for n in names)
        # Identifiers come from the model's meta; every value is a parameter.
        sql = (
            f'UPDATE "{meta.db_table}" AS t SET {sets} '  # noqa: S608
            f"FROM unnest({arrays}) AS v({quoted}) "
            f'WHERE t."{pk.column}" = v."{pk.column}"'
        )
        params = [[t.pk for t in threads]] + [
            [f.get_db_prep_save(getattr(t, f.attname), connection) for t in threads]
            for f in columns
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    Thread.objects.bulk_update = bulk_update  # type: ignore[method-assign]
