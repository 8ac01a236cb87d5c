"""EXPERIMENT ONLY: the ASGI application with the patches proposed in
docs/performance.md applied at import time, to measure them before they land.

    BENCH_PATCHES=thread_update,shared_cache \\
        .venv/bin/daphne -b 127.0.0.1 -p 8001 bench.patched_asgi:application

Never used in production: once the lead applies the patches to chat/, this module
is obsolete (each patch below says which proposed change it mirrors). Unknown patch
names stop the server at import, so a typo cannot silently measure the baseline.

* ``dispatch``: consumers skip channels' ``aclose_old_connections()`` hop to the
  shared sync thread before every handler (and on disconnect). Landed in 841a533.
* ``coalesce``: a batch's message events go out as one event per thread group plus
  one for the operators group, instead of two per message. Landed in 841a533
  (``chat.events.coalesce`` merges per group).
* ``thread_update``: the batch's thread rows are written with one
  ``UPDATE ... FROM unnest(...)`` instead of Django's ``bulk_update`` (CASE WHEN).
* ``shared_cache``: one Redis cache client (and connection pool) per process instead
  of one per async context, i.e. per WebSocket consumer.
* ``server_binding``: PostgreSQL ``OPTIONS["server_side_binding"] = True`` (psycopg
  sends parameters apart instead of quoting them into the SQL in Python).
* ``async_send_limit``: the per-sender message limit (``chat.ratelimit.hit``) counted
  on the event loop with redis.asyncio (SET NX EX + INCR, one round trip) instead of
  a thread-pool hop and two synchronous Redis calls per message.
* ``no_send_limit``: no per-sender limit at all (only to measure what it costs).
* ``prerender``: message events carry the JSON text of each ``message`` frame,
  rendered once per batch; consumers send it as is instead of re-encoding it per
  recipient.

Diagnostics (not patches): ``BENCH_TRACEMALLOC=1`` starts tracemalloc; the first
SIGUSR2 takes a snapshot, the next writes the growth since then, by line, to
``$BENCH_TRACEMALLOC_OUT`` (default /tmp/sohbet-tracemalloc.txt).
"""

from __future__ import annotations  # noqa: I001 - Django is set up by chatsite.asgi first

import os
from typing import Any

from chatsite.asgi import application  # noqa: F401 - sets Django up; re-exported

from chat import consumers, events, services  # noqa: E402  (after django.setup)
from chat.models import Message, Thread  # noqa: E402

KNOWN = {
    "dispatch",
    "coalesce",
    "thread_update",
    "shared_cache",
    "server_binding",
    "prerender",
    "async_send_limit",
    "no_send_limit",
}
PATCHES = {p.strip() for p in os.environ.get("BENCH_PATCHES", "").split(",") if p}
if PATCHES - KNOWN:
    raise SystemExit(f"unknown BENCH_PATCHES {sorted(PATCHES - KNOWN)}; know {KNOWN}")


if "dispatch" in PATCHES:  # in chat/consumers.py since 841a533
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


if "coalesce" in PATCHES:  # chat/events.coalesce does it per group since 841a533

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


if "prerender" in PATCHES:
    import json

    original_coalesce = events.coalesce

    def coalesce(sent: list[Any]) -> list[Any]:
        merged = original_coalesce(sent)
        for _group, event in merged:
            if event["type"] == events.MESSAGES:
                event["frames"] = [
                    json.dumps(
                        {"type": "message", "message": p},
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    for p in event["messages"]
                ]
        return merged

    async def chat_messages(self: Any, event: dict[str, Any]) -> None:
        frames = event.get("frames")
        if frames is None:
            for payload in event["messages"]:
                await self.send_json({"type": "message", "message": payload})
            return
        for frame in frames:
            await self.send(text_data=frame)

    async def visitor_chat_messages(self: Any, event: dict[str, Any]) -> None:
        frames = event.get("frames") or [None] * len(event["messages"])
        for payload, frame in zip(event["messages"], frames, strict=True):
            if payload["thread"] != self.thread_id:
                continue
            if frame is None:
                await self.send_json({"type": "message", "message": payload})
            else:
                await self.send(text_data=frame)

    events.coalesce = coalesce
    consumers.ChatConsumer.chat_messages = chat_messages  # type: ignore[method-assign]
    consumers.VisitorConsumer.chat_messages = visitor_chat_messages  # type: ignore[method-assign]


if "server_binding" in PATCHES:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        settings.DATABASES["default"].setdefault("OPTIONS", {})[
            "server_side_binding"
        ] = True


if "thread_update" in PATCHES:
    from django.db import connections, router

    original_bulk_update = Thread.objects.bulk_update

    def bulk_update(objs: Any, fields: list[str], batch_size: Any = None) -> int:
        threads = list(objs)
        conn = connections[router.db_for_write(Thread)]
        if conn.vendor != "postgresql" or not threads:
            return original_bulk_update(threads, fields, batch_size=batch_size)
        meta = Thread._meta
        columns = [meta.get_field(name) for name in fields]
        pk = meta.pk
        assert pk is not None
        names = [pk.column] + [f.column for f in columns]
        types = [pk.cast_db_type(conn)] + [f.cast_db_type(conn) for f in columns]
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
            [f.get_db_prep_save(getattr(t, f.attname), conn) for t in threads]
            for f in columns
        ]
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    Thread.objects.bulk_update = bulk_update  # type: ignore[method-assign]


