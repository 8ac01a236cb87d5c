"""Group commit for the message path.

Consumers hand their posts to the process's writer; it stores everything that queued
up while the previous transaction ran in one transaction (one commit, the senders'
limits counted in one Redis call), answers each post, then hands the batch's messages
to this process's sockets at once (when their threads' order allows) and its events to
a sender task, which publishes them in commit order while the next batch is stored.
Under light load a batch is one message, so latency is that of a single insert; under
heavy load the cost per message falls instead of queueing behind one commit per
message.

On PostgreSQL the batches are stored on the event loop itself, on an asyncio psycopg
connection of the writer's own (``chat.services.apost_messages``, the statements of
``realtime.sql``): no thread to hand each batch to, and no wait to take the
interpreter lock back from the busy event loop after each of a batch's round trips,
which was most of a batch's time and a fifth of the process's CPU under load
(docs/performance.md). The connection is kept for the life of the process; a batch
that fails on it (it died with a PostgreSQL restart) is tried once more on a fresh
one: nothing was committed, and a resend of a committed message is found by its
``client_id``.

The thread events after a conversation starts, reopens or is taken are read by a task
of their own once the batch's messages are out, on that connection between batches.

The rest runs on a thread of the writer's own with Django's ORM: every batch on other
databases (SQLite, the embedded defaults), and on PostgreSQL the rare batches that
need the ORM (a resend to look up, an attachment to check). That thread keeps its
database connection from one batch to the next and gives it back to the pool after
``KEEP_CONNECTION_IDLE`` seconds without posts. Not Channels' shared sync thread
(``database_sync_to_async``): posting never waits behind a page of history or a
visitor's first connection. Refusals carry lazy translations; each consumer renders
them in its socket's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
)
from django.utils.translation import gettext_lazy

from chat import events, services
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message
from chat.services import NewMessage, PostOutcome
from realtime import ratelimit
from realtime.ratelimit import Rule

logger = logging.getLogger(__name__)

MAX_BATCH = 256
# The writer gives its database connection back to the pool after this long without
# a batch. Checking one out costs a health-check round trip; at a few messages a second
# the queue runs dry after nearly every batch, and giving it back each time cost a
# checkout per batch.
KEEP_CONNECTION_IDLE = 2.0


Limit = tuple[str, Rule]  # (sender key, rule): realtime.ratelimit.hit_many
Queued = tuple[NewMessage, Limit | None, "asyncio.Future[PostOutcome]"]


class MessageWriter:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Queued] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sohbet-writer")
        self._outgoing: asyncio.Queue[tuple[list[events.Event], set[int]]] = (
            asyncio.Queue()
        )
        self._sender: asyncio.Task[None] | None = None
        # Threads whose new state is to be read and told to the operators.
        self._changed: set[int] = set()
        self._thread_sender: asyncio.Task[None] | None = None
        self._last_batch = 0.0
        self._release: asyncio.TimerHandle | None = None
        # On PostgreSQL the batches are stored on the event loop, on a connection of
        # the writer's own (psycopg's asyncio one): no thread to hand each batch to
        # and take the interpreter lock back from after every round trip. The thread
        # stores what needs the ORM (resends, attachments). The thread events' reads
        # use the connection between batches (``_connection``).
        self._on_loop = connection.vendor == "postgresql"
        self._aconnection: Any = None
        self._aconnection_lock = asyncio.Lock()

    async def post(self, post: NewMessage, limit: Limit | None = None) -> PostOutcome:
        """Store one message; returns its outcome once committed. Raises the database's
        exception when the batch could not be stored.

        With ``limit`` (sender key, rule) the post is first counted against its
        sender's limit, across sockets and processes, with the rest of the batch in
        one call (``realtime.ratelimit.hit_many``): over the limit, the outcome is a
        ``rate_limited`` refusal and nothing is stored."""
        future: asyncio.Future[PostOutcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((post, limit, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="sohbet-message-writer")
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [queued for queued in batch if not queued[2].cancelled()]
            if not live:
                continue
            queued = [(post, limit) for post, limit, _ in live]
            changed: set[int] = set()
            try:
                async with _bounded():
                    if self._on_loop:
                        outcomes, sent, changed = await self._store_on_loop(queued)
                    else:
                        loop = asyncio.get_running_loop()
                        outcomes, sent = await loop.run_in_executor(
                            self._thread, _store, queued
                        )
            except Exception as exc:
                logger.warning("storing %d message(s) failed: %s", len(live), exc)
                for _, _, fut in live:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            self._last_batch = asyncio.get_running_loop().time()
            if self._queue.empty() and self._release is None:
                self._release = asyncio.get_running_loop().call_later(
                    KEEP_CONNECTION_IDLE, self._release_if_idle
                )
            for (_, _, fut), outcome in zip(live, outcomes, strict=True):
                if not fut.done():
                    fut.set_result(outcome)
            if sent or changed:
                # This process's sockets get the batch's messages now, with their
                # acks (those their thread's order allows: events.deliver_here); the
                # rest, and the other processes, through the layer, by the sender.
                self._send(events.deliver_here(sent) if sent else [], changed)

    async def _store_on_loop(
        self, queued: list[tuple[NewMessage, Limit | None]]
    ) -> tuple[list[PostOutcome], list[events.Event], set[int]]:
        """``_store`` on the event loop (PostgreSQL); also returns the threads whose
        status or assignee changed, for the sender to tell the operators. The
        senders' limits are counted in Redis while the batch's first round trip to
        PostgreSQL is on its way (one wait less per batch), once even when the
        batch is tried again."""
        loop = asyncio.get_running_loop()
        limits = [limit for _, limit in queued if limit]
        counting = asyncio.ensure_future(_count_limits(queued, limits))

        async def admitted() -> list[NewMessage]:
            return (await counting)[1]

        stored: list[PostOutcome] = []
        sent: list[events.Event] = []
        changed: set[int] = set()
        try:
            stored, messages, changed = await self._post_on_loop(
                [post for post, _ in queued], admitted
            )
        except (services.Resent, services.NeedsORM) as why:
            resent = isinstance(why, services.Resent)
            _refused, posts = await counting
            if posts:
                stored, sent = await loop.run_in_executor(
                    self._thread, _store_posts, posts, resent
                )
        else:
            sent = services.message_events(messages)
        refused, _posts = await counting
        return _outcomes(queued, refused, stored), sent, changed

    async def _post_on_loop(
        self,
        posts: list[NewMessage],
        admitted: Callable[[], Awaitable[list[NewMessage]]],
    ) -> tuple[list[PostOutcome], list[Message], set[int]]:
        kept = self._aconnection is not None and not self._aconnection.closed
        try:
            return await self._post_on_loop_once(posts, admitted)
        except (OperationalError, InterfaceError) as exc:
            if not kept or is_timeout(exc):
                raise  # a fresh connection failed (the database is away), or a bound
            logger.info(
                "storing a batch failed on its connection, trying again: %s", exc
            )
            return await self._post_on_loop_once(posts, admitted)

    async def _post_on_loop_once(
        self,
        posts: list[NewMessage],
        admitted: Callable[[], Awaitable[list[NewMessage]]],
    ) -> tuple[list[PostOutcome], list[Message], set[int]]:
        async with self._connection(open_one=True) as aconnection:
            return await services.apost_messages(aconnection, posts, admitted)

    @contextlib.asynccontextmanager
    async def _connection(self, *, open_one: bool) -> AsyncIterator[Any]:
        """The writer's own connection, for one batch or one read at a time (a
        batch's transaction spans several awaits); with ``open_one`` opened when
        there is none, else None then. psycopg's errors come out as Django's (the
        consumers tell their clients to retry on a DatabaseError), as the ORM raises
        them; after one, the connection is closed and the next use opens another."""
        with connection.wrap_database_errors:
            async with self._aconnection_lock:
                if self._aconnection is None or self._aconnection.closed:
                    if not open_one:
                        yield None
                        return
                    self._aconnection = await _connect()
                try:
                    yield self._aconnection
                except (services.Resent, services.NeedsORM):
                    raise  # rolled back, or nothing done: the connection is fine
                except BaseException:
                    self._close_aconnection()
                    raise

    def close_connections(self) -> None:
        """Close the database connections this writer keeps (see the module's
        ``close_connections``); a later batch opens new ones."""
        self._close_aconnection()
        self._thread.submit(_close_connection).result(timeout=30)

    def _close_aconnection(self) -> None:
        if self._aconnection is not None:
            # What AsyncConnection.close() does, without a loop to await it on
            # (close_connections, from tests).
            self._aconnection.pgconn.finish()
            self._aconnection = None

    def _release_if_idle(self) -> None:
        self._release = None
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last_batch
        if idle >= KEEP_CONNECTION_IDLE and self._queue.empty():
            self._thread.submit(close_old_connections)  # queued before any next batch
        else:
            self._release = loop.call_later(
                max(KEEP_CONNECTION_IDLE - idle, 0.1), self._release_if_idle
            )

    def _send(self, routed: list[events.Event], changed: set[int]) -> None:
        """Queue a batch's routed events (``events.deliver_here``: this process's
        sockets have those marked with its origin already) for the sender, which
        publishes them: the next batch is stored while these are published (waiting for
        the publishes held every batch back by two round trips through a busy event
        loop), and batches still go out in commit order. ``changed``: threads whose
        new state is read and told to the operators once the batch's messages are
        out (``_send_thread_events``)."""
        self._outgoing.put_nowait((routed, changed))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all(), name="sohbet-sender")

    async def _send_all(self) -> None:
        while True:
            routed, changed = await self._outgoing.get()
            while not self._outgoing.empty():  # batches that queued meanwhile: together
                more, more_changed = self._outgoing.get_nowait()
                routed = events.join_routed(routed, more)
                changed |= more_changed
            await events.publish(routed)  # logs, never raises
            if changed:
                self._changed |= changed
                if self._thread_sender is None or self._thread_sender.done():
                    self._thread_sender = asyncio.create_task(
                        self._send_thread_events(), name="sohbet-thread-sender"
                    )

    async def _send_thread_events(self) -> None:
        """Read and send the new state of the threads that changed, after their
        messages went out. A task of its own: the messages of the next batches do
        not wait for these reads (a burst of new conversations held every message
        of scenario a's first seconds back; docs/performance.md). A thread event is
        state, read after the commits it follows: one that goes out after later
        messages still says the latest.

        On PostgreSQL the read is one statement on the writer's own connection,
        between two batches, and the visitors' presence is read on the loop: no
        thread taking the interpreter lock from the loop while 1,000 conversations
        start (docs/performance.md). Elsewhere, or when that connection is not
        there, on the writer's thread."""
        loop = asyncio.get_running_loop()
        while self._changed:
            changed, self._changed = self._changed, set()
            try:
                thread_events = await self._read_on_loop(changed)
                if thread_events is None:
                    thread_events = await loop.run_in_executor(
                        self._thread, services.thread_events, changed
                    )
            except Exception:
                logger.warning("thread events not sent", exc_info=True)
                continue
            await events.send_events(thread_events)

    async def _read_on_loop(self, changed: set[int]) -> list[events.Event] | None:
        """The threads read on the writer's connection, between two batches, and
        their events made once it is free again (the visitors' presence is a read
        from Redis: the next batch does not wait for it); None when the writer has
        no connection open (a batch opens it; the thread's read does without)."""
        if not self._on_loop:
            return None
        async with self._connection(open_one=False) as aconnection:
            if aconnection is None:
                return None
            threads = await services.athreads_for_broadcast(aconnection, changed)
        return await services.athread_events(threads)


@contextlib.asynccontextmanager
async def _bounded() -> AsyncIterator[None]:
    """At most ``SOHBET_STORE_TIMEOUT`` seconds for a batch; beyond them its senders
    are told to retry, as for a database error (a batch on the event loop is
    cancelled and its connection closed: nothing of it is committed, or a resend
    finds it by its ``client_id``)."""
    try:
        async with asyncio.timeout(settings.SOHBET_STORE_TIMEOUT):
            yield
    except TimeoutError as exc:
        raise OperationalError(
            f"storing a batch took over {settings.SOHBET_STORE_TIMEOUT} s"
        ) from exc


def is_timeout(exc: BaseException) -> bool:
    """Whether a database error is one of the bounds on waiting (a statement or lock
    timeout), not a lost connection: trying again at once would wait as long."""
    import psycopg

    return isinstance(
        exc.__cause__, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable
    )


def _store(
    queued: list[tuple[NewMessage, Limit | None]],
) -> tuple[list[PostOutcome], list[events.Event]]:
    """Count the senders' limits, then store the posts within them (on the writer's
    thread; the limits are counted once, even when the batch is tried again)."""
    limits = [limit for _, limit in queued if limit]
    refused, posts = _within_limits(queued, ratelimit.hit_many(limits))
    stored, sent = _store_posts(posts) if posts else ([], [])
    return _outcomes(queued, refused, stored), sent


async def _count_limits(
    queued: list[tuple[NewMessage, Limit | None]], limits: list[Limit]
) -> tuple[set[int], list[NewMessage]]:
    """``_within_limits`` with the limits counted on the event loop."""
    return _within_limits(queued, await ratelimit.ahit_many(limits))


def _within_limits(
    queued: list[tuple[NewMessage, Limit | None]], allowed: list[bool]
) -> tuple[set[int], list[NewMessage]]:
    """The refused posts' indexes, and the others, given the answers for the posts
    with a limit (in order)."""
    limited = [index for index, (_, limit) in enumerate(queued) if limit]
    refused = {index for index, ok in zip(limited, allowed, strict=True) if not ok}
    posts = [post for index, (post, _) in enumerate(queued) if index not in refused]
    return refused, posts


def _outcomes(
    queued: list[tuple[NewMessage, Limit | None]],
    refused: set[int],
    stored: list[PostOutcome],
) -> list[PostOutcome]:
    """One outcome per queued post: the refused ones over the limit, the others'
    in order from ``stored``."""
    outcomes: list[PostOutcome] = []
    stored_outcomes = iter(stored)
    for index, (post, _) in enumerate(queued):
        if index in refused:
            outcomes.append(
                ChatError(
                    ErrorCode.RATE_LIMITED,
                    gettext_lazy("Too many messages at once. Please slow down."),
                    client_id=str(post.client_id),
                )
            )
        else:
            outcomes.append(next(stored_outcomes))
    return outcomes


async def _connect() -> Any:
    """The writer's own asyncio connection, with Django's settings for the
    database (its adapters included: datetimes come back as the ORM's do)."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)  # Django's is synchronous
    # Not longer than a request waits for the pool (DATABASE_POOL_TIMEOUT): a host
    # that is gone must give the senders their "unavailable" as soon.
    pool = connection.settings_dict["OPTIONS"].get("pool")
    wait = pool.get("timeout", 10) if isinstance(pool, dict) else 10
    params.setdefault("connect_timeout", max(int(wait), 2))
    # It lives as long as the process: a peer that vanished without closing (a host
    # gone, a network cut) is noticed within about 30 s rather than never.
    params.setdefault("keepalives", 1)
    params.setdefault("keepalives_idle", 15)
    params.setdefault("keepalives_interval", 5)
    params.setdefault("keepalives_count", 3)
    if settings.SOHBET_WRITER_PREPARE:
        # Its statements are prepared (realtime.sql.arun_together) and planned
        # once each, not again on every run (what PostgreSQL would choose for some).
        options = params.get("options", "")
        params["options"] = f"{options} -c plan_cache_mode=force_generic_plan".strip()
    return await psycopg.AsyncConnection.connect(**params, autocommit=True)


def _store_posts(
    posts: list[NewMessage], resent: bool = False
) -> tuple[list[PostOutcome], list[events.Event]]:
    kept = connection.connection is not None  # from an earlier batch, unchecked since
    try:
        return _store_once(posts, resent)
    except (OperationalError, InterfaceError) as exc:
        if not kept or is_timeout(exc):
            raise  # a fresh connection failed (the database is away), or a bound
        logger.info("storing a batch failed on its connection, trying again: %s", exc)
        return _store_once(posts, resent)


def _store_once(
    posts: list[NewMessage], resent: bool
) -> tuple[list[PostOutcome], list[events.Event]]:
    try:
        return events.call_collecting(
            services.post_messages, posts=posts, resent=resent
        )
    except BaseException:
        connection.close()  # the next attempt starts from a fresh, checked one
        raise


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter] = (
    weakref.WeakKeyDictionary()
)


def close_connections() -> None:
    """Close the database connections that writers keep between batches (tests,
    before the database is flushed or dropped; a process that exits needs nothing)."""
    for writer in list(_writers.values()):
        writer.close_connections()


def _close_connection() -> None:
    connection.close()  # this thread's own (the name resolves per thread)


def get_writer() -> MessageWriter:
    """The writer of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter()
    return writer
