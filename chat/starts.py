"""The conversations a batch begins, in the fast engine (``chat.storage``): their
visitor and thread rows written in its first round trip, beside the limits' answer;
deleted before the commit when a limit refused their first message; and, once
committed, told to the operators as the batch wrote them (no read after)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from chat import rules
from chat.models import Thread, Visitor
from chat.rules import THREAD_POST_FIELDS, NewMessage
from realtime import sql

Rows = tuple[list[Visitor], list[Thread]]


def rows_of(posts: list[NewMessage]) -> Rows:
    """The rows of the batch's conversations not written yet (written first)."""
    conversations = rules.new_conversations(posts)
    if not conversations:
        return [], []
    return rules.conversation_rows(conversations, timezone.now())


def insert_statements(
    visitors: list[Visitor], threads: list[Thread]
) -> list[sql.Statement[list[int]]]:
    """Their inserts, each one's result the keys it wrote: a row written before (a
    name or an address given first, another tab) is left as it was."""
    if not threads:
        return []
    return [
        _keys_written(sql.insert_statement(visitors, ignore_conflicts=True)),
        _keys_written(sql.insert_statement(threads, ignore_conflicts=True)),
    ]


def _keys_written(insert: sql.Statement[int]) -> sql.Statement[list[int]]:
    def finish(rows: list[tuple[Any, ...]]) -> list[int]:
        insert.finish(rows)
        return [row[0] for row in rows]

    return sql.Statement(insert.sql, insert.params, finish, insert.returns_rows)


def refused_deletes(
    rows: Rows, written: list[list[int]], admitted: list[NewMessage]
) -> list[sql.Statement[None]]:
    """The rows this batch wrote of conversations none of whose posts a limit
    admitted, deleted before the commit: a refused message changes nothing (the
    visitor's next try writes them again)."""
    if not written:
        return []
    visitors_written, threads_written = (set(keys) for keys in written)
    passed = {post.thread_id for post in admitted}
    refused = [t for t in rows[1] if t.pk in threads_written - passed]
    if not refused:
        return []
    kept = {t.visitor_id for t in rows[1] if t.pk in passed}
    visitors = {t.visitor_id for t in refused} & (visitors_written - kept)
    deletes = [sql.delete_statement(Thread, [t.pk for t in refused])]
    if visitors:
        deletes.append(sql.delete_statement(Visitor, sorted(visitors)))
    return deletes


_POST_ATTNAMES = tuple(
    field.attname
    for field in Thread._meta.concrete_fields
    if field.name in THREAD_POST_FIELDS
)


def started(
    rows: Rows, written: list[list[int]], applied: rules.Applied
) -> list[Thread]:
    """The conversations this batch began, whole as it wrote them: every row new
    (none written before, by another tab or a form) and a first message in it. The
    operators' event of these needs no read after the commit (its state is the
    commit's), and says the visitor is online: a first message comes from their
    page (chat.consumers.visitor), present since it opened. None while automatic
    assignment may be on: it assigns them first (``achanged_events``)."""
    from chat import desk

    visitors, threads = rows
    if [len(keys) for keys in written] != [len(visitors), len(threads)]:
        return []
    if not desk.auto_assignment_off():
        return []
    visitor_of = {visitor.pk: visitor for visitor in visitors}
    begun = []
    for thread in threads:
        now = applied.threads.get(thread.pk)
        if now is None or now.assigned_to_id is not None:
            continue  # its message was refused (a limit), or not a visitor's
        for attname in _POST_ATTNAMES:
            setattr(thread, attname, getattr(now, attname))
        thread.last_message = now.last_message  # loaded by rules.after_insert
        thread.visitor = visitor_of[thread.visitor_id]
        begun.append(thread)
    return begun
