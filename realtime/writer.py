"""Group commit: what a process's sockets post while a batch is being stored goes
into the next batch (one transaction, one commit, the senders' limits counted in one
Redis call), so that under load the cost per post falls instead of queueing behind a
commit each.

The domain says how a batch is stored (a ``Store``); the writer queues, batches,
bounds each batch in time, counts the senders' limits, and sends the batch's events:
this process's sockets get them at once, the other processes through the layer, in
commit order, while the next batch is stored. On PostgreSQL batches are stored on the
event loop on a connection of the writer's own; the rest on a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.db import connection as django_connection

from realtime import delivery, ratelimit
from realtime.delivery import Event
from realtime.ratelimit import Rule
from realtime.sql import connect, is_timeout

logger = logging.getLogger(__name__)

MAX_BATCH = 256
# The thread gives its connection back to the pool after this long without a batch
# (checking one out costs a health-check round trip).
KEEP_CONNECTION_IDLE = 2.0

Item = TypeVar("Item")
Limit = tuple[str, Rule]  # (counter key, rule): realtime.ratelimit.hit_many
Limits = tuple[Limit, ...]


@dataclass(slots=True)
class Stored:
    """What a batch stored: one outcome per item, in order; the events to send; the
    keys whose state the store asks to be read and told after (``Store.changed``)."""

    outcomes: list[Any]
    events: list[Event]
    changed: set[int] = field(default_factory=set)


class UseThread(Exception):
    """Raised by ``Store.astore`` (before any change is kept): the batch is stored on
    the writer's thread instead, with ``hint`` passed to ``Store.store``."""

    def __init__(self, hint: Any = None) -> None:
        super().__init__(hint)
        self.hint = hint


class Store(Protocol[Item]):
    """How the domain stores a batch (chat.storage)."""

    def store(self, items: list[Item], hint: Any = None) -> Stored:
        """In a transaction of its own, on the writer's thread (the ORM)."""

    async def astore(
        self,
        aconnection: Any,
        items: list[Item],
        admitted: Callable[[], Awaitable[list[Item]]],
    ) -> Stored:
        """On the event loop, on the writer's asyncio psycopg connection (autocommit
        mode: the store begins and commits). Only the items ``admitted`` gives (those
        within their senders' limits) are stored; it is awaited while the first round
        trip is on its way. Raises ``UseThread`` for what the ORM must store."""

    def refusal(self, item: Item, key: str) -> Any:
        """The outcome of an item over one of its limits (``key``: the first)."""

    def changed_events(self, keys: set[int]) -> list[Event]:
        """The events telling the new state of ``keys`` (the ORM)."""

    async def achanged(self, aconnection: Any, keys: set[int]) -> Any:
        """Read the new state of ``keys`` on the writer's connection."""

    async def achanged_events(self, read: Any) -> list[Event]:
        """The events of what ``achanged`` read (off the connection)."""


