"""How a batch of messages is stored: the rules of ``chat.rules`` written by one of
two engines.

- ``store_posts``: the ORM, in a transaction (any database; resends, attachments).
- ``MessageStore.astore``: PostgreSQL on the message writer's asyncio connection, on
  the event loop, in two round trips of statements built once (``realtime.sql``):
  nearly every batch under load. It hands a batch with a resend or an attachment to
  the ORM (``UseThread``).

``MessageStore`` is what ``realtime.writer`` stores with (``chat.services.messages``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from chat import events, presence, rules, starts
from chat.exceptions import ChatError, ErrorCode
from chat.models import Attachment, Message, OutboxEntry, Thread, Visitor
from chat.push.rules import push_entries
from chat.rules import (
    THREAD_LOCK_FIELDS,
    THREAD_POST_FIELDS,
    NewConversation,
    NewMessage,
)
from chat.selectors import THREAD_RELATED
from realtime import run_in_db, send_on_commit, sql
from realtime.delivery import Event
from realtime.writer import Stored, UseThread

# The models the fast engine writes, with the fields it reads or writes of each:
# chat.checks refuses, at start-up, a field that realtime.sql cannot carry.
FAST_FIELDS: dict[type[Any], tuple[str, ...]] = {
    model: tuple(f.name for f in model._meta.concrete_fields if not f.primary_key)
    for model in (Visitor, Thread, Message, OutboxEntry)  # new conversations: all
}


def reserve_conversation_ids() -> tuple[int, int] | None:
    """Ids for a visitor and their first thread, drawn from the tables' sequences
    without writing a row (PostgreSQL; None elsewhere: rows are written at once)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)), "
            "nextval(pg_get_serial_sequence(%s, %s))",
            [
                Visitor._meta.db_table,
                Visitor._meta.pk.column,
                Thread._meta.db_table,
                Thread._meta.pk.column,
            ],
        )
        visitor_id, thread_id = cursor.fetchone()
    return visitor_id, thread_id


def store_conversations(conversations: list[NewConversation]) -> None:
    """Write the rows of these conversations that are not written yet."""
    if conversations:
        visitors, threads = rules.conversation_rows(conversations, timezone.now())
        Visitor.objects.bulk_create(visitors, ignore_conflicts=True)
        Thread.objects.bulk_create(threads, ignore_conflicts=True)


@transaction.atomic
def store_posts(posts: Sequence[NewMessage]) -> list[rules.PostOutcome]:
    """Store a batch through the ORM, in order; one outcome per post. After commit the
    new messages go to their threads' visitors and the operators, and the threads
    whose status or assignee changed to the operators."""
    store_conversations(rules.new_conversations(posts))
    threads = {
        thread.pk: thread
        for thread in Thread.objects.select_for_update()
        .filter(pk__in=rules.lock_order(posts))
        .order_by("pk")
    }
    applied = rules.apply_posts(
        posts,
        threads=threads,
        stored=_stored_messages(threads, posts),
        attachments=_free_attachments(posts),
        now=timezone.now(),
    )
    if not applied.messages:
        return rules.after_insert(applied, posts)
    Message.objects.bulk_create(applied.messages)
    outcomes = rules.after_insert(applied, posts)
    Thread.objects.bulk_update(applied.threads.values(), list(THREAD_POST_FIELDS))
    entries = _outbox_entries(applied)
    if entries:
        OutboxEntry.objects.bulk_create(entries)
    send_on_commit(*events.message_events(applied.messages))
    if applied.state_changed:
        send_on_commit(*current_thread_events(applied.state_changed))
    return outcomes


def _outbox_entries(applied: rules.Applied) -> list[OutboxEntry]:
    return [
        *rules.outbox_entries(applied, settings.SOHBET_OUTBOX_CHANNELS),
        *rules.email_entries(applied, delay_seconds=settings.SOHBET_EMAIL_UNREAD_DELAY),
        *rules.reply_entries(applied, settings.SOHBET_REPLY_CHANNELS),
        *push_entries(
            applied,
            enabled=settings.SOHBET_PUSH_ENABLED,
            delay_seconds=settings.SOHBET_PUSH_DELAY,
        ),
    ]


def current_thread_events(thread_ids: Iterable[int]) -> list[Event]:
    """The threads' current state, for the operators and the threads' visitors."""
    return thread_events_for(
        list(
            Thread.objects.select_related(*THREAD_RELATED).filter(
                pk__in=set(thread_ids)
            )
        )
    )


def thread_events_for(threads: list[Thread]) -> list[Event]:
    """``events.thread_state_events`` with whether each visitor's page is open
    (read here once for all, not by each operator socket)."""
    online = presence.online_threads([thread.pk for thread in threads])
    return events.thread_state_events(threads, online)


