"""Writes on visitors: their sessions, conversations, names and visits.

A new visitor costs no row until they write: the page draws the ids of their visitor
and first thread into the browser session (``begin_visitor_session``), their socket
says hello with those (``open_conversation``), and the rows are written with the
first message, in its batch (``chat.storage``), or with the first upload or name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from chat import events
from chat.context import COLUMNS, Value, load_attributes
from chat.exceptions import ChatError, ErrorCode
from chat.models import Thread, Visitor
from chat.rules import NewConversation
from chat.services.context import touch_visitor
from chat.storage import (
    current_thread_events,
    reserve_conversation_ids,
    store_conversations,
)
from realtime import send_on_commit

# The session's entries naming its visitor and their thread (drawn or written).
VISITOR_SESSION_KEY = "sohbet_visitor_id"
THREAD_SESSION_KEY = "sohbet_thread_id"

# What a visitor's socket says of their thread in its hello.
HELLO_THREAD_FIELDS = (
    "id",
    "status",
    "last_seq",
    "operator_read_up_to",
    "operator_delivered_up_to",
)


# What the hello reads of a written conversation: its thread and its visitor.
_STORED = {f"visitor__{column}": name for name, column in COLUMNS.items()}
HELLO_COLUMNS = (
    *HELLO_THREAD_FIELDS,
    "visitor__name",
    "visitor__attributes",
    "visitor__email",
    "visitor__email_unsubscribed_at",
    *_STORED,
)


@dataclass(frozen=True, slots=True)
class VisitorConversation:
    """A visitor's current conversation as their socket opens it; ``new`` while
    its rows are not written (they are with its first message). ``context`` and
    ``attributes``: what is stored of their page (chat.context.COLUMNS)."""

    visitor_id: int
    visitor_name: str
    thread: dict[str, Any]  # HELLO_THREAD_FIELDS
    new: NewConversation | None
    context: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Value] = field(default_factory=dict)
    email: str = ""
    email_unsubscribed: bool = False


def begin_visitor_session(session: SessionBase) -> bool:
    """Draw the ids of a new session's visitor and thread (no row is written; on
    databases without sequences the socket writes the rows instead). Whether it
    drew them."""
    if session.get(VISITOR_SESSION_KEY) is not None:
        return False
    ids = reserve_conversation_ids()
    if ids is None:
        return False
    session[VISITOR_SESSION_KEY], session[THREAD_SESSION_KEY] = ids
    return True


def open_conversation(
    session: SessionBase, *, locale: str = "", user_agent: str = "", country: str = ""
) -> VisitorConversation:
    """The conversation of a session's visitor: the written one (their visit is
    recorded: ``touch_visitor``), else the one drawn for the session (drawn now if
    the session began elsewhere than the page), else written now (no sequences)."""
    visitor_id: int | None = session.get(VISITOR_SESSION_KEY)
    if visitor_id is not None:
        row = hello_row(visitor_id)
        if row is not None:
            touch_visitor(visitor_id=visitor_id, country=country)
            name = row.pop("visitor__name")
            attributes = load_attributes(row.pop("visitor__attributes"))
            email = row.pop("visitor__email")
            unsubscribed = row.pop("visitor__email_unsubscribed_at") is not None
            context = {name: row.pop(column) for column, name in _STORED.items()}
            return VisitorConversation(
                visitor_id, name, row, None, context, attributes, email, unsubscribed
            )
    if begin_visitor_session(session):  # a session begun elsewhere than the page
        session.save()
    new = drawn_conversation(
        session, locale=locale, user_agent=user_agent, country=country
    )
    if new is None:  # no sequences: the rows now
        visitor, written = start_visitor(
            session_key=session.session_key or "",
            visitor_id=session.get(VISITOR_SESSION_KEY),
            locale=locale,
            user_agent=user_agent,
            country=country,
        )
        session[VISITOR_SESSION_KEY] = visitor.pk
        session.save()
        fields = {name: getattr(written, name) for name in HELLO_THREAD_FIELDS}
        return VisitorConversation(visitor.pk, visitor.name, fields, new=None)
    drawn: dict[str, Any] = dict.fromkeys(HELLO_THREAD_FIELDS, 0)
    drawn.update(id=new.thread_id, status=Thread.Status.OPEN)
    return VisitorConversation(new.visitor_id, "", drawn, new=new)


def hello_row(visitor_id: int) -> dict[str, Any] | None:
    """HELLO_COLUMNS of the visitor's current thread, None while none is written: in
    the SQL the ORM makes of it, made once per process (making it each time was
    four fifths of this read's CPU, on every socket's start: docs/performance.md).
    Plain columns only: no value goes through a field's conversion."""
    with connection.cursor() as cursor:
        cursor.execute(_hello_sql(connection.vendor), [visitor_id])
        row = cursor.fetchone()
    return None if row is None else dict(zip(HELLO_COLUMNS, row, strict=True))


@functools.cache
def _hello_sql(vendor: str) -> str:
    query = Thread.objects.filter(visitor_id=0).order_by("-pk")
    sql, params = query.values(*HELLO_COLUMNS)[:1].query.sql_with_params()
    if list(params) != [0]:  # pragma: no cover - the ORM would have changed
        raise RuntimeError(f"hello's read: unexpected parameters {params!r}")
    return str(sql)


