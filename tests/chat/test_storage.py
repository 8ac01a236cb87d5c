"""Storing batches of messages (chat.storage through realtime.writer): text stored
exactly, resends inside a batch, a kept connection that died replaced with the batch
stored once; on PostgreSQL the batches stored on the event loop with every effect of
the ORM path."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from django.db import connection

from chat import events, services
from chat.models import Message
from chat.services import NewMessage, Posted
from chat.storage import STORE
from realtime import delivery, sql, writer
from realtime.ratelimit import Rule

pytestmark = pytest.mark.django_db(transaction=True)

# Every character that SQL, JSON or a placeholder could take for its own: the
# writer's statements carry the text as quoted literals (realtime.sql.arun_together).
AWKWARD = (
    'quote " backslash \\ newline \n tab \t 😀 ş {"json": [1]} \';--'
    "%s%(x)s%%$1$$E'\\x'"
)


def test_text_is_stored_exactly_as_sent() -> None:
    """The rows travel to PostgreSQL as JSON: nothing in a body or name may change."""
    _visitor, thread = services.start_visitor(session_key="j" * 32)
    posts = [
        NewMessage(
            thread_id=thread.pk,
            client_id=uuid.uuid4(),
            body=AWKWARD + str(n),
            author_name=AWKWARD,
        )
        for n in range(3)
    ]
    outcomes = services.post_messages(posts=posts)
    assert [o.message.seq for o in outcomes if isinstance(o, Posted)] == [1, 2, 3]
    stored = list(Message.objects.order_by("seq").values_list("body", "author_name"))
    assert stored == [(AWKWARD + str(n), AWKWARD) for n in range(3)]
    thread.refresh_from_db()
    assert thread.last_message_id == outcomes[2].message.pk  # type: ignore[union-attr]
    assert thread.operator_unread_count == 3


def test_a_resend_in_a_batch_returns_the_stored_message_and_leaves_no_gap() -> None:
    # On PostgreSQL the first attempt skips the stored row, is rolled back and the
    # batch stored again looking resends up: the new posts get the next seqs.
    _visitor, thread = services.start_visitor(session_key="r" * 32)
    first = NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="first")
    (done,) = services.post_messages(posts=[first])
    assert isinstance(done, Posted)
    posts = [
        NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="second"),
        first,  # sent again: its ack was lost
        NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="third"),
    ]
    with delivery.collecting() as sent:
        outcomes = services.post_messages(posts=posts)
    assert all(isinstance(o, Posted) for o in outcomes)
    assert [(o.message.seq, o.created) for o in outcomes] == [  # type: ignore[union-attr]
        (2, True),
        (1, False),
        (3, True),
    ]
    assert outcomes[1].message.pk == done.message.pk  # type: ignore[union-attr]
    stored = list(Message.objects.order_by("seq").values_list("seq", "body"))
    assert stored == [(1, "first"), (2, "second"), (3, "third")]
    thread.refresh_from_db()
    assert (thread.last_seq, thread.operator_unread_count) == (3, 3)
    bodies = [m["body"] for _group, e in sent for m in e.get("messages", ())]
    assert bodies == ["second", "second", "third", "third"]  # thread's and operators'


@pytest.mark.postgres_redis
async def test_a_batch_on_a_connection_killed_under_it_is_stored_once() -> None:
    """The writer keeps its connection between batches; here it died meanwhile (as
    in a PostgreSQL restart): the batch is tried once more on a fresh one, its
    senders' limits counted once."""
    from asgiref.sync import sync_to_async

    _visitor, thread = await sync_to_async(services.start_visitor)(session_key="k" * 32)
    limit = (f"send:visitor:{uuid.uuid4()}", Rule(2, 60))  # two posts, no more
    the_writer = writer.Writer(STORE)

    @sync_to_async
    def kill_the_other_connections() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    try:
        first = await the_writer.post(
            NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="one"), limit
        )
        await kill_the_other_connections()
        second = await the_writer.post(
            NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="still here"),
            limit,
        )
    finally:
        the_writer.close_connections()
    assert isinstance(first, Posted) and isinstance(second, Posted)
    assert second.created and second.message.seq == 2
    stored = [m async for m in Message.objects.order_by("seq").values_list("body")]
    assert stored == [("one",), ("still here",)]


