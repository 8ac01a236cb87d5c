"""What posting a batch of messages does, as plain functions: no database, no engine.

``chat.storage`` locks the batch's threads, looks up what was stored before, and
writes what ``apply_posts`` decided. A rule reads only ``THREAD_LOCK_FIELDS`` of a
thread (the fast storage loads no other: a read of another field would be a query
from the event loop); a unit test runs the rules on threads loaded so.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy

from chat.exceptions import ChatError, ErrorCode
from chat.models import Attachment, Message, OutboxEntry, Thread, Visitor

# What a batch reads of its locked threads; it writes THREAD_POST_FIELDS.
THREAD_LOCK_FIELDS = (
    "last_seq",
    "status",
    "closed_at",
    "assigned_to",
    "operator_unread_count",
    "visitor_unread_count",
    "waiting_since",
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
    "waiting_since",
)

Key = tuple[int, uuid.UUID]  # (thread id, client id): a message's identity


@dataclass(frozen=True, slots=True)
class NewConversation:
    """A visitor's conversation whose rows are not written yet: the ids drawn for it
    when its browser session began (chat.services.visitors), and the visitor's
    details (what their page told: chat.context, bounded there; ``attributes`` as
    JSON text). Its rows are written with its first message, in the same batch."""

    visitor_id: int
    thread_id: int
    session_key: str
    locale: str = ""
    user_agent: str = ""
    page: str = ""
    page_title: str = ""
    referrer: str = ""
    time_zone: str = ""
    language: str = ""
    country: str = ""
    attributes: str = ""


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One message to post. ``operator_id`` is set for operator messages only;
    ``conversation`` while its thread may not be written yet."""

    thread_id: int
    client_id: uuid.UUID
    body: str
    author: str = Message.Author.VISITOR
    operator_id: int | None = None
    author_name: str = ""
    source: str = Message.Source.WEB
    attachment_id: int | None = None
    conversation: NewConversation | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    message: Message
    created: bool  # False: the client_id was stored before (a resend)
    reopened: bool = False  # this new message reopened its closed thread


PostOutcome = Posted | ChatError


@dataclass(slots=True)
class Applied:
    """What a batch does: one outcome per post (None for a new message, known once
    the rows have ids), the new messages, the threads to write, the threads whose
    status or assignee changed (the operators are told), and those a visitor's
    message reopened (their outbox gets a "reopened" row first)."""

    outcomes: list[PostOutcome | None] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)
    state_changed: set[int] = field(default_factory=set)
    reopened: set[int] = field(default_factory=set)


