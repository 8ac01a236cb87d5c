"""Writes on visitors, threads and messages: the one write path for each change.

Every function here is synchronous and atomic (async callers use
``database_sync_to_async``), but ``apost_messages``: the message writer's batches on
PostgreSQL, on the event loop (``realtime.writer``). Broadcasts leave after commit through
``chat.events.broadcast_on_commit``; external deliveries are queued as outbox rows in
the same transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from chat import events, presence
from chat.exceptions import ChatError, ErrorCode
from chat.models import (
    Attachment,
    Message,
    OutboxEntry,
    Thread,
    Visitor,
    attachment_path,
)
from chat.selectors import THREAD_RELATED
from chat.uploads import CleanFile
from realtime import sql as batchsql

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One message to post. ``operator`` is set for operator messages only."""

    thread_id: int
    client_id: uuid.UUID
    body: str
    author: str = Message.Author.VISITOR
    operator_id: int | None = None
    author_name: str = ""
    source: str = Message.Source.WEB
    attachment_id: int | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    message: Message
    created: bool


PostOutcome = Posted | ChatError


# --- Visitors -----------------------------------------------------------------------


@transaction.atomic
def start_visitor(
    *,
    session_key: str,
    visitor_id: int | None = None,
    locale: str = "",
    user_agent: str = "",
    page: str = "",
) -> tuple[Visitor, Thread]:
    """The visitor of a browser session (``visitor_id`` when the session names one
    that exists) with their current thread, each created if missing.

    One session has one visitor whatever the race (two first sockets at once, on two
    processes): ``Visitor.session_key`` is unique, and the loser of a race to create
    it gets the winner's. Thread creation waits on the visitor's row, so the visitor
    gets one thread. Broadcasts nothing: operators see a thread once it has a message.
    """
    visitor = None
    if visitor_id is not None:
        visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is None:
        visitor, _created = Visitor.objects.get_or_create(
            session_key=session_key,
            defaults={
                "locale": locale[:16],
                "user_agent": user_agent[:300],
                "last_page": page[:500],
            },
        )
        Visitor.objects.select_for_update().filter(pk=visitor.pk).first()
    thread = Thread.objects.filter(visitor=visitor).order_by("-pk").first()
    if thread is None:
        thread = Thread.objects.create(visitor=visitor)
    return visitor, thread


@transaction.atomic
def rebind_visitor_session(
    *, visitor_id: int, old_session_key: str, session_key: str
) -> None:
    """Move a visitor to their browser session's new key (rotated), and close the
    sockets opened with the old key after commit (``session.rotated`` to their
    thread's group: they reconnect with the browser's new cookie)."""
    Visitor.objects.filter(pk=visitor_id).update(session_key=session_key)
    thread = Thread.objects.filter(visitor_id=visitor_id).order_by("-pk").first()
    if thread is not None:
        events.broadcast_on_commit(
            events.thread_group(thread.pk),
            {
                "type": events.SESSION_ROTATED,
                "session": events.session_group(old_session_key),
            },
        )


def touch_visitor(*, visitor_id: int, page: str | None = None) -> None:
    """Record that the visitor is here now (and on which page)."""
    fields: dict[str, object] = {"last_seen_at": timezone.now()}
    if page:
        fields["last_page"] = page[:500]
    Visitor.objects.filter(pk=visitor_id).update(**fields)


@transaction.atomic
def rename_visitor(*, visitor_id: int, name: str) -> Visitor:
    """Set the visitor's display name; operators get the updated threads."""
    visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
    visitor.name = name[:80]
    visitor.save(update_fields=["name"])
    _broadcast_threads(
        Thread.objects.select_related(*THREAD_RELATED).filter(
            visitor=visitor, last_message__isnull=False
        )
    )
    return visitor


# --- Messages -----------------------------------------------------------------------


def post_message(**kwargs: object) -> Posted:
    """Post one message (see ``post_messages``); raises ChatError on refusal."""
    outcome = post_messages(posts=[NewMessage(**kwargs)])[0]  # type: ignore[arg-type]
    if isinstance(outcome, ChatError):
        raise outcome
    return outcome


class Resent(Exception):
    """A post of the batch was stored before: the batch must look resends up."""


class NeedsORM(Exception):
    """The batch needs a step that only the ORM takes (``post_messages`` does)."""