@pytest.mark.postgres_redis
@pytest.mark.parametrize("prepare", [True, False], ids=["prepared", "unprepared"])
async def test_on_postgresql_batches_are_stored_on_the_event_loop_with_all_effects(
    make_operator, settings: Any, prepare: bool
) -> None:
    """The writer's own asyncio connection stores what the ORM path stores: the
    exact text, the thread reopened, counted, taken by the first operator; with its
    statements prepared (the default) or not (DATABASE_WRITER_PREPARE=0)."""
    from asgiref.sync import sync_to_async

    from chat.models import Thread

    settings.SOHBET_WRITER_PREPARE = prepare

    _visitor, thread = await sync_to_async(services.start_visitor)(session_key="a" * 32)
    await sync_to_async(services.close_thread)(thread_id=thread.pk)
    operator = await make_operator()
    the_writer = writer.Writer(STORE)
    try:
        first = await the_writer.post(
            NewMessage(
                thread_id=thread.pk,
                client_id=uuid.uuid4(),
                body=AWKWARD,
                author_name=AWKWARD,
            )
        )
        reply = await the_writer.post(
            NewMessage(
                thread_id=thread.pk,
                client_id=uuid.uuid4(),
                body="hello",
                author=Message.Author.OPERATOR,
                operator_id=operator.pk,
            )
        )
    finally:
        the_writer.close_connections()
    assert isinstance(first, Posted) and isinstance(reply, Posted)
    assert (first.message.seq, reply.message.seq) == (1, 2)
    stored = await Message.objects.aget(pk=first.message.pk)
    assert (stored.body, stored.author_name) == (AWKWARD, AWKWARD)
    thread = await Thread.objects.aget(pk=thread.pk)
    assert (thread.status, thread.closed_at) == (Thread.Status.OPEN, None)
    assert (thread.last_seq, thread.last_message_id) == (2, reply.message.pk)
    assert (thread.operator_unread_count, thread.visitor_unread_count) == (1, 1)
    assert thread.assigned_to_id == operator.pk