def drawn_conversation(
    session: SessionBase,
    *,
    locale: str = "",
    user_agent: str = "",
    page: str = "",
    country: str = "",
) -> NewConversation | None:
    """The conversation whose ids were drawn for this session (written or not);
    None when the session holds none."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    thread_id = session.get(THREAD_SESSION_KEY)
    if visitor_id is None or thread_id is None:
        return None
    return NewConversation(
        visitor_id=visitor_id,
        thread_id=thread_id,
        session_key=session.session_key or "",
        locale=locale,
        user_agent=user_agent,
        page=page,
        country=country,
    )


def forget_session_visitor(session_key: str) -> None:
    """The browser session forgets its visitor (erased): its next socket starts a
    new one, with ids of its own."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if session.get(VISITOR_SESSION_KEY) is not None:  # an unknown key reads nothing
        session.pop(VISITOR_SESSION_KEY)
        session.pop(THREAD_SESSION_KEY, None)
        session.save()


def store_conversation(new: NewConversation) -> None:
    """Write a conversation's rows now if they are not (an upload or a name before
    the first message)."""
    store_conversations([new])


@transaction.atomic
def start_visitor(
    *,
    session_key: str,
    visitor_id: int | None = None,
    locale: str = "",
    user_agent: str = "",
    country: str = "",
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
                "country": country[:2],
            },
        )
        Visitor.objects.select_for_update().filter(pk=visitor.pk).first()
    thread = Thread.objects.filter(visitor=visitor).order_by("-pk").first()
    if thread is None:
        thread = Thread.objects.create(visitor=visitor)
    return visitor, thread


@transaction.atomic
def rebind_visitor_session(
    *,
    visitor_id: int,
    old_session_key: str,
    session_key: str,
    thread_id: int | None = None,
) -> None:
    """Move a visitor to their browser session's new key (rotated), and close the
    sockets opened with the old key after commit (``session.rotated`` to their
    thread's group: they reconnect with the browser's new cookie). ``thread_id``:
    the session's, for a conversation not written yet."""
    Visitor.objects.filter(pk=visitor_id).update(session_key=session_key)
    thread = Thread.objects.filter(visitor_id=visitor_id).order_by("-pk").first()
    if thread is not None:
        thread_id = thread.pk
    if thread_id is not None:
        send_on_commit(
            events.session_event(
                events.thread_group(thread_id),
                events.SESSION_ROTATED,
                session=events.session_group(old_session_key),
            )
        )


def written_visitor(session: SessionBase) -> Visitor:
    """The session's visitor, locked, their conversation's rows written if they were
    only drawn (identify, a device code, an email: what needs the visitor's row).
    Raises ChatError(forbidden) for a session with no chat at all."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    if visitor_id is not None:
        visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
        if visitor is not None:
            return visitor
    new = drawn_conversation(session)
    if new is not None:
        store_conversation(new)
        return Visitor.objects.select_for_update().get(pk=new.visitor_id)
    if not session.session_key:  # no chat was ever opened with this session
        raise ChatError(
            ErrorCode.FORBIDDEN, _("This chat session has ended. Reload the page.")
        )
    visitor, _thread = start_visitor(
        session_key=session.session_key, visitor_id=visitor_id
    )
    session[VISITOR_SESSION_KEY] = visitor.pk
    return visitor


def attach_session(session: SessionBase, visitor_id: int) -> None:
    """Point a browser session at a visitor whose rows are written (a verified user
    of the host site, another device's code, an email's link), inside the caller's
    transaction. The session's key is rotated (whoever knew the old one is left
    out: the caller hands the browser the new cookie or token), and its sockets
    close with 4001 to reconnect into that visitor's conversation."""
    old_key = session.session_key or ""
    old_thread = current_thread_id(session)
    session[VISITOR_SESSION_KEY] = visitor_id
    session.pop(THREAD_SESSION_KEY, None)
    session.cycle_key()
    rebind_visitor_session(
        visitor_id=visitor_id,
        old_session_key=old_key,
        session_key=session.session_key or "",
    )
    if old_thread is not None and old_key:  # the sockets of the conversation left
        send_on_commit(
            events.session_event(
                events.thread_group(old_thread),
                events.SESSION_ROTATED,
                session=events.session_group(old_key),
            )
        )


def current_thread_id(session: SessionBase) -> int | None:
    """The thread a session's visitor is in now (written, or drawn only)."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    if visitor_id is not None:
        thread = Thread.objects.filter(visitor_id=visitor_id).order_by("-pk").first()
        if thread is not None:
            return thread.pk
    return session.get(THREAD_SESSION_KEY)


@transaction.atomic
def rename_visitor(*, visitor_id: int, name: str) -> Visitor:
    """Set the visitor's display name; operators get the updated threads."""
    visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
    visitor.name = name[:80]
    visitor.save(update_fields=["name"])
    threads = Thread.objects.filter(visitor=visitor, last_message__isnull=False)
    send_on_commit(*current_thread_events(threads.values_list("pk", flat=True)))
    return visitor