@dataclass(slots=True)
class _Stored:
    """What a batch stored, for the outcomes and the broadcasts after commit."""

    outcomes: list[PostOutcome]
    messages: list[Message]
    state_changed: set[int]


def post_messages(
    *, posts: Sequence[NewMessage], resent: bool = False
) -> list[PostOutcome]:
    """Store a batch of messages in one transaction, in order; one outcome per post.

    For each new message: gives it the thread's next ``seq``, updates the thread
    (unread count, last message; a visitor message reopens a closed thread; the
    first operator to reply to an unassigned thread takes it), and queues an outbox
    row per external channel (``settings.SOHBET_OUTBOX_CHANNELS``). A ``client_id``
    already stored on the thread returns the stored message and changes nothing.
    After commit broadcasts the messages to the thread's visitor sockets and to the
    operators, plus a thread event when the thread's status or assignee changed.
    A post on a missing thread gets ChatError(not_found); the others still go in.

    On PostgreSQL the batch is first stored without looking resends up: the insert
    skips a row whose ``client_id`` is already stored in its thread, and if it skipped
    any, that transaction is rolled back and the batch stored again, looking them
    up. Resends are rare (a client reconnecting); the lookup was a fifth of a
    batch's time. ``resent``: the caller knows a post was stored before (the writer,
    after ``apost_messages`` raised ``Resent``): straight to the lookup.
    """
    fast = batchsql.supported(batchsql.connection_for(Message))
    if fast and not resent:
        try:
            return _post_messages(posts, fast=True, resends=False)
        except Resent:
            pass
    return _post_messages(posts, fast=fast, resends=True)


@transaction.atomic
def _post_messages(
    posts: Sequence[NewMessage], *, fast: bool, resends: bool
) -> list[PostOutcome]:
    plan = _plan(posts, resends=resends)
    step: Any = None
    try:
        while True:
            step = plan.send(_take(step, fast=fast))
    except StopIteration as done:
        stored: _Stored = done.value
    if stored.messages:
        events.broadcast_all_on_commit(message_events(stored.messages))
        if stored.state_changed:
            _broadcast_threads(_threads_for_broadcast(stored.state_changed))
    return stored.outcomes


async def apost_messages(
    aconnection: Any,
    posts: Sequence[NewMessage],
    admitted: Callable[[], Awaitable[Sequence[NewMessage]]] | None = None,
) -> tuple[list[PostOutcome], list[Message], set[int]]:
    """``post_messages`` on PostgreSQL on an asyncio psycopg connection in autocommit
    mode (the message writer's, on the event loop), in a transaction of its own.
    Returns the outcomes, the new messages and the threads whose status or assignee
    changed; the caller broadcasts them (``message_events``, ``thread_events``).

    Two round trips (``batchsql.arun_together``): the transaction begun, the threads
    locked, earlier copies of the posts looked up and the new messages' ids drawn;
    then every row written and the commit. (One statement per round trip, as
    before, was five: each a wait on the busy event loop; docs/performance.md.)

    With ``admitted``, only the posts it gives (some of ``posts``, in order; the
    writer's senders within their limits, counted in Redis) are stored, outcomes for
    those: it is awaited while the first round trip, made for all of ``posts``, is on
    its way.

    Raises ``Resent`` (rolled back) when a post was stored before, and ``NeedsORM``
    before any change when a post carries an attachment: ``post_messages`` stores
    such a batch. psycopg's exceptions come out as they are, the transaction rolled
    back when the connection still answers."""
    if any(post.attachment_id is not None for post in posts):
        raise NeedsORM
    keys = [(post.thread_id, post.client_id) for post in posts]
    first = batchsql.arun_together(
        [
            batchsql.lock_statement(Thread, _lock_order(posts), THREAD_LOCK_FIELDS),
            batchsql.match_statement(Message, ("thread", "client_id"), keys),
            batchsql.keys_statement(Message, len(posts)),
        ],
        aconnection,
        begin=True,
        prepare=settings.SOHBET_WRITER_PREPARE,
    )
    try:
        if admitted is None:
            threads, earlier, ids = await first
        else:
            (threads, earlier, ids), posts = await asyncio.gather(first, admitted())
        if earlier:
            raise Resent
        plan = _plan(posts, resends=False)
        next(plan)  # the lock: taken above, for every post's thread
        writes, stored = _writes(plan, threads, iter(ids))
        await batchsql.arun_together(
            writes, aconnection, commit=True, prepare=settings.SOHBET_WRITER_PREPARE
        )
    except BaseException:
        await batchsql.arollback(aconnection)
        raise
    return stored.outcomes, stored.messages, stored.state_changed