class Writer(Generic[Item]):
    def __init__(self, store: Store[Item]) -> None:
        self.store = store
        self._queue: asyncio.Queue[tuple[Item, Limits, asyncio.Future[Any]]] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sohbet-writer")
        self._outgoing: asyncio.Queue[tuple[list[Event], set[int]]] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._changed: set[int] = set()
        self._changed_sender: asyncio.Task[None] | None = None
        self._last_batch = 0.0
        self._release: asyncio.TimerHandle | None = None
        self._on_loop = django_connection.vendor == "postgresql"
        self._aconnection: Any = None
        self._aconnection_lock = asyncio.Lock()

    async def post(
        self, item: Item, limit: Limit | None = None, *, more: Sequence[Limit] = ()
    ) -> Any:
        """Store one item with the next batch; returns its outcome once committed, or
        ``store.refusal(item, key)`` when ``limit`` (sender key, rule) or one of
        ``more`` is exceeded across sockets and processes (all counted in the batch's
        one call). Raises a ``DatabaseError`` when the batch could not be stored
        (within ``SOHBET_STORE_TIMEOUT``)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        limits = ((limit,) if limit else ()) + tuple(more)
        self._queue.put_nowait((item, limits, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="sohbet-writer")
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [queued for queued in batch if not queued[2].cancelled()]
            if not live:
                continue
            queued = [(item, limit) for item, limit, _ in live]
            try:
                async with _bounded():
                    if self._on_loop:
                        outcomes, stored = await self._store_on_loop(queued)
                    else:
                        outcomes, stored = await loop.run_in_executor(
                            self._thread, self._store, queued
                        )
            except Exception as exc:
                logger.warning("storing %d item(s) failed: %s", len(live), exc)
                for _, _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self._last_batch = loop.time()
            if self._queue.empty() and self._release is None:
                self._release = loop.call_later(
                    KEEP_CONNECTION_IDLE, self._release_if_idle
                )
            for (_, _, future), outcome in zip(live, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
            if stored.events or stored.changed:
                # This process's sockets get the batch's messages now, with their
                # outcomes; the rest, and the other processes, by the sender.
                routed = delivery.deliver_here(stored.events) if stored.events else []
                self._outgoing.put_nowait((routed, stored.changed))
                if self._sender is None or self._sender.done():
                    self._sender = asyncio.create_task(self._send_all())

    # --- Storing -----------------------------------------------------------------

    def _store(self, queued: list[tuple[Item, Limits]]) -> tuple[list[Any], Stored]:
        """On the thread: count the limits, then store the items within them."""
        limits = [limit for _, limits in queued for limit in limits]
        refused, items = _within(queued, ratelimit.hit_many(limits))
        stored = self._store_on_thread(items) if items else Stored([], [])
        return self._outcomes(queued, refused, stored), stored

    def _store_on_thread(self, items: list[Item], hint: Any = None) -> Stored:
        kept = django_connection.connection is not None  # from an earlier batch
        try:
            return self._store_once(items, hint)
        except (OperationalError, InterfaceError) as exc:
            if not kept or is_timeout(exc):
                raise  # a fresh connection failed (the database is away), or a bound
            logger.info("storing a batch failed on its connection, again: %s", exc)
            return self._store_once(items, hint)

    def _store_once(self, items: list[Item], hint: Any) -> Stored:
        with delivery.collecting() as sent:
            try:
                stored = self.store.store(items, hint)
            except BaseException:
                django_connection.close()  # the next attempt starts afresh
                raise
        stored.events = sent + stored.events
        return stored

    async def _store_on_loop(
        self, queued: list[tuple[Item, Limits]]
    ) -> tuple[list[Any], Stored]:
        """The batch on the event loop (PostgreSQL): the limits counted in Redis while
        its first round trip is on its way, once even when it is tried again."""
        limits = [limit for _, limits in queued for limit in limits]
        counting = asyncio.ensure_future(ratelimit.ahit_many(limits))

        async def admitted() -> list[Item]:
            return _within(queued, await counting)[1]

        items = [item for item, _ in queued]
        try:
            stored = await self._astore(items, admitted)
        except UseThread as elsewhere:
            kept = await admitted()
            loop = asyncio.get_running_loop()
            stored = Stored([], [])
            if kept:
                stored = await loop.run_in_executor(
                    self._thread, self._store_on_thread, kept, elsewhere.hint
                )
        refused, _items = _within(queued, await counting)
        return self._outcomes(queued, refused, stored), stored

    async def _astore(
        self, items: list[Item], admitted: Callable[[], Awaitable[list[Item]]]
    ) -> Stored:
        kept = self._aconnection is not None and not self._aconnection.closed
        try:
            async with self._connection(open_one=True) as aconnection:
                return await self.store.astore(aconnection, items, admitted)
        except (OperationalError, InterfaceError) as exc:
            if not kept or is_timeout(exc):
                raise
            logger.info("storing a batch failed on its connection, again: %s", exc)
            async with self._connection(open_one=True) as aconnection:
                return await self.store.astore(aconnection, items, admitted)

    def _outcomes(
        self, queued: list[tuple[Item, Limits]], refused: dict[int, str], stored: Stored
    ) -> list[Any]:
        """One outcome per queued item: a refusal over a limit, else the store's."""
        done = iter(stored.outcomes)
        return [
            self.store.refusal(item, refused[index]) if index in refused else next(done)
            for index, (item, _) in enumerate(queued)
        ]

    # --- Sending -----------------------------------------------------------------

    async def _send_all(self) -> None:
        """Publish the batches' routed events in commit order (those that queued
        meanwhile together); then read and tell what changed, in a task of its own
        so that the next batches' events do not wait for that read."""
        while True:
            routed, changed = await self._outgoing.get()
            while not self._outgoing.empty():
                more, more_changed = self._outgoing.get_nowait()
                routed = delivery.join_routed(routed, more)
                changed |= more_changed
            await delivery.publish(routed)  # logs, never raises
            if changed:
                self._changed |= changed
                if self._changed_sender is None or self._changed_sender.done():
                    self._changed_sender = asyncio.create_task(self._send_changed())

    async def _send_changed(self) -> None:
        """State is read after the commits it follows: an event that goes out after
        later messages still says the latest. On PostgreSQL read on the writer's
        connection between two batches; else on its thread."""
        loop = asyncio.get_running_loop()
        while self._changed:
            keys, self._changed = self._changed, set()
            try:
                events = None
                if self._on_loop:
                    async with self._connection(open_one=False) as aconnection:
                        read = (
                            await self.store.achanged(aconnection, keys)
                            if aconnection is not None
                            else None
                        )
                    if read is not None:
                        events = await self.store.achanged_events(read)
                if events is None:
                    events = await loop.run_in_executor(
                        self._thread, self.store.changed_events, keys
                    )
            except Exception:
                logger.warning("changed state not sent", exc_info=True)
                continue
            await delivery.send(events)

    # --- Connections -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self, *, open_one: bool) -> AsyncIterator[Any]:
        """The writer's own connection, for one batch or one read at a time; opened
        when there is none with ``open_one``, else None then. psycopg's errors come
        out as Django's; after one, the connection is closed and the next use opens
        another."""
        with django_connection.wrap_database_errors:
            async with self._aconnection_lock:
                if self._aconnection is None or self._aconnection.closed:
                    if not open_one:
                        yield None
                        return
                    self._aconnection = await connect()
                try:
                    yield self._aconnection
                except UseThread:
                    raise  # nothing done: the connection is fine
                except BaseException:
                    self._close_aconnection()
                    raise

    def close_connections(self) -> None:
        """Close the connections this writer keeps; a later batch opens new ones."""
        self._close_aconnection()
        self._thread.submit(_close_connection).result(timeout=30)

    def _close_aconnection(self) -> None:
        if self._aconnection is not None:
            # What AsyncConnection.close() does, with no loop to await it on.
            self._aconnection.pgconn.finish()
            self._aconnection = None

    def _release_if_idle(self) -> None:
        self._release = None
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last_batch
        if idle >= KEEP_CONNECTION_IDLE and self._queue.empty():
            self._thread.submit(close_old_connections)  # before any next batch
        else:
            self._release = loop.call_later(
                max(KEEP_CONNECTION_IDLE - idle, 0.1), self._release_if_idle
            )