if "shared_cache" in PATCHES:
    import threading

    from django.utils.functional import cached_property

    from chatsite.cache import ForgivingRedisCache, RateCounterRedisCache

    _clients: dict[tuple[str, str], Any] = {}
    _clients_lock = threading.Lock()

    def _shared_client(self: Any) -> Any:
        key = (",".join(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client

    # Our own cache classes (chatsite/cache.py) only: Django's RedisCache is left as
    # it is. Patch 2 proposes building this into those classes.
    for cache_class in (ForgivingRedisCache, RateCounterRedisCache):
        shared = cached_property(_shared_client)
        shared.__set_name__(cache_class, "_cache")
        cache_class._cache = shared  # type: ignore[assignment]


if os.environ.get("BENCH_TRACEMALLOC"):
    import signal
    import tempfile
    import tracemalloc

    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "1")))
    _snapshots: list[Any] = []

    def _on_usr2(signum: int, frame: Any) -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        if not _snapshots:
            _snapshots.append(snapshot)
            return
        out = os.environ.get("BENCH_TRACEMALLOC_OUT") or os.path.join(
            tempfile.gettempdir(), "sohbet-tracemalloc.txt"
        )
        stats = snapshot.compare_to(_snapshots[0], "lineno")
        total = sum(s.size_diff for s in stats)
        with open(out, "w") as fh:
            fh.write(f"growth: {total / 2**20:.1f} MiB\n")
            for stat in stats[:60]:
                fh.write(
                    f"{stat.size_diff / 2**10:10.0f} KiB {stat.count_diff:8d} "
                    f"{stat.traceback}\n"
                )
        _snapshots[0] = snapshot

    signal.signal(signal.SIGUSR2, _on_usr2)


if "async_send_limit" in PATCHES or "no_send_limit" in PATCHES:
    import asyncio
    import logging
    import math
    import time

    import redis.asyncio as aioredis
    from django.conf import settings as dj_settings

    from chat.exceptions import ChatError, ErrorCode
    from chat.writer import get_writer

    _log = logging.getLogger("bench.patched_asgi")
    _redis: dict[asyncio.AbstractEventLoop, Any] = {}

    async def ahit(key: str, rule: Any) -> bool:
        if "no_send_limit" in PATCHES:
            return True
        loop = asyncio.get_running_loop()
        client = _redis.get(loop)
        if client is None:
            location = dj_settings.CACHES[dj_settings.RATELIMIT_USE_CACHE]["LOCATION"]
            client = _redis[loop] = aioredis.Redis.from_url(
                location, socket_timeout=2, socket_connect_timeout=2
            )
        cache_key = f"sohbet:ratelimit:{key}:{int(time.time() // rule.seconds)}"
        try:
            async with client.pipeline(transaction=False) as pipe:
                pipe.set(cache_key, 0, ex=math.ceil(rule.seconds) + 1, nx=True)
                pipe.incr(cache_key)
                _created, count = await pipe.execute()
        except Exception as exc:
            _log.warning("rate limit %s not counted: %s", key, exc)
            return True
        return bool(count <= rule.count)

    async def post(self: Any, new: Any) -> None:
        from django.utils.translation import gettext as _

        if not await ahit(self.sender_key, self.send_limit):
            await self.send_error(
                ChatError(
                    ErrorCode.RATE_LIMITED,
                    _("Too many messages at once. Please slow down."),
                ),
                client_id=str(new.client_id),
            )
            return
        outcome = await get_writer().post(new)
        if isinstance(outcome, ChatError):
            await self.send_error(outcome)
            return
        await self.send_ack(outcome)

    consumers.ChatConsumer.post = post  # type: ignore[method-assign]
