"""A new conversation costs no row until the visitor writes: the page draws the ids,
the socket says hello with them, and the first message writes the visitor and the
thread in its batch (chat.services.visitors, chat.storage)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat import rules, services
from chat.models import Message, Thread, Visitor
from chat.rules import NewConversation, NewMessage
from tests.conftest import Socket

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


def new_id() -> str:
    return str(uuid.uuid4())


@sync_to_async
def rows() -> tuple[list[Visitor], list[Thread], list[Message]]:
    return (
        list(Visitor.objects.all()),
        list(Thread.objects.all()),
        list(Message.objects.order_by("pk")),
    )


async def test_opening_the_chat_writes_nothing_until_the_first_message(
    connect_visitor: Any, connect_operator: Any
) -> None:
    operator = await connect_operator()
    visitor = await connect_visitor()
    hello = visitor.hello
    assert isinstance(hello["thread"]["id"], int)
    assert (hello["thread"]["status"], hello["thread"]["last_seq"]) == ("open", 0)
    await visitor.send(type="sync", after=0)
    assert (await visitor.receive_type("sync"))["messages"] == []
    assert await rows() == ([], [], [])

    await visitor.send(type="message.send", client_id=new_id(), body="first words")
    ack = await visitor.receive_type("ack")
    assert ack["seq"] == 1
    visitors, threads, messages = await rows()
    assert [v.pk for v in visitors] == [hello["visitor"]["id"]]
    assert visitors[0].session_key == visitor.cookie
    assert [t.pk for t in threads] == [hello["thread"]["id"]]
    assert [(m.pk, m.body) for m in messages] == [(ack["id"], "first words")]
    thread = (await operator.receive_type("thread"))["thread"]
    assert (thread["id"], thread["visitor_online"]) == (hello["thread"]["id"], True)
    # The next socket of the session finds the written conversation.
    again = await connect_visitor(visitor.cookie)
    assert again.hello["thread"]["id"] == hello["thread"]["id"]
    assert again.hello["thread"]["last_seq"] == 1


async def test_two_tabs_writing_first_at_once_share_one_conversation(
    connect_visitor: Any,
) -> None:
    first = await connect_visitor()
    second = await connect_visitor(first.cookie)
    await asyncio.gather(
        *(
            tab.send(type="message.send", client_id=new_id(), body=f"tab {n}")
            for n, tab in enumerate((first, second))
        )
    )
    acks = [await tab.receive_type("ack") for tab in (first, second)]
    assert sorted(ack["seq"] for ack in acks) == [1, 2]
    visitors, threads, messages = await rows()
    assert (len(visitors), len(threads), len(messages)) == (1, 1, 2)


async def test_a_name_before_the_first_message_writes_the_conversation(
    connect_visitor: Any,
) -> None:
    visitor = await connect_visitor()
    await visitor.send(type="visitor.update", name="Zeynep")
    await visitor.send(type="message.send", client_id=new_id(), body="hello")
    await visitor.receive_type("ack")
    visitors, threads, _messages = await rows()
    assert [(v.pk, v.name) for v in visitors] == [
        (visitor.hello["visitor"]["id"], "Zeynep")
    ]
    assert len(threads) == 1


async def test_rotating_a_new_visitors_session_closes_the_sockets_of_the_old_key(
    settings: Any, connect_visitor: Any, sockets: list[Socket]
) -> None:
    from tests.accounts.test_sessions import open_socket_named

    before = await connect_visitor()  # "sessionid": a session from before the rename
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    client = Client()
    client.cookies["sessionid"] = before.cookie
    page = await sync_to_async(client.get)("/")
    new_key = page.cookies["__Host-sessionid"].value
    assert await before.receive_close() == 4001
    after, _ = await open_socket_named("__Host-sessionid", new_key)
    sockets.append(after)
    hello = await after.receive_type("hello")
    assert hello["thread"]["id"] == before.hello["thread"]["id"]
    await after.send(type="message.send", client_id=new_id(), body="still me")
    await after.receive_type("ack")
    visitors, _threads, _messages = await rows()
    assert [(v.pk, v.session_key) for v in visitors] == [
        (before.hello["visitor"]["id"], new_key)
    ]


def test_the_orm_engine_writes_a_new_conversation_with_its_first_message() -> None:
    new = NewConversation(visitor_id=9001, thread_id=9002, session_key="k" * 32)
    posts = [
        NewMessage(
            thread_id=9002, client_id=uuid.uuid4(), body="one", conversation=new
        ),
        NewMessage(
            thread_id=9002, client_id=uuid.uuid4(), body="two", conversation=new
        ),
    ]
    outcomes = services.post_messages(posts=posts)
    assert [o.message.seq for o in outcomes] == [1, 2]  # type: ignore[union-attr]
    assert Thread.objects.get(pk=9002).visitor_id == 9001
    # Written before: the same conversation again writes nothing twice.
    again = NewMessage(
        thread_id=9002, client_id=uuid.uuid4(), body="three", conversation=new
    )
    [outcome] = services.post_messages(posts=[again])
    assert outcome.message.seq == 3  # type: ignore[union-attr]
    assert (Visitor.objects.count(), Thread.objects.count()) == (1, 1)


def test_conversation_rows_are_one_visitor_and_thread_per_conversation() -> None:
    new = NewConversation(
        visitor_id=1, thread_id=2, session_key="s", user_agent="u" * 400
    )
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    visitors, threads = rules.conversation_rows([new, new], now)
    assert [(v.pk, len(v.user_agent)) for v in visitors] == [(1, 300)]
    assert [(t.pk, t.visitor_id, t.created_at) for t in threads] == [(2, 1, now)]


async def test_an_erased_visitors_page_starts_over_with_ids_of_its_own(
    connect_visitor: Any,
) -> None:
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=new_id(), body="forget me")
    await visitor.receive_type("ack")
    erased = visitor.hello["visitor"]["id"]
    await sync_to_async(services.erase_visitor)(visitor_id=erased)
    again = await connect_visitor(visitor.cookie)
    assert again.hello["visitor"]["id"] != erased
    assert again.hello["thread"]["id"] != visitor.hello["thread"]["id"]
    assert again.hello["thread"]["last_seq"] == 0
    await again.send(type="message.send", client_id=new_id(), body="new here")
    assert (await again.receive_type("ack"))["seq"] == 1


async def test_a_new_conversation_is_told_to_operators_with_its_first_message_as_stored(
    connect_visitor: Any, connect_operator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conversations a batch begins are told as it wrote them, with its messages
    (no read after the commit: ``chat.starts.started``); what operators get is
    what the database says. A conversation whose rows were written before its first
    message (a name given first) is read as before."""
    from chat import desk, events
    from chat.selectors import THREAD_RELATED
    from chat.storage import STORE

    read: list[set[int]] = []
    aread = STORE.achanged

    async def achanged(aconnection: object, thread_ids: set[int]) -> object:
        read.append(set(thread_ids))
        return await aread(aconnection, thread_ids)

    monkeypatch.setattr(STORE, "achanged", achanged)
    monkeypatch.setattr(desk, "auto_assignment_off", lambda: True)
    operator = await connect_operator()
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=new_id(), body="first words")
    await visitor.receive_type("ack")
    told = (await operator.receive_type("thread"))["thread"]
    thread_id = visitor.hello["thread"]["id"]
    stored = await Thread.objects.select_related(*THREAD_RELATED).aget(pk=thread_id)
    assert told == events.thread_payload(stored, visitor_online=True)
    assert (told["last_message"]["body"], told["unread"]) == ("first words", 1)
    assert told["waiting_since"] is not None
    assert read == []

    named = await connect_visitor()
    await named.send(type="visitor.update", name="Zeynep")
    await named.send(type="message.send", client_id=new_id(), body="hello")
    await named.receive_type("ack")
    told = (await operator.receive_type("thread"))["thread"]
    assert (told["id"], told["visitor_name"]) == (named.hello["thread"]["id"], "Zeynep")
    assert read == [{told["id"]}]