@pytest.mark.postgres_redis
async def test_a_new_conversations_first_message_does_not_wait_for_its_thread_event(
    connect_visitor, connect_operator, monkeypatch
) -> None:
    """Operators get a new conversation's first message at once; when its state is
    read from the database after the commit (automatic assignment may be on), it
    follows when it is read. A slow read holds no message back (1,000 conversations
    starting at once did)."""
    import asyncio

    from chat import desk

    release = asyncio.Event()  # both reads wait for it: on the loop, on the thread
    loop = asyncio.get_running_loop()
    read, aread = STORE.changed_events, STORE.achanged

    def slow_changed_events(thread_ids: object) -> object:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(10)
        return read(thread_ids)  # type: ignore[arg-type]

    async def slow_achanged(aconnection: object, thread_ids: object) -> object:
        await asyncio.wait_for(release.wait(), 10)
        return await aread(aconnection, thread_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(STORE, "changed_events", slow_changed_events)
    monkeypatch.setattr(STORE, "achanged", slow_achanged)
    monkeypatch.setattr(desk, "auto_assignment_off", lambda: False)
    operator = await connect_operator()
    visitor = await connect_visitor()
    try:
        await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
        heard = await operator.receive_type("message", "messages")
        bodies = [m["body"] for m in heard.get("messages", [heard.get("message")])]
        assert bodies == ["hi"]
    finally:
        release.set()
    thread = await operator.receive_type("thread")
    assert thread["thread"]["id"] == visitor.hello["thread"]["id"]
    assert thread["thread"]["last_message"]["body"] == "hi"


@pytest.mark.postgres_redis
async def test_a_slow_presence_read_for_thread_events_holds_no_batch_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thread events are read on the writer's connection between batches; the
    visitors' presence (Redis) is read after the connection is free again: the next
    batch is stored meanwhile."""
    from asgiref.sync import sync_to_async

    from chat import presence

    reading, release = asyncio.Event(), asyncio.Event()
    aonline = presence.aonline_threads

    async def slow_online(thread_ids: Any) -> Any:
        reading.set()
        await asyncio.wait_for(release.wait(), 10)
        return await aonline(thread_ids)

    monkeypatch.setattr(presence, "aonline_threads", slow_online)
    (_v1, new), (_v2, other) = [
        await sync_to_async(services.start_visitor)(session_key=key * 32)
        for key in "pq"
    ]
    the_writer = writer.Writer(STORE)
    try:
        first = await the_writer.post(
            NewMessage(thread_id=new.pk, client_id=uuid.uuid4(), body="hello")
        )
        await asyncio.wait_for(reading.wait(), 10)  # its thread event is being made
        second = await asyncio.wait_for(
            the_writer.post(
                NewMessage(thread_id=other.pk, client_id=uuid.uuid4(), body="more")
            ),
            5,
        )
    finally:
        release.set()
        the_writer.close_connections()
    assert isinstance(first, Posted) and isinstance(second, Posted)
    assert second.message.body == "more"


@pytest.mark.postgres_redis
def test_thread_events_read_in_one_statement_show_what_the_orm_shows(
    django_assert_num_queries: Any,
) -> None:
    """Operators' thread list entries, read by realtime.sql's one statement on the
    writer's connection, equal the ORM's select_related: visitor name, assignee,
    the last message and its attachment; and for a thread with none of them."""
    from django.contrib.auth import get_user_model

    from chat import events
    from chat.models import Attachment, Thread
    from chat.selectors import THREAD_RELATED

    operator = get_user_model().objects.create_user(
        username="ayse", first_name="Ayşe", is_staff=True
    )
    visitor, full = services.start_visitor(session_key="f" * 32)
    visitor.name = AWKWARD
    visitor.save()
    attachment = Attachment.objects.create(
        thread=full,
        uploaded_by="visitor",
        file="x/y.png",
        kind=Attachment.Kind.IMAGE,
        content_type="image/png",
        size=10,
        name="y.png",
        width=3,
        height=4,
    )
    message = Message.objects.create(
        thread=full, seq=1, author="visitor", body=AWKWARD, attachment=attachment
    )
    Thread.objects.filter(pk=full.pk).update(
        last_message=message, last_seq=1, assigned_to=operator
    )
    _visitor, empty = services.start_visitor(session_key="e" * 32)

    async def on_the_loop() -> list[Any]:
        aconnection = await sql.connect()
        try:
            return await STORE.achanged(aconnection, {full.pk, empty.pk})
        finally:
            await aconnection.close()

    read = asyncio.run(on_the_loop())
    with django_assert_num_queries(0):  # all the payloads show was read
        read_payloads = [events.thread_payload(t) for t in read]
    orm = Thread.objects.select_related(*THREAD_RELATED).filter(
        pk__in=[full.pk, empty.pk]
    )
    assert sorted(read_payloads, key=lambda p: p["id"]) == sorted(
        (events.thread_payload(t) for t in orm), key=lambda p: p["id"]
    )
    by_id = {t.pk: events.thread_payload(t) for t in read}
    assert by_id[full.pk]["visitor_name"] == AWKWARD
    assert by_id[full.pk]["assigned_to"]["id"] == operator.pk
    assert by_id[full.pk]["last_message"]["attachment"]["width"] == 3
    assert by_id[empty.pk]["last_message"] is None
    assert by_id[empty.pk]["assigned_to"] is None


@pytest.mark.postgres_redis
async def test_thread_events_read_on_the_event_loop_are_the_threads_ones() -> None:
    """The writer reads thread events on its own connection on the event loop; they
    are what the thread's read gives (the same statement, presence read async)."""
    from asgiref.sync import sync_to_async

    started = [
        await sync_to_async(services.start_visitor)(session_key=key * 32)
        for key in "gh"
    ]
    ids = [thread.pk for _visitor, thread in started]
    for thread_id in ids:
        await sync_to_async(services.post_message)(
            thread_id=thread_id, client_id=uuid.uuid4(), body=AWKWARD
        )
    aconnection = await sql.connect()
    try:
        on_loop = await STORE.achanged_events(await STORE.achanged(aconnection, ids))
    finally:
        await aconnection.close()
    on_thread = await sync_to_async(STORE.changed_events)(set(ids))

    def order(event: Any) -> tuple[str, list[int]]:
        return event[0], sorted(t["id"] for t in event[1]["threads"])

    def normal(batch: list[Any]) -> list[Any]:
        return sorted(
            (
                (group, sorted(e["threads"], key=lambda t: t["id"]))
                for group, e in batch
            ),
            key=lambda item: (item[0], [t["id"] for t in item[1]]),
        )

    assert normal(on_loop) == normal(on_thread)
    for_operators = [e for g, e in on_loop if g == events.OPERATORS_GROUP]
    bodies = {t["last_message"]["body"] for e in for_operators for t in e["threads"]}
    assert bodies == {AWKWARD}


@pytest.mark.postgres_redis
async def test_a_resend_on_the_event_loop_is_found_before_anything_is_written() -> None:
    """The writer's batch looks its posts up with the lock: a resent post is
    answered with the stored message, the new ones in the batch get the next seqs,
    nothing twice, no gap."""
    from asgiref.sync import sync_to_async

    from chat.models import Thread

    _visitor, thread = await sync_to_async(services.start_visitor)(session_key="s" * 32)
    first = NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="first")
    the_writer = writer.Writer(STORE)
    try:
        done = await the_writer.post(first)
        outcomes = await asyncio.gather(
            the_writer.post(first),  # its ack was lost: sent again
            the_writer.post(
                NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="second")
            ),
        )
    finally:
        the_writer.close_connections()
    assert isinstance(done, Posted)
    assert [(o.message.seq, o.created) for o in outcomes] == [  # type: ignore[union-attr]
        (1, False),
        (2, True),
    ]
    assert outcomes[0].message.pk == done.message.pk  # type: ignore[union-attr]
    stored = [
        m async for m in Message.objects.order_by("seq").values_list("seq", "body")
    ]
    assert stored == [(1, "first"), (2, "second")]
    assert (await Thread.objects.aget(pk=thread.pk)).last_seq == 2