def _writes(
    plan: Any, threads: list[Thread], ids: Iterator[int]
) -> tuple[list[batchsql.Statement[Any]], _Stored]:
    """The rest of a batch's plan once its threads are locked and no post was stored
    before (``apost_messages``): its writes as statements, to be sent together; the
    new messages take their ids from ``ids``."""
    writes: list[batchsql.Statement[Any]] = []
    try:
        step = plan.send(threads)
        while True:
            kind, arg = step
            result = None
            if kind == _INSERT:
                messages = arg[0]  # nothing to skip: none was stored before
                for message in messages:
                    message.pk = next(ids)
                writes.append(batchsql.insert_statement(messages, keyed=True))
                result = len(messages)
            else:
                writes.append(_statement(step))
            step = plan.send(result)
    except StopIteration as done:
        return writes, done.value


# The steps of a batch (``_plan``): what it yields, and what it gets back.
_LOCK = "lock"  # thread ids -> the threads, locked
_LOOKUP = "lookup"  # (threads, posts) -> {(thread id, client id): stored message}
_ATTACHMENTS = "attachments"  # posts -> {id: attachment no message carries yet}
_INSERT = "insert"  # (messages, skip stored) -> how many were inserted
_SAVE = "save"  # changed threads -> None
_OUTBOX = "outbox"  # outbox entries -> None


def _take(step: Any, *, fast: bool) -> Any:
    """Take one step of a batch on Django's connection (``None``: the start): on
    PostgreSQL as the step's statement, elsewhere through the ORM."""
    if step is None:
        return None
    kind, arg = step
    if kind == _LOOKUP:
        return _stored_messages(*arg, fast=fast)
    if kind == _ATTACHMENTS:
        return _free_attachments(arg)
    if fast:
        return batchsql.run(_statement(step), batchsql.connection_for(Message))
    if kind == _LOCK:
        return list(
            Thread.objects.select_for_update().filter(pk__in=arg).order_by("pk")
        )
    if kind == _INSERT:
        Message.objects.bulk_create(arg[0])
        return len(arg[0])
    if kind == _SAVE:
        Thread.objects.bulk_update(arg, list(THREAD_POST_FIELDS))
        return None
    if kind == _OUTBOX:
        OutboxEntry.objects.bulk_create(arg)
        return None
    raise ValueError(kind)  # pragma: no cover


def _statement(step: Any) -> batchsql.Statement[Any]:
    """A step of a batch as one statement (PostgreSQL, no resends, no attachments)."""
    kind, arg = step
    if kind == _LOCK:
        return batchsql.lock_statement(Thread, arg, THREAD_LOCK_FIELDS)
    if kind == _INSERT:
        messages, skip = arg
        skip_existing = ("thread", "client_id") if skip else ()
        return batchsql.insert_statement(messages, skip_existing=skip_existing)
    if kind == _SAVE:
        return batchsql.update_statement(arg, THREAD_POST_FIELDS)
    if kind == _OUTBOX:
        return batchsql.insert_statement(arg)
    raise NeedsORM(kind)  # _LOOKUP, _ATTACHMENTS: apost_messages refuses those


def _lock_order(posts: Sequence[NewMessage]) -> list[int]:
    """The threads of a batch in the order they are locked: by id, so that two
    batches never wait for each other's locks."""
    return sorted({post.thread_id for post in posts})