def conversation_rows(
    conversations: Sequence[NewConversation], now: dt.datetime
) -> tuple[list[Visitor], list[Thread]]:
    """The visitor and thread rows of conversations not written yet (one each per
    thread): written when missing, before the batch's threads are locked."""
    visitors: list[Visitor] = []
    threads: list[Thread] = []
    for new in {c.thread_id: c for c in conversations}.values():
        visitors.append(
            Visitor(
                pk=new.visitor_id,
                session_key=new.session_key,
                locale=new.locale[:16],
                user_agent=new.user_agent[:300],
                last_page=new.page[:500],
                page_title=new.page_title[:200],
                referrer=new.referrer[:500],
                time_zone=new.time_zone[:64],
                language=new.language[:35],
                country=new.country[:2],
                attributes=new.attributes,
                visits=1,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
        threads.append(
            Thread(
                pk=new.thread_id,
                visitor_id=new.visitor_id,
                created_at=now,
                updated_at=now,
            )
        )
    return visitors, threads


def new_conversations(posts: Sequence[NewMessage]) -> list[NewConversation]:
    return [post.conversation for post in posts if post.conversation is not None]


def lock_order(posts: Sequence[NewMessage]) -> list[int]:
    """The batch's threads in the order they are locked: by id, so that two batches
    never wait for each other's locks."""
    return sorted({post.thread_id for post in posts})


def apply_posts(
    posts: Sequence[NewMessage],
    *,
    threads: dict[int, Thread],
    stored: dict[Key, Message],
    attachments: dict[int, Attachment],
    now: dt.datetime,
) -> Applied:
    """Decide each post: a new message numbered in its thread, the one stored before
    under its ``client_id``, or a refusal (no such thread, no such free upload).
    Updates ``threads`` in memory and pops the attachments it uses."""
    applied = Applied()
    seen = dict(stored)
    for post in posts:
        thread = threads.get(post.thread_id)
        if thread is None:
            applied.outcomes.append(_not_found(post, conversation=True))
            continue
        key = (post.thread_id, post.client_id)
        if key in seen:
            applied.outcomes.append(Posted(message=seen[key], created=False))
            continue
        attachment = None
        if post.attachment_id is not None:
            attachment = attachments.pop(post.attachment_id, None)
            if attachment is None or not may_attach(attachment, post):
                applied.outcomes.append(_not_found(post, conversation=False))
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
        seen[key] = message
        applied.messages.append(message)
        applied.outcomes.append(None)
        _apply_to_thread(thread, post, now=now, applied=applied)
        applied.threads[thread.pk] = thread
    return applied


def _apply_to_thread(
    thread: Thread, post: NewMessage, *, now: dt.datetime, applied: Applied
) -> None:
    """A visitor's message counts as unread for the operators, reopens a closed
    thread and starts the wait for an answer (``waiting_since``); an operator's ends
    it, and the first operator to answer an unassigned thread takes it."""
    thread.updated_at = now
    if post.author == Message.Author.VISITOR:
        thread.operator_unread_count += 1
        if thread.waiting_since is None:
            thread.waiting_since = now
        if thread.status == Thread.Status.CLOSED:
            thread.status = Thread.Status.OPEN
            thread.closed_at = None
            thread.waiting_since = now
            applied.state_changed.add(thread.pk)
            applied.reopened.add(thread.pk)
        if thread.last_seq == 1:
            applied.state_changed.add(thread.pk)  # a new conversation for the inbox
    elif post.author == Message.Author.OPERATOR:
        thread.visitor_unread_count += 1
        thread.waiting_since = None
        if thread.assigned_to_id is None and post.operator_id is not None:
            thread.assigned_to_id = post.operator_id
            applied.state_changed.add(thread.pk)


def after_insert(applied: Applied, posts: Sequence[NewMessage]) -> list[PostOutcome]:
    """Once the new messages have ids: each thread's last message, and every post's
    outcome."""
    reopened = set(applied.reopened)
    posted: list[Posted] = []
    for message in applied.messages:
        thread = applied.threads[message.thread_id]
        thread.last_message = message
        thread.last_message_at = message.created_at
        # The first of the batch's messages in a thread it reopened is the one.
        first = message.thread_id in reopened
        reopened.discard(message.thread_id)
        posted.append(Posted(message=message, created=True, reopened=first))
    new = iter(posted)
    return [
        outcome if outcome is not None else next(new) for outcome in applied.outcomes
    ]


def outbox_entries(applied: Applied, channels: Sequence[str]) -> list[OutboxEntry]:
    """An outbox row per new message and external channel (not back where it came
    from); a thread that a visitor's message reopened gets its "reopened" row first,
    as ``reopen_thread`` writes one."""
    reopened = set(applied.reopened)
    entries: list[OutboxEntry] = []
    for message in applied.messages:
        if message.thread_id in reopened:
            reopened.discard(message.thread_id)
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
            # An operator's message from a channel is not sent back there; a
            # visitor's (their own Telegram chat) goes to the operators' too.
            if channel != message.source or message.author == Message.Author.VISITOR
        )
    return entries


def reply_entries(applied: Applied, channels: Sequence[str]) -> list[OutboxEntry]:
    """A row per new operator message and channel that may carry it to the visitor
    elsewhere (``SOHBET_REPLY_CHANNELS``: the visitor's own Telegram chat); the
    channel's worker decides whether it is needed (linked, page closed, unread)."""
    return [
        OutboxEntry(
            channel=channel,
            kind=OutboxEntry.Kind.MESSAGE,
            thread_id=message.thread_id,
            message=message,
        )
        for message in applied.messages
        if message.author == Message.Author.OPERATOR
        for channel in channels
    ]


EMAIL_CHANNEL = "email"


def email_entries(applied: Applied, *, delay_seconds: int) -> list[OutboxEntry]:
    """A row of the "email" channel per new operator message, due when the visitor
    has had ``delay_seconds`` to read it: unread then, it is emailed to them with
    what else they have not read (chat.email.worker decides, and skips it when they
    have no email, asked for none, or read it). None when ``delay_seconds`` is 0."""
    if delay_seconds <= 0:
        return []
    return [
        OutboxEntry(
            channel=EMAIL_CHANNEL,
            kind=OutboxEntry.Kind.MESSAGE,
            thread_id=message.thread_id,
            message=message,
            next_attempt_at=message.created_at + dt.timedelta(seconds=delay_seconds),
            created_at=message.created_at,
        )
        for message in applied.messages
        if message.author == Message.Author.OPERATOR
    ]


def may_attach(attachment: Attachment, post: NewMessage) -> bool:
    """An upload goes with a message of its own thread, by whoever uploaded it."""
    if attachment.thread_id != post.thread_id or attachment.uploaded_by != post.author:
        return False
    return post.author != Message.Author.OPERATOR or attachment.operator_id in (
        None,
        post.operator_id,
    )


def _not_found(post: NewMessage, *, conversation: bool) -> ChatError:
    # Lazy: the writer stores batches for many sockets, and each consumer renders
    # its refusal in its socket's language.
    detail = (
        gettext_lazy("This conversation does not exist.")
        if conversation
        else gettext_lazy("This file does not exist or was already sent.")
    )
    return ChatError(ErrorCode.NOT_FOUND, detail, client_id=str(post.client_id))