@pytest.mark.postgres_redis
async def test_prepared_statements_survive_a_failed_string_and_are_remade(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A string that prepared statements and then failed leaves the connection's
    prepared set unknown: the next run starts from none (no "already exists"), and
    after REPLAN_AFTER they are remade; every result stays right."""
    from realtime import sql as batchsql

    def select(value: int) -> batchsql.Statement[list[int]]:
        return batchsql.Statement(
            "SELECT %s::int + 1", [value], lambda rows: [row[0] for row in rows]
        )

    failing = batchsql.Statement("SELECT 1 / %s::int", [0], lambda rows: rows)
    aconnection = await sql.connect()
    try:
        with pytest.raises(Exception, match="division by zero"):
            await batchsql.arun_together(
                [select(1), failing], aconnection, begin=True, prepare=True
            )
        await batchsql.arollback(aconnection)
        assert await batchsql.arun_together(
            [select(1), select(2)], aconnection, prepare=True
        ) == [[2], [3]]
        monkeypatch.setattr(
            batchsql.running, "REPLAN_AFTER", 0.0
        )  # remade on every run
        for value in (5, 6):
            assert await batchsql.arun_together(
                [select(value)], aconnection, begin=True, commit=True, prepare=True
            ) == [[value + 1]]
        names = await (
            await aconnection.execute("SELECT count(*) FROM pg_prepared_statements")
        ).fetchone()
        assert names == (1,)  # deallocated before each remaking
    finally:
        await aconnection.close()


@pytest.mark.postgres_redis
async def test_a_sender_over_its_limit_is_refused_in_a_batch_leaving_no_gap() -> None:
    """The writer counts a batch's senders in Redis while its first round trip to
    PostgreSQL is on its way: a post over its sender's limit is answered
    ``rate_limited`` and stored nowhere, the others get consecutive seqs."""
    from asgiref.sync import sync_to_async

    from chat.exceptions import ChatError, ErrorCode
    from chat.models import Thread

    _visitor, thread = await sync_to_async(services.start_visitor)(session_key="l" * 32)
    await sync_to_async(services.post_message)(  # started: no thread event to read
        thread_id=thread.pk, client_id=uuid.uuid4(), body="zero"
    )
    limit = (f"send:visitor:{uuid.uuid4()}", Rule(2, 60))
    the_writer = writer.Writer(STORE)
    try:
        outcomes = await asyncio.gather(  # queued together: one batch
            *(
                the_writer.post(
                    NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body=body),
                    limit,
                )
                for body in ("one", "two", "three")
            )
        )
    finally:
        the_writer.close_connections()
    assert [(o.message.seq, o.message.body) for o in outcomes[:2]] == [  # type: ignore[union-attr]
        (2, "one"),
        (3, "two"),
    ]
    assert isinstance(outcomes[2], ChatError)
    assert outcomes[2].code == ErrorCode.RATE_LIMITED
    stored = [m async for m in Message.objects.order_by("seq").values_list("body")]
    assert stored == [("zero",), ("one",), ("two",)]
    assert (await Thread.objects.aget(pk=thread.pk)).last_seq == 3


@pytest.mark.postgres_redis
async def test_a_post_over_a_limit_on_new_conversations_gets_its_refusal() -> None:
    """A conversation's first message carries the limits on new conversations beside
    its sender's, counted in the batch's one call: over one of them it is refused
    with that limit's answer and stored nowhere; the batch's other posts are stored."""
    from asgiref.sync import sync_to_async

    from chat import safety
    from chat.exceptions import ChatError, ErrorCode

    _visitor, thread = await sync_to_async(services.start_visitor)(session_key="n" * 32)
    await sync_to_async(services.post_message)(
        thread_id=thread.pk, client_id=uuid.uuid4(), body="zero"
    )
    site = ("new-thread:site", Rule(1, 60))  # one new conversation, no more
    the_writer = writer.Writer(STORE)

    def post(body: str, *more: tuple[str, Rule]) -> Any:
        sender = (f"send:visitor:{uuid.uuid4()}", Rule(5, 60))
        message = NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body=body)
        return the_writer.post(message, sender, more=more)

    try:
        first, second, other = await asyncio.gather(  # queued together: one batch
            post("starts one", site), post("starts another", site), post("goes on")
        )
    finally:
        the_writer.close_connections()
    assert (first.message.seq, other.message.seq) == (2, 3)  # type: ignore[union-attr]
    assert isinstance(second, ChatError) and second.code == ErrorCode.RATE_LIMITED
    assert str(second.detail) == str(safety.too_many_threads().detail)
    stored = [m async for m in Message.objects.order_by("seq").values_list("body")]
    assert stored == [("zero",), ("starts one",), ("goes on",)]


@pytest.mark.postgres_redis
async def test_look_ups_by_keys_and_by_awkward_text_find_the_rows() -> None:
    """Keys (ids, UUIDs) travel as one array text; any other value as a list psycopg
    dumps: a text with braces, commas, quotes and backslashes, which array text would
    have to escape, still finds its row, and nothing else."""
    from asgiref.sync import sync_to_async

    from realtime import sql

    _visitor, thread = await sync_to_async(services.start_visitor)(session_key="k" * 32)
    posts = [
        NewMessage(
            thread_id=thread.pk,
            client_id=uuid.uuid4(),
            body="b",
            author_name=name,
        )
        for name in ('{a,"b"}\\', "plain")
    ]
    outcomes = await sync_to_async(services.post_messages)(posts=posts)
    first, second = (o.message for o in outcomes if isinstance(o, Posted))
    aconnection = await sql.connect()
    try:
        by_key, by_text, (locked,) = await sql.arun_together(
            [
                sql.match_statement(
                    Message, ("thread", "client_id"), [(thread.pk, posts[1].client_id)]
                ),
                sql.match_statement(
                    Message, ("thread", "author_name"), [(thread.pk, '{a,"b"}\\')]
                ),
                sql.lock_statement(type(thread), [thread.pk], ("last_seq",)),
            ],
            aconnection,
            begin=True,
            commit=True,
            prepare=False,
        )
    finally:
        await aconnection.close()
    assert (by_key, by_text) == ([second.pk], [first.pk])
    assert locked.last_seq == 2