def _plan(posts: Sequence[NewMessage], *, resends: bool) -> Any:
    """The batch's logic, once for both ways of storing it: a generator that yields
    each step (kind, argument) and is sent its result; returns ``_Stored``."""
    thread_ids = _lock_order(posts)
    threads = {thread.pk: thread for thread in (yield (_LOCK, thread_ids))}
    stored: dict[tuple[int, uuid.UUID], Message] = {}
    if resends:
        stored = yield (_LOOKUP, (threads, posts))
    attachments: dict[int, Attachment] = {}
    if any(post.attachment_id is not None for post in posts):
        attachments = yield (_ATTACHMENTS, posts)

    now = timezone.now()
    outcomes: list[PostOutcome | None] = []
    new_messages: list[Message] = []
    changed_threads: dict[int, Thread] = {}
    state_changed: set[int] = set()
    reopened: set[int] = set()
    for post in posts:
        thread = threads.get(post.thread_id)
        if thread is None:
            outcomes.append(
                ChatError(
                    ErrorCode.NOT_FOUND,
                    # Lazy: the writer stores batches for many sockets, and each
                    # consumer renders its refusal in its socket's language.
                    gettext_lazy("This conversation does not exist."),
                    client_id=str(post.client_id),
                )
            )
            continue
        key = (post.thread_id, post.client_id)
        if key in stored:
            outcomes.append(Posted(message=stored[key], created=False))
            continue
        attachment = None
        if post.attachment_id is not None:
            attachment = attachments.pop(post.attachment_id, None)
            if attachment is None or not _may_attach(attachment, post):
                outcomes.append(
                    ChatError(
                        ErrorCode.NOT_FOUND,
                        gettext_lazy("This file does not exist or was already sent."),
                        client_id=str(post.client_id),
                    )
                )
                continue
        thread.last_seq += 1
        message = Message(
            thread_id=thread.pk,
            seq=thread.last_seq,
            client_id=post.client_id,
            author=post.author,
            operator_id=post.operator_id,
            author_name=post.author_name,
            body=post.body,
            source=post.source,
            attachment=attachment,
            created_at=now,
        )
        stored[key] = message
        new_messages.append(message)
        outcomes.append(None)  # filled in once the rows have ids
        _apply_to_thread(
            thread, post, now=now, state_changed=state_changed, reopened=reopened
        )
        changed_threads[thread.pk] = thread

    if new_messages:
        inserted = yield (_INSERT, (new_messages, not resends))
        if inserted < len(new_messages):
            raise Resent  # rolls this transaction back; stored again, looked up
        if any(message.pk is None for message in new_messages):  # pragma: no cover
            raise IntegrityError("the database did not return message ids")
        for message in new_messages:
            thread = threads[message.thread_id]
            thread.last_message = message
            thread.last_message_at = message.created_at
        yield (_SAVE, list(changed_threads.values()))
        entries = _outbox_entries(new_messages, reopened=reopened)
        if entries:
            yield (_OUTBOX, entries)

    return _Stored(
        outcomes=[
            outcome
            if outcome is not None
            else Posted(message=stored[(p.thread_id, p.client_id)], created=True)
            for outcome, p in zip(outcomes, posts, strict=True)
        ],
        messages=new_messages,
        state_changed=state_changed,
    )


def _stored_messages(
    threads: dict[int, Thread], posts: Sequence[NewMessage], *, fast: bool
) -> dict[tuple[int, uuid.UUID], Message]:
    """The messages already stored under the batch's (thread, client_id) pairs."""
    found = Message.objects.select_related("attachment")
    if fast:
        keys = {(p.thread_id, p.client_id) for p in posts if p.thread_id in threads}
        pks = batchsql.matching_pks(Message, ("thread", "client_id"), keys)
        if not pks:
            return {}  # the usual case: no resend, nothing more to load
        found = found.filter(pk__in=pks)
    else:
        found = found.filter(
            thread_id__in=list(threads),
            client_id__in=[post.client_id for post in posts],
        )
    return {(message.thread_id, message.client_id): message for message in found}


def _free_attachments(posts: Sequence[NewMessage]) -> dict[int, Attachment]:
    """The batch's attachments that no message carries yet."""
    ids = [post.attachment_id for post in posts if post.attachment_id is not None]
    if not ids:
        return {}
    return {
        attachment.pk: attachment
        for attachment in Attachment.objects.filter(pk__in=ids, message__isnull=True)
    }


def _may_attach(attachment: Attachment, post: NewMessage) -> bool:
    """An upload goes with a message of its own thread, by whoever uploaded it."""
    if attachment.thread_id != post.thread_id or attachment.uploaded_by != post.author:
        return False
    return post.author != Message.Author.OPERATOR or attachment.operator_id in (
        None,
        post.operator_id,
    )


# What a batch reads of its locked threads (``_plan``, ``_apply_to_thread``); the
# rest of THREAD_POST_FIELDS it sets before writing them. Each timestamp read is a
# parse: the thread rows' four were a twentieth of the writer's time.
THREAD_LOCK_FIELDS = (
    "last_seq",
    "status",
    "closed_at",
    "assigned_to",
    "operator_unread_count",
    "visitor_unread_count",
)
THREAD_POST_FIELDS = (
    "last_seq",
    "last_message",
    "last_message_at",
    "operator_unread_count",
    "visitor_unread_count",
    "status",
    "closed_at",
    "assigned_to",
    "updated_at",
)