async def test_a_first_message_a_limit_refuses_leaves_no_row() -> None:
    """In one batch: a conversation whose first message is refused (its rows are
    written beside the limits' answer, then deleted before the commit), one whose
    message passes, and one written before (a name given first) whose message is
    refused: its rows stay as they were."""
    from chat.storage import STORE, reserve_conversation_ids, store_conversations
    from realtime import sql

    ids = [await sync_to_async(reserve_conversation_ids)() for _ in range(3)]
    refused, passed, earlier = (
        NewConversation(visitor_id=v, thread_id=t, session_key=f"{t:032d}")
        for v, t in ids  # type: ignore[misc]
    )
    await sync_to_async(store_conversations)([earlier])
    posts = [
        NewMessage(
            thread_id=new.thread_id, client_id=uuid.uuid4(), body="hi", conversation=new
        )
        for new in (refused, passed, earlier)
    ]

    async def admitted() -> list[NewMessage]:
        return [posts[1]]

    aconnection = await sql.connect()
    try:
        stored = await STORE.astore(aconnection, posts, admitted)
    finally:
        await aconnection.close()
    assert [o.message.thread_id for o in stored.outcomes] == [passed.thread_id]  # type: ignore[union-attr]
    visitors, threads, messages = await rows()
    assert {t.pk for t in threads} == {passed.thread_id, earlier.thread_id}
    assert {v.pk for v in visitors} == {passed.visitor_id, earlier.visitor_id}
    assert [m.body for m in messages] == ["hi"]