@contextlib.asynccontextmanager
async def _bounded() -> AsyncIterator[None]:
    """At most ``SOHBET_STORE_TIMEOUT`` seconds for a batch; beyond them its senders
    are told to retry, as for a database error (a batch on the event loop is
    cancelled and its connection closed: nothing of it is committed, or a resend
    finds it)."""
    try:
        async with asyncio.timeout(settings.SOHBET_STORE_TIMEOUT):
            yield
    except TimeoutError as exc:
        raise OperationalError(
            f"storing a batch took over {settings.SOHBET_STORE_TIMEOUT} s"
        ) from exc


def _close_connection() -> None:
    django_connection.close()  # the name resolves to this thread's connection


def _within(
    queued: list[tuple[Item, Limits]], allowed: list[bool]
) -> tuple[dict[int, str], list[Item]]:
    """The refused items' indexes (each with the key of its first limit exceeded),
    and the others, given the answers for every limit of every item, in order."""
    answers = iter(allowed)
    refused: dict[int, str] = {}
    for index, (_, limits) in enumerate(queued):
        for (key, _rule), ok in zip(limits, answers, strict=False):
            if not ok and index not in refused:
                refused[index] = key
    if next(answers, None) is not None:  # pragma: no cover
        raise ValueError("more answers than limits")
    return refused, [item for i, (item, _) in enumerate(queued) if i not in refused]


_writers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[int, Writer[Any]]
] = weakref.WeakKeyDictionary()


def get_writer(store: Store[Item]) -> Writer[Item]:
    """The running event loop's writer for ``store`` (one per process)."""
    writers = _writers.setdefault(asyncio.get_running_loop(), {})
    writer = writers.get(id(store))
    if writer is None:
        writer = writers[id(store)] = Writer(store)
    return writer


def close_connections() -> None:
    """Close the connections writers keep between batches (tests, before the
    database is flushed or dropped; a process that exits needs nothing)."""
    for writers in list(_writers.values()):
        for writer in list(writers.values()):
            writer.close_connections()