def _apply_to_thread(
    thread: Thread,
    post: NewMessage,
    *,
    now: object,
    state_changed: set[int],
    reopened: set[int],
) -> None:
    thread.updated_at = now  # type: ignore[assignment]
    if post.author == Message.Author.VISITOR:
        thread.operator_unread_count += 1
        if thread.status == Thread.Status.CLOSED:
            thread.status = Thread.Status.OPEN
            thread.closed_at = None
            state_changed.add(thread.pk)
            reopened.add(thread.pk)
        if thread.last_seq == 1:
            state_changed.add(thread.pk)  # a new conversation for the inbox
    elif post.author == Message.Author.OPERATOR:
        thread.visitor_unread_count += 1
        if thread.assigned_to_id is None and post.operator_id is not None:
            thread.assigned_to_id = post.operator_id
            state_changed.add(thread.pk)


def _outbox_entries(
    messages: list[Message], *, reopened: set[int]
) -> list[OutboxEntry]:
    """An outbox row per message and external channel (not back where it came); a
    thread that a visitor's message reopened gets its "reopened" row first, as
    ``reopen_thread`` writes one."""
    channels = settings.SOHBET_OUTBOX_CHANNELS
    entries: list[OutboxEntry] = []
    for message in messages:
        if message.thread_id in reopened:
            reopened = reopened - {message.thread_id}
            entries.extend(
                OutboxEntry(
                    channel=channel,
                    kind=OutboxEntry.Kind.THREAD_REOPENED,
                    thread_id=message.thread_id,
                )
                for channel in channels
            )
        entries.extend(
            OutboxEntry(
                channel=channel,
                kind=OutboxEntry.Kind.MESSAGE,
                thread_id=message.thread_id,
                message=message,
            )
            for channel in channels
            if channel != message.source
        )
    return entries


def message_events(messages: list[Message]) -> list[events.Event]:
    """The live events of new messages: to their thread's visitors and operators."""
    batch: list[events.Event] = []
    for message in messages:
        payload = events.message_payload(message)
        for group in (events.thread_group(message.thread_id), events.OPERATORS_GROUP):
            batch.append((group, {"type": events.MESSAGES, "messages": [payload]}))
    return batch


def thread_events(thread_ids: Iterable[int]) -> list[events.Event]:
    """The operators' events for threads whose status or assignee changed (read
    after the change committed: the async writer's)."""
    return _thread_events(_threads_for_broadcast(set(thread_ids)))


async def athreads_for_broadcast(
    aconnection: Any, thread_ids: Iterable[int]
) -> list[Thread]:
    """``_threads_for_broadcast`` on PostgreSQL on an asyncio psycopg connection
    (the message writer's, on the event loop, between its batches): the same
    statement. ``athread_events`` makes their events."""
    [threads] = await batchsql.arun_together(
        [_threads_statement(thread_ids)],
        aconnection,
        prepare=settings.SOHBET_WRITER_PREPARE,
    )
    return threads


async def athread_events(threads: list[Thread]) -> list[events.Event]:
    """``thread_events`` for threads read by ``athreads_for_broadcast``, the
    visitors' presence read on the loop too."""
    online = await presence.aonline_threads([thread.pk for thread in threads])
    return _thread_events(threads, online)


def _threads_for_broadcast(thread_ids: set[int]) -> list[Thread]:
    """The threads with what their events show loaded. On PostgreSQL one statement
    built once (batchsql) instead of the ORM's query, compiled on every call: a burst of
    new conversations (1,000 in two seconds in the benchmark) read them for a third
    of the interpreter's time (docs/performance.md)."""
    connection = batchsql.connection_for(Thread)
    if batchsql.supported(connection):
        return batchsql.run(_threads_statement(thread_ids), connection)
    return list(
        Thread.objects.select_related(*THREAD_RELATED).filter(pk__in=thread_ids)
    )


def _threads_statement(thread_ids: Iterable[int]) -> batchsql.Statement[list[Thread]]:
    return batchsql.related_rows_statement(
        Thread, sorted(set(thread_ids)), THREAD_RELATED
    )


def _broadcast_thread(thread: Thread) -> None:
    _broadcast_threads([thread])