def _stored_messages(
    threads: dict[int, Thread], posts: Sequence[NewMessage]
) -> dict[rules.Key, Message]:
    """The messages already stored under the batch's (thread, client_id) pairs."""
    found = Message.objects.select_related("attachment").filter(
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


class MessageStore:
    """The message writer's store (``realtime.writer.Store``)."""

    def store(self, posts: list[NewMessage], hint: Any = None) -> Stored:
        outcomes = store_posts(posts)
        return Stored(outcomes=outcomes, events=[], changed=_to_assign(outcomes))

    async def astore(
        self,
        aconnection: Any,
        posts: list[NewMessage],
        admitted: Callable[[], Awaitable[list[NewMessage]]],
    ) -> Stored:
        """Two round trips: the transaction begun, new conversations' rows written,
        the threads locked, earlier copies of the posts looked for and the new
        messages' ids drawn; then every row written and the commit. Hands the batch
        to the ORM before any change when a post carries an attachment or was stored
        before. The conversations it began are told with its messages (``chat.starts``);
        other threads whose state changed are read after (``achanged``). A
        conversation whose first message a limit refused leaves no row."""
        if any(post.attachment_id is not None for post in posts):
            raise UseThread
        prepare = settings.SOHBET_WRITER_PREPARE
        keys = [(post.thread_id, post.client_id) for post in posts]
        rows = starts.rows_of(posts)
        first = sql.arun_together(
            [
                *starts.insert_statements(*rows),
                sql.lock_statement(Thread, rules.lock_order(posts), THREAD_LOCK_FIELDS),
                sql.match_statement(Message, ("thread", "client_id"), keys),
                sql.keys_statement(Message, len(posts)),
            ],
            aconnection,
            begin=True,
            prepare=prepare,
        )
        try:
            (*written, locked, earlier, ids), posts = await asyncio.gather(
                first, admitted()
            )
            if earlier:
                raise UseThread  # a resend: the ORM looks it up
            applied = rules.apply_posts(
                posts,
                threads={thread.pk: thread for thread in locked},
                stored={},
                attachments={},
                now=timezone.now(),
            )
            writes: list[sql.Statement[Any]] = []
            if applied.messages:
                for message, pk in zip(applied.messages, ids, strict=False):
                    message.pk = pk
                writes.append(sql.insert_statement(applied.messages, keyed=True))
                outcomes = rules.after_insert(applied, posts)
                writes.append(
                    sql.update_statement(
                        list(applied.threads.values()), THREAD_POST_FIELDS
                    )
                )
                entries = _outbox_entries(applied)
                if entries:
                    writes.append(sql.insert_statement(entries))
            else:
                outcomes = rules.after_insert(applied, posts)
            writes += starts.refused_deletes(rows, written, posts)
            await sql.arun_together(writes, aconnection, commit=True, prepare=prepare)
        except BaseException:
            await sql.arollback(aconnection)
            raise
        if any(message.pk is None for message in applied.messages):  # pragma: no cover
            raise IntegrityError("the database gave the new messages no ids")
        started = starts.started(rows, written, applied) if written else []
        return Stored(
            outcomes=outcomes,
            events=[
                *events.message_events(applied.messages),
                *events.thread_state_events(
                    started, {t.pk for t in started}, to_visitors=False
                ),
            ],
            changed=applied.state_changed - {thread.pk for thread in started},
        )

    def refusal(self, post: NewMessage, key: str) -> ChatError:
        from chat import safety

        if safety.is_new_thread_limit(key):
            return safety.too_many_threads(str(post.client_id))
        return ChatError(
            ErrorCode.RATE_LIMITED,
            gettext_lazy("Too many messages at once. Please slow down."),
            client_id=str(post.client_id),
        )

    def changed_events(self, thread_ids: set[int]) -> list[Event]:
        threads = list(
            Thread.objects.select_related(*THREAD_RELATED).filter(pk__in=thread_ids)
        )
        _note_assigned(threads, assign_new(_unassigned(threads)))
        return thread_events_for(threads)

    async def achanged(self, aconnection: Any, thread_ids: set[int]) -> list[Thread]:
        """The threads read as ``thread_events`` reads them, in one statement built
        once (a burst of new conversations read them through the ORM for a third of
        the interpreter's time: docs/performance.md)."""
        statement = sql.related_rows_statement(
            Thread, sorted(thread_ids), THREAD_RELATED
        )
        [threads] = await sql.arun_together(
            [statement], aconnection, prepare=settings.SOHBET_WRITER_PREPARE
        )
        return list(threads)

    async def achanged_events(self, threads: list[Thread]) -> list[Event]:
        from chat import desk

        unassigned = _unassigned(threads)
        if unassigned and not desk.auto_assignment_off():
            _note_assigned(threads, await run_in_db(assign_new, unassigned))
        online = await presence.aonline_threads([thread.pk for thread in threads])
        return events.thread_state_events(threads, online)


# --- Automatic assignment: in the step that tells operators of new conversations,
# after the commit and the ack (chat.services.assignment).


def _to_assign(outcomes: list[rules.PostOutcome]) -> set[int]:
    """Threads a visitor's message of an ORM batch started or reopened, when
    automatic assignment is on: the thread-event step reads them again."""
    started = {
        outcome.message.thread_id
        for outcome in outcomes
        if isinstance(outcome, rules.Posted)
        and outcome.created
        and outcome.message.author == Message.Author.VISITOR
        and (outcome.message.seq == 1 or outcome.reopened)
    }
    if not started:
        return set()
    from chat import desk

    return started if desk.is_auto_assignment_enabled() else set()


def _unassigned(threads: list[Thread]) -> list[int]:
    """Among threads a batch changed, those a visitor started or reopened and that
    nobody has: open and unassigned (an operator's message assigns its thread)."""
    return [
        thread.pk
        for thread in threads
        if thread.status == Thread.Status.OPEN and thread.assigned_to_id is None
    ]


def assign_new(thread_ids: list[int]) -> dict[int, Any]:
    """``assign_automatically`` when it is switched on."""
    from chat import desk
    from chat.services.assignment import assign_automatically

    if not thread_ids or not desk.is_auto_assignment_enabled():
        return {}
    return assign_automatically(thread_ids=thread_ids)


def _note_assigned(threads: list[Thread], assigned: dict[int, Any]) -> None:
    for thread in threads:
        if thread.pk in assigned:
            thread.assigned_to = assigned[thread.pk]


STORE = MessageStore()
