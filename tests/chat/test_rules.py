"""The rules of posting a batch (chat.rules), without a database: on threads loaded
as the fast storage loads them (THREAD_LOCK_FIELDS only), so that a rule reading any
other field fails here (pytest refuses the query a deferred field makes) rather than
on the event loop in production."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from chat.exceptions import ChatError, ErrorCode
from chat.models import Attachment, Message, OutboxEntry, Thread
from chat.rules import (
    THREAD_LOCK_FIELDS,
    NewMessage,
    Posted,
    after_insert,
    apply_posts,
    lock_order,
    outbox_entries,
    reply_entries,
)

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def locked_thread(pk: int, **values: object) -> Thread:
    """A thread as the lock statement loads it: its key and THREAD_LOCK_FIELDS."""
    defaults = {
        "last_seq": 0,
        "status": Thread.Status.OPEN,
        "closed_at": None,
        "assigned_to": None,
        "operator_unread_count": 0,
        "visitor_unread_count": 0,
        "waiting_since": None,
    }
    defaults.update(values, id=pk)
    loaded = {"id", *THREAD_LOCK_FIELDS}
    fields = [f for f in Thread._meta.concrete_fields if f.name in loaded]
    return Thread.from_db(  # values in the model's field order, as Django reads them
        "default", [f.attname for f in fields], [defaults[f.name] for f in fields]
    )


def post(thread: int, body: str = "hi", **fields: object) -> NewMessage:
    return NewMessage(thread_id=thread, client_id=uuid.uuid4(), body=body, **fields)


def test_the_fields_a_thread_is_locked_with_are_all_a_batch_reads() -> None:
    threads = {1: locked_thread(1, last_seq=4), 2: locked_thread(2)}
    posts = [post(1), post(2, author=Message.Author.OPERATOR, operator_id=9), post(1)]
    applied = apply_posts(posts, threads=threads, stored={}, attachments={}, now=NOW)
    assert [m.seq for m in applied.messages] == [5, 1, 6]
    assert (threads[1].last_seq, threads[1].operator_unread_count) == (6, 2)
    assert (threads[2].visitor_unread_count, threads[2].assigned_to_id) == (1, 9)


def test_a_visitors_message_reopens_a_closed_thread_and_says_so() -> None:
    threads = {1: locked_thread(1, last_seq=3, status=Thread.Status.CLOSED)}
    applied = apply_posts(
        [post(1)], threads=threads, stored={}, attachments={}, now=NOW
    )
    assert threads[1].status == Thread.Status.OPEN and threads[1].closed_at is None
    assert applied.state_changed == applied.reopened == {1}


def test_the_message_that_reopened_a_thread_says_so_and_only_it() -> None:
    threads = {1: locked_thread(1, last_seq=3, status=Thread.Status.CLOSED)}
    posts = [post(1), post(1)]
    applied = apply_posts(posts, threads=threads, stored={}, attachments={}, now=NOW)
    for pk, message in enumerate(applied.messages, start=10):
        message.pk = pk
    outcomes = after_insert(applied, posts)
    assert [o.reopened for o in outcomes if isinstance(o, Posted)] == [True, False]


def test_a_first_message_is_news_for_the_inbox_and_an_operators_reply_takes_it() -> (
    None
):
    threads = {1: locked_thread(1), 2: locked_thread(2, last_seq=1)}
    operator = Message.Author.OPERATOR
    applied = apply_posts(
        [post(1), post(2, author=operator, operator_id=3)],
        threads=threads,
        stored={},
        attachments={},
        now=NOW,
    )
    assert applied.state_changed == {1, 2}
    assert applied.reopened == set()


def test_a_resent_client_id_gets_the_stored_message_and_changes_nothing() -> None:
    threads = {1: locked_thread(1, last_seq=1)}
    again = post(1)
    stored = Message(pk=7, thread_id=1, seq=1, client_id=again.client_id)
    applied = apply_posts(
        [again, post(1)],
        threads=threads,
        stored={(1, again.client_id): stored},
        attachments={},
        now=NOW,
    )
    assert applied.outcomes[0] == Posted(message=stored, created=False)
    assert [m.seq for m in applied.messages] == [2]
    assert threads[1].operator_unread_count == 1


def test_the_same_client_id_twice_in_a_batch_is_one_message() -> None:
    threads = {1: locked_thread(1)}
    once = post(1)
    applied = apply_posts(
        [once, once], threads=threads, stored={}, attachments={}, now=NOW
    )
    assert len(applied.messages) == 1
    assert applied.outcomes[1] == Posted(message=applied.messages[0], created=False)


def test_refusals_name_the_client_id_and_store_nothing() -> None:
    threads = {1: locked_thread(1)}
    lost, unknown_file = post(2), post(1, attachment_id=5)
    theirs = Attachment(pk=6, thread_id=1, uploaded_by="operator")
    applied = apply_posts(
        [lost, unknown_file, post(1, attachment_id=6)],
        threads=threads,
        stored={},
        attachments={6: theirs},
        now=NOW,
    )
    refusals = applied.outcomes
    assert all(isinstance(r, ChatError) for r in refusals)
    assert [(r.code, r.client_id) for r in refusals[:2]] == [  # type: ignore[union-attr]
        (ErrorCode.NOT_FOUND, str(lost.client_id)),
        (ErrorCode.NOT_FOUND, str(unknown_file.client_id)),
    ]
    assert applied.messages == [] and threads[1].last_seq == 0


def test_outcomes_and_the_last_message_once_the_rows_have_ids() -> None:
    threads = {1: locked_thread(1)}
    posts = [post(1, "a"), post(1, "b")]
    applied = apply_posts(posts, threads=threads, stored={}, attachments={}, now=NOW)
    for pk, message in enumerate(applied.messages, start=10):
        message.pk = pk
    outcomes = after_insert(applied, posts)
    assert [(o.message.pk, o.created) for o in outcomes] == [(10, True), (11, True)]  # type: ignore[union-attr]
    assert threads[1].last_message_id == 11
    assert threads[1].last_message_at == NOW


def test_outbox_rows_skip_where_a_message_came_from_and_a_reopening_goes_first() -> (
    None
):
    threads = {1: locked_thread(1, status=Thread.Status.CLOSED)}
    operator = {"author": Message.Author.OPERATOR, "operator_id": 9}
    applied = apply_posts(
        [
            post(1, "from the web"),
            post(1, "from telegram", source="telegram", **operator),
            # A visitor writing in their own Telegram chat: the operators' group
            # has not seen it.
            post(1, "visitor's telegram", source="telegram"),
        ],
        threads=threads,
        stored={},
        attachments={},
        now=NOW,
    )
    entries = outbox_entries(applied, ["telegram", "email"])
    kinds = [(e.kind, e.channel, e.message.body if e.message else "") for e in entries]
    assert kinds == [
        (OutboxEntry.Kind.THREAD_REOPENED, "telegram", ""),
        (OutboxEntry.Kind.THREAD_REOPENED, "email", ""),
        (OutboxEntry.Kind.MESSAGE, "telegram", "from the web"),
        (OutboxEntry.Kind.MESSAGE, "email", "from the web"),
        (OutboxEntry.Kind.MESSAGE, "email", "from telegram"),
        (OutboxEntry.Kind.MESSAGE, "telegram", "visitor's telegram"),
        (OutboxEntry.Kind.MESSAGE, "email", "visitor's telegram"),
    ]


def test_reply_rows_are_one_per_operator_message_and_channel() -> None:
    threads = {1: locked_thread(1)}
    applied = apply_posts(
        [
            post(1, "question"),
            post(1, "answer", author=Message.Author.OPERATOR, operator_id=9),
        ],
        threads=threads,
        stored={},
        attachments={},
        now=NOW,
    )
    entries = reply_entries(applied, ["telegram_visitor"])
    assert [(e.channel, e.message.body) for e in entries if e.message] == [
        ("telegram_visitor", "answer")
    ]
    assert reply_entries(applied, []) == []


def test_threads_are_locked_in_the_order_of_their_ids() -> None:
    assert lock_order([post(3), post(1), post(3), post(2)]) == [1, 2, 3]


def test_a_rule_that_read_another_field_would_fail_here() -> None:
    # The guard these tests stand on: a field the lock does not load is a query.
    thread = locked_thread(1)
    with pytest.raises(RuntimeError, match="Database access not allowed"):
        _ = thread.visitor_read_up_to


def test_the_wait_starts_with_the_first_unanswered_visitor_message() -> None:
    later = NOW + dt.timedelta(minutes=5)
    threads = {1: locked_thread(1, last_seq=2)}
    apply_posts([post(1)], threads=threads, stored={}, attachments={}, now=NOW)
    apply_posts([post(1)], threads=threads, stored={}, attachments={}, now=later)
    assert threads[1].waiting_since == NOW


def test_an_operators_answer_ends_the_wait_and_an_automatic_reply_does_not() -> None:
    threads = {1: locked_thread(1, last_seq=2, waiting_since=NOW)}
    system = post(1, author=Message.Author.SYSTEM)
    apply_posts([system], threads=threads, stored={}, attachments={}, now=NOW)
    assert threads[1].waiting_since == NOW
    answer = post(1, author=Message.Author.OPERATOR, operator_id=9)
    apply_posts([answer], threads=threads, stored={}, attachments={}, now=NOW)
    assert threads[1].waiting_since is None


def test_a_reopening_message_waits_from_now_not_from_before_the_close() -> None:
    earlier = NOW - dt.timedelta(days=3)
    threads = {
        1: locked_thread(
            1, last_seq=3, status=Thread.Status.CLOSED, waiting_since=earlier
        )
    }
    apply_posts([post(1)], threads=threads, stored={}, attachments={}, now=NOW)
    assert threads[1].waiting_since == NOW