def _broadcast_threads(threads: Iterable[Thread]) -> None:
    """Tell the operators of these threads' new state after commit."""
    events.broadcast_all_on_commit(_thread_events(threads))


def _thread_events(
    threads: Iterable[Thread], online: set[int] | None = None
) -> list[events.Event]:
    """Thread events with whether each visitor's page is open (read here once for
    all, not by each operator socket for each thread, unless given), and for the
    thread's visitor sockets its status only (they pass on a change of it)."""
    threads = list(threads)
    if online is None:
        online = presence.online_threads([thread.pk for thread in threads])
    batch: list[events.Event] = []
    for thread in threads:
        payload = events.thread_payload(thread, visitor_online=thread.pk in online)
        batch.append(
            (events.OPERATORS_GROUP, {"type": events.THREAD, "thread": payload})
        )
        batch.append(
            (
                events.thread_group(thread.pk),
                {
                    "type": events.THREAD,
                    "thread": events.visitor_thread_payload(thread),
                },
            )
        )
    return batch


# --- Threads ------------------------------------------------------------------------


def _locked_thread(thread_id: int) -> Thread:
    try:
        return Thread.objects.select_for_update().get(pk=thread_id)
    except Thread.DoesNotExist:
        raise ChatError(
            ErrorCode.NOT_FOUND, _("This conversation does not exist.")
        ) from None


def _reload_and_broadcast(thread_id: int) -> Thread:
    thread = Thread.objects.select_related(*THREAD_RELATED).get(pk=thread_id)
    _broadcast_thread(thread)
    return thread


@transaction.atomic
def close_thread(*, thread_id: int, by: User | None = None) -> Thread:
    """Close a thread. Broadcasts the thread to operators; queues an outbox row.

    Raises ChatError(not_found). Closing a closed thread changes nothing.
    """
    thread = _locked_thread(thread_id)
    if thread.status == Thread.Status.CLOSED:
        return _reload_and_broadcast(thread_id)
    thread.status = Thread.Status.CLOSED
    thread.closed_at = thread.updated_at = timezone.now()
    thread.save(update_fields=["status", "closed_at", "updated_at"])
    _queue_thread_outbox(thread, OutboxEntry.Kind.THREAD_CLOSED)
    return _reload_and_broadcast(thread_id)


@transaction.atomic
def reopen_thread(*, thread_id: int, by: User | None = None) -> Thread:
    """Reopen a closed thread. Broadcasts the thread; queues an outbox row.

    Raises ChatError(not_found). Reopening an open thread changes nothing.
    """
    thread = _locked_thread(thread_id)
    if thread.status == Thread.Status.OPEN:
        return _reload_and_broadcast(thread_id)
    thread.status = Thread.Status.OPEN
    thread.closed_at = None
    thread.updated_at = timezone.now()
    thread.save(update_fields=["status", "closed_at", "updated_at"])
    _queue_thread_outbox(thread, OutboxEntry.Kind.THREAD_REOPENED)
    return _reload_and_broadcast(thread_id)


def _queue_thread_outbox(thread: Thread, kind: str) -> None:
    OutboxEntry.objects.bulk_create(
        OutboxEntry(channel=channel, kind=kind, thread=thread)
        for channel in settings.SOHBET_OUTBOX_CHANNELS
    )


@transaction.atomic
def assign_thread(*, thread_id: int, operator_id: int | None) -> Thread:
    """Assign a thread to an active staff user, or unassign it (``None``).

    Broadcasts the thread to operators. Raises ChatError(not_found) for an unknown
    thread or operator.
    """
    thread = _locked_thread(thread_id)
    if (
        operator_id is not None
        and not User.objects.filter(
            pk=operator_id, is_staff=True, is_active=True
        ).exists()
    ):
        raise ChatError(ErrorCode.NOT_FOUND, _("This operator does not exist."))
    if thread.assigned_to_id != operator_id:
        thread.assigned_to_id = operator_id
        thread.save(update_fields=["assigned_to"])
    return _reload_and_broadcast(thread_id)


@transaction.atomic
def mark_read(*, thread_id: int, by: str, up_to: int) -> int | None:
    """Record that the visitor (``by="visitor"``) or the operators read the thread's
    messages up to message id ``up_to``.

    Only moves forward, and only to an id of the thread written by the other side.
    Recomputes the unread count; broadcasts a read event to the other side (and the
    thread to operators when operators read). Returns the new mark, or None when
    nothing changed.
    """
    thread = _locked_thread(thread_id)
    other = Message.Author.OPERATOR if by == "visitor" else Message.Author.VISITOR
    mark_field = "visitor_read_up_to" if by == "visitor" else "operator_read_up_to"
    count_field = "visitor_unread_count" if by == "visitor" else "operator_unread_count"
    current = getattr(thread, mark_field)
    up_to = min(up_to, thread.last_message_id or 0)
    if up_to <= current:
        return None
    setattr(thread, mark_field, up_to)
    setattr(
        thread,
        count_field,
        Message.objects.filter(thread=thread, author=other, pk__gt=up_to).count(),
    )
    thread.save(update_fields=[mark_field, count_field])
    read_event = {"type": events.READ, "thread": thread.pk, "by": by, "up_to": up_to}
    events.broadcast_on_commit(events.thread_group(thread.pk), read_event)
    events.broadcast_on_commit(events.OPERATORS_GROUP, read_event)
    if by == "operator":
        _reload_and_broadcast(thread.pk)
    return up_to


@transaction.atomic
def mark_delivered(*, thread_id: int, up_to: int) -> int | None:
    """Record that the operators' inbox received the visitor's messages up to
    ``up_to``; tells the visitor. Only moves forward. Returns the new mark or None."""
    thread = _locked_thread(thread_id)
    up_to = min(up_to, thread.last_message_id or 0)
    if up_to <= thread.operator_delivered_up_to:
        return None
    thread.operator_delivered_up_to = up_to
    thread.save(update_fields=["operator_delivered_up_to"])
    events.broadcast_on_commit(
        events.thread_group(thread.pk),
        {"type": events.DELIVERED, "thread": thread.pk, "up_to": up_to},
    )
    return up_to


@transaction.atomic
def edit_message(*, message_id: int, body: str) -> Message:
    """Replace a message's text (an operator edited it in Telegram).

    Broadcasts the updated message (with ``edited`` set) to the thread's visitor
    sockets and to the operators. Raises ChatError(not_found).
    """
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This message does not exist."))
    if message.body == body:
        return message
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    payload = events.message_payload(message)
    for group in (events.thread_group(message.thread_id), events.OPERATORS_GROUP):
        events.broadcast_on_commit(
            group, {"type": events.MESSAGES, "messages": [payload]}
        )
    return message


# --- Outbox -------------------------------------------------------------------------


def complete_outbox(*, entry_ids: Sequence[int]) -> None:
    """Mark deliveries done (the integration delivered them)."""
    OutboxEntry.objects.filter(pk__in=entry_ids).update(
        status=OutboxEntry.Status.DONE, done_at=timezone.now(), last_error=""
    )


def retry_outbox(*, entry_id: int, error: str, delay_seconds: float) -> None:
    """Count a failed attempt and schedule the next one ``delay_seconds`` from now."""
    OutboxEntry.objects.filter(pk=entry_id).update(
        attempts=F("attempts") + 1,
        last_error=error[:1000],
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay_seconds),
    )


def note_outbox_wait(*, entry_id: int, error: str) -> None:
    """Say why a delivery waits (the service asked it to), without counting a try."""
    OutboxEntry.objects.filter(pk=entry_id).update(last_error=error[:1000])


def fail_outbox(*, entry_ids: Sequence[int], error: str) -> None:
    """Give up on deliveries (after their retries, or refused for good); the admin
    lists failed ones and may queue them again (``retry_failed_outbox``)."""
    OutboxEntry.objects.filter(pk__in=entry_ids).update(
        status=OutboxEntry.Status.FAILED,
        attempts=F("attempts") + 1,
        last_error=error[:1000],
        done_at=timezone.now(),
    )


def retry_failed_outbox(*, entry_ids: Sequence[int]) -> int:
    """Queue failed deliveries again, due now, with their tries counted from zero.
    Other entries are left as they are. Returns how many were queued."""
    return OutboxEntry.objects.filter(
        pk__in=entry_ids, status=OutboxEntry.Status.FAILED
    ).update(
        status=OutboxEntry.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        done_at=None,
    )


# --- Housekeeping (manage.py cleanup, the admin's erasure) ----------------------------

PURGE_BATCH = 500


@transaction.atomic
def erase_visitor(*, visitor_id: int) -> int:
    """Delete a visitor and everything about them (the right to erasure): their
    threads with every message and outbox row, and the bridge's topic and message
    links, all by cascade. Returns how many messages went (0 for an unknown visitor).

    Broadcasts nothing: a page of theirs still open starts over as a new visitor when
    it reconnects. Their stored files are removed from storage after commit, so that
    a rolled-back erasure keeps them.
    """
    message_count = Message.objects.filter(thread__visitor_id=visitor_id).count()
    _delete_files_on_commit(Attachment.objects.filter(thread__visitor_id=visitor_id))
    Visitor.objects.filter(pk=visitor_id).delete()
    return message_count


def _delete_files_on_commit(attachments: QuerySet[Attachment]) -> None:
    """Remove these attachments' files once the transaction deleting them commits."""
    names = [name for name in attachments.values_list("file", flat=True) if name]
    if names:
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a file already gone, or storage down: log, carry on
            logger.warning("stored file %s could not be deleted", name, exc_info=True)


def purge_stale_visitors(*, seen_before: dt.datetime, dry_run: bool = False) -> int:
    """Delete visitors last seen before ``seen_before`` whose threads hold no message
    (they opened the page and never wrote), with their empty threads. Returns how many
    visitors were deleted, or with ``dry_run`` how many would be; deletes nothing then.
    """
    written = Message.objects.filter(thread__visitor_id=OuterRef("pk"))
    stale = Visitor.objects.filter(last_seen_at__lt=seen_before).filter(
        ~Exists(written)
    )
    return stale.count() if dry_run else _delete_in_batches(stale)


def purge_closed_threads(
    *, last_message_before: dt.datetime, dry_run: bool = False
) -> int:
    """Delete closed threads whose last message is older than
    ``last_message_before`` (threads without messages: last updated before it), with
    their messages and outbox rows (cascade). Open threads are never touched. Returns
    how many threads were deleted, or with ``dry_run`` how many would be.
    """
    old = Thread.objects.filter(status=Thread.Status.CLOSED).filter(
        Q(last_message_at__lt=last_message_before)
        | Q(last_message_at__isnull=True, updated_at__lt=last_message_before)
    )
    return old.count() if dry_run else _delete_in_batches(old)


def _delete_in_batches(queryset: QuerySet[Any]) -> int:
    # Short transactions; rows are locked as they are chosen (where the database can),
    # so a thread a visitor is posting to right now is either deleted first (the post
    # then finds no thread) or skipped. Each round deletes what it chose: it ends.
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                queryset.select_for_update(skip_locked=True).values_list(
                    "pk", flat=True
                )[:PURGE_BATCH]
            )
            if not ids:
                return deleted
            if queryset.model is Thread:
                _delete_files_on_commit(Attachment.objects.filter(thread_id__in=ids))
            elif queryset.model is Visitor:
                _delete_files_on_commit(
                    Attachment.objects.filter(thread__visitor_id__in=ids)
                )
            queryset.model._default_manager.filter(pk__in=ids).delete()
        deleted += len(ids)


# --- Attachments --------------------------------------------------------------------


def store_attachment(
    *,
    thread_id: int,
    uploaded_by: str,
    operator_id: int | None,
    cleaned: CleanFile,
    uploader_key: str = "",
) -> Attachment:
    """Store a checked upload under a random name and record it (not sent yet), with
    the ``uploader_key`` its address's quota counts it under.

    The file is written first; if writing fails (a full disk) what was written is
    removed and no row exists, and if recording it fails the file is removed: a
    failed upload leaves nothing behind.
    """
    name = default_storage.get_available_name(
        attachment_path(None, f"upload.{cleaned.extension}")
    )
    try:
        path = default_storage.save(name, ContentFile(cleaned.content))
    except BaseException:
        _delete_files([name])  # the part written before the failure, if any
        raise
    try:
        with transaction.atomic():
            return Attachment.objects.create(
                thread_id=thread_id,
                uploaded_by=uploaded_by,
                operator_id=operator_id,
                file=path,
                kind=cleaned.kind,
                content_type=cleaned.content_type,
                size=len(cleaned.content),
                name=cleaned.name,
                width=cleaned.width,
                height=cleaned.height,
                uploader_key=uploader_key,
            )
    except BaseException:
        default_storage.delete(path)
        raise


def delete_unsent_attachments(*, older_than: dt.timedelta) -> int:
    """Remove uploads never sent with a message (and their files); returns how many."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff)
        _delete_files_on_commit(stale)
        count, _ = stale.delete()
    return count
