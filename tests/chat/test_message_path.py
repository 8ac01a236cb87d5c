"""The message path through the real ASGI application (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chat.models import Message, OutboxEntry, Thread
from tests import conftest
from tests.conftest import store_burst

pytestmark = pytest.mark.django_db(transaction=True)


def new_id() -> str:
    return str(uuid.uuid4())


@database_sync_to_async
def stored(thread_id: int) -> list[tuple[int, str, str]]:
    return list(
        Message.objects.filter(thread_id=thread_id)
        .order_by("seq")
        .values_list("seq", "author", "body")
    )


async def test_visitor_message_is_acked_after_it_is_stored(connect_visitor):
    visitor = await connect_visitor()
    client_id = new_id()
    await visitor.send(
        type="message.send", client_id=client_id, body="Merhaba", attachment=None
    )
    ack = await visitor.receive_type("ack")
    assert ack["client_id"] == client_id
    assert ack["seq"] == 1
    assert await stored(visitor.hello["thread"]["id"]) == [(1, "visitor", "Merhaba")]


async def test_resent_client_id_returns_the_stored_message(connect_visitor):
    visitor = await connect_visitor()
    client_id = new_id()
    await visitor.send(type="message.send", client_id=client_id, body="once")
    first = await visitor.receive_type("ack")
    await visitor.send(type="message.send", client_id=client_id, body="once")
    second = await visitor.receive_type("ack")
    assert second["id"] == first["id"]
    assert len(await stored(visitor.hello["thread"]["id"])) == 1


async def test_operator_receives_visitor_messages_in_order(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()
    for n in range(5):
        await visitor.send(type="message.send", client_id=new_id(), body=f"m{n}")
    received = [(await operator.receive_type("message"))["message"] for _ in range(5)]
    assert [m["body"] for m in received] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m["seq"] for m in received] == [1, 2, 3, 4, 5]
    assert received == sorted(received, key=lambda m: m["id"])
    # Each once: the operator's process delivers them to its sockets when they are
    # stored, and its hub skips the copies the channel layer brings back.
    assert await operator.hears_no_message_again()


async def test_operator_reply_reaches_every_tab_of_the_visitor(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    tab1 = await connect_visitor()
    tab2 = await connect_visitor(cookie=tab1.cookie)
    thread = tab1.hello["thread"]["id"]
    assert tab2.hello["thread"]["id"] == thread
    await tab1.send(type="message.send", client_id=new_id(), body="Hi")
    await tab1.receive_type("ack")
    await operator.send(
        type="message.send", thread=thread, client_id=new_id(), body="Hello!"
    )
    await operator.receive_type("ack")
    for tab in (tab1, tab2):
        message = (await tab.receive_type("message"))["message"]
        assert (message["author"], message["body"]) == ("visitor", "Hi")
        message = (await tab.receive_type("message"))["message"]
        assert (message["author"], message["body"]) == ("operator", "Hello!")
        assert message["author_name"] == "ayse"


async def test_each_tab_gets_every_message_once_and_in_order(connect_visitor):
    # The sending tab gets its own copy right after the ack (not through the channel
    # layer), the other tab through it; neither gets one twice or out of order.
    first = await connect_visitor()
    second = await connect_visitor(first.cookie)
    heard: dict[Any, list[tuple[int, str]]] = {first: [], second: []}
    for n in range(4):
        sender = (first, second)[n % 2]
        await sender.send(type="message.send", client_id=new_id(), body=f"m{n}")
        while True:  # the sender's frames up to its ack, keeping the messages
            frame = await sender.receive_type("ack", "message")
            if frame["type"] == "ack":
                break
            heard[sender].append((frame["message"]["seq"], frame["message"]["body"]))
    expected = [(n + 1, f"m{n}") for n in range(4)]
    for socket in (first, second):
        while len(heard[socket]) < 4:
            frame = (await socket.receive_type("message"))["message"]
            heard[socket].append((frame["seq"], frame["body"]))
        assert heard[socket] == expected
        assert await socket.hears_no_message_again()


async def test_sync_returns_everything_after_the_given_seq(connect_visitor):
    visitor = await connect_visitor()
    for n in range(4):
        await visitor.send(type="message.send", client_id=new_id(), body=f"m{n}")
        await visitor.receive_type("ack")
    again = await connect_visitor(cookie=visitor.cookie)
    assert again.hello["thread"]["last_seq"] == 4
    await again.send(type="sync", after=2)
    answer = await again.receive_type("sync")
    assert [m["body"] for m in answer["messages"]] == ["m2", "m3"]
    assert answer["has_more"] is False


async def test_sync_pages_when_many_messages_are_missing(connect_visitor, settings):
    settings.SOHBET_WS_RATE = "1000/1"
    settings.SOHBET_WS_FLOOD = "2000/1"
    visitor = await connect_visitor()
    for n in range(205):
        await visitor.send(type="message.send", client_id=new_id(), body=f"m{n}")
    for _ in range(205):
        await visitor.receive_type("ack")
    await visitor.send(type="sync", after=0)
    first = await visitor.receive_type("sync")
    assert len(first["messages"]) == 200 and first["has_more"] is True
    await visitor.send(type="sync", after=first["messages"][-1]["seq"])
    second = await visitor.receive_type("sync")
    assert [m["seq"] for m in second["messages"]] == [201, 202, 203, 204, 205]
    assert second["has_more"] is False


async def test_history_pages_backwards(connect_visitor):
    visitor = await connect_visitor()
    ids = []
    for n in range(5):
        await visitor.send(type="message.send", client_id=new_id(), body=f"m{n}")
        ids.append((await visitor.receive_type("ack"))["id"])
    await visitor.send(type="history", before=None, limit=2)
    newest = await visitor.receive_type("history")
    assert [m["body"] for m in newest["messages"]] == ["m3", "m4"] and newest[
        "has_more"
    ]
    await visitor.send(type="history", before=ids[3], limit=10)
    older = await visitor.receive_type("history")
    assert [m["body"] for m in older["messages"]] == ["m0", "m1", "m2"]
    assert older["has_more"] is False


async def test_visitor_message_reopens_a_closed_thread(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_id(), body="first")
    await visitor.receive_type("ack")
    await operator.send(type="thread.close", thread=thread)
    closed = await operator.receive_type("thread")
    while closed["thread"]["status"] != "closed":
        closed = await operator.receive_type("thread")
    await visitor.send(type="message.send", client_id=new_id(), body="still there?")
    await visitor.receive_type("ack")
    reopened = await operator.receive_type("thread")
    while reopened["thread"]["status"] != "open":
        reopened = await operator.receive_type("thread")
    assert reopened["thread"]["id"] == thread


async def test_first_operator_to_reply_takes_the_thread(
    connect_visitor, connect_operator, make_operator
):
    first = await connect_operator()
    second = await connect_operator(await make_operator("mehmet"))
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_id(), body="help")
    await visitor.receive_type("ack")
    await first.send(
        type="message.send", thread=thread, client_id=new_id(), body="on it"
    )
    await first.receive_type("ack")
    await second.send(
        type="message.send", thread=thread, client_id=new_id(), body="me too"
    )
    await second.receive_type("ack")
    assigned = await database_sync_to_async(
        lambda: Thread.objects.get(pk=thread).assigned_to_id
    )()
    assert assigned == first.user.pk


async def test_operator_can_reassign_a_thread(
    connect_visitor, connect_operator, make_operator
):
    operator = await connect_operator()
    other = await make_operator("mehmet")
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_id(), body="hi")
    await visitor.receive_type("ack")
    await operator.send(type="thread.assign", thread=thread, operator=other.pk)
    update = await operator.receive_type("thread")
    while update["thread"]["assigned_to"] is None:
        update = await operator.receive_type("thread")
    assert update["thread"]["assigned_to"] == {"id": other.pk, "name": "mehmet"}


async def test_a_thread_id_sent_by_a_visitor_is_ignored(connect_visitor):
    owner = await connect_visitor()
    await owner.send(type="message.send", client_id=new_id(), body="private")
    await owner.receive_type("ack")
    intruder = await connect_visitor()
    foreign = owner.hello["thread"]["id"]
    await intruder.send(type="sync", after=0, thread=foreign)
    answer = await intruder.receive_type("sync")
    assert answer["thread"] == intruder.hello["thread"]["id"] != foreign
    assert answer["messages"] == []
    await intruder.send(
        type="message.send", client_id=new_id(), body="x", thread=foreign
    )
    ack = await intruder.receive_type("ack")
    assert ack["thread"] == intruder.hello["thread"]["id"]
    assert await stored(foreign) == [(1, "visitor", "private")]


async def test_operator_frame_on_unknown_thread_is_not_found(connect_operator):
    operator = await connect_operator()
    client_id = new_id()
    await operator.send(
        type="message.send", thread=999999, client_id=client_id, body="?"
    )
    error = await operator.receive_type("error")
    assert (error["code"], error["client_id"]) == ("not_found", client_id)


async def test_outbox_row_is_written_with_the_message(connect_visitor, settings):
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=new_id(), body="to telegram")
    ack = await visitor.receive_type("ack")
    rows = await database_sync_to_async(
        lambda: list(
            OutboxEntry.objects.values_list("channel", "kind", "message_id", "status")
        )
    )()
    assert rows == [("telegram", "message", ack["id"], "pending")]


async def test_read_receipt_reaches_the_operator(connect_visitor, connect_operator):
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    thread = visitor.hello["thread"]["id"]
    await operator.send(
        type="message.send", thread=thread, client_id=new_id(), body="hi"
    )
    ack = await operator.receive_type("ack")
    await visitor.send(type="read", up_to=ack["id"])
    read = await operator.receive_type("read")
    assert read == {
        "type": "read",
        "thread": thread,
        "by": "visitor",
        "up_to": ack["id"],
    }


async def test_operator_read_clears_unread_count(connect_visitor, connect_operator):
    operator = await connect_operator()
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_id(), body="one")
    ack = await visitor.receive_type("ack")
    await operator.send(type="read", thread=thread, up_to=ack["id"])
    update = await operator.receive_type("thread")
    while update["thread"]["unread"] != 0:
        update = await operator.receive_type("thread")
    receipt = await visitor.receive_type("read")
    assert receipt["by"] == "operator" and receipt["up_to"] == ack["id"]


async def test_typing_reaches_the_other_side_and_stops_when_typist_leaves(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()
    await visitor.send(type="typing", active=True)
    typing = await operator.receive_type("typing")
    assert (typing["author"], typing["active"]) == ("visitor", True)
    await visitor.close()
    stopped = await operator.receive_type("typing")
    assert stopped["active"] is False


async def test_a_visitor_closing_while_a_frame_is_on_its_way_is_still_seen_leaving(
    connect_operator,
):
    # Daphne raises on a send to a socket whose closing handshake has begun (before
    # its disconnect reaches the consumer). That send is dropped; the disconnect that
    # follows still runs the clean-up, so operators see the visitor go.
    from chatsite.asgi import application

    send_failed = asyncio.Event()

    async def closing_client(scope: dict, receive: Any, send: Any) -> Any:
        async def send_while_closing(message: dict[str, Any]) -> None:
            if closing and message["type"] == "websocket.send":
                send_failed.set()
                raise Disconnected("Attempt to send on a closed protocol")
            await send(message)

        return await application(scope, receive, send_while_closing)

    closing = False
    operator = await connect_operator()
    cookie = await conftest._visitor_cookie(written=True)
    communicator = WebsocketCommunicator(
        closing_client,
        "/ws/chat/",
        headers=[
            (b"host", b"localhost"),
            conftest.ORIGIN,
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ],
    )
    assert (await communicator.connect(timeout=10))[0]
    visitor = conftest.Socket(communicator)
    thread = (await visitor.receive_type("hello"))["thread"]["id"]
    online = await operator.receive_type("presence")
    assert (online["thread"], online["visitor_online"]) == (thread, True)

    closing = True
    await operator.send(type="typing", thread=thread, active=True)
    await asyncio.wait_for(send_failed.wait(), 5)  # the typing frame met the close
    await communicator.disconnect()

    offline = await operator.receive_type("presence")
    assert (offline["thread"], offline["visitor_online"]) == (thread, False)


async def test_presence_of_visitor_and_operators(connect_visitor, connect_operator):
    visitor = await connect_visitor()
    assert visitor.hello["operators_online"] is False
    operator = await connect_operator()
    assert (await visitor.receive_type("presence"))["operators_online"] is True
    other_tab = await connect_visitor(written=True)
    # The operator may also hear the first visitor's arrival, sent just before it
    # joined (docs/protocol.md, "Guarantees"): the other tab's is the one to check.
    online = await operator.receive_type("presence")
    if online.get("thread") == visitor.hello["thread"]["id"]:
        online = await operator.receive_type("presence")
    assert online == {
        "type": "presence",
        "thread": other_tab.hello["thread"]["id"],
        "visitor_online": True,
    }
    await other_tab.close()
    offline = await operator.receive_type("presence")
    assert offline["visitor_online"] is False
    await operator.close()
    assert (await visitor.receive_type("presence"))["operators_online"] is False


async def test_a_new_conversation_reaches_the_inbox_with_its_visitor_online(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()  # not announced: nothing is written yet
    await visitor.send(type="message.send", client_id=new_id(), body="first words")
    thread = (await operator.receive_type("thread"))["thread"]
    assert thread["id"] == visitor.hello["thread"]["id"]
    assert thread["visitor_online"] is True
    assert thread["last_message"]["body"] == "first words"
    await visitor.close()
    await operator.receive_type("presence")
    await operator.send(type="thread.close", thread=thread["id"])
    closed = await operator.receive_type("thread")
    assert (closed["thread"]["status"], closed["thread"]["visitor_online"]) == (
        "closed",
        False,
    )


async def test_thread_list_search_by_text_and_name(connect_visitor, connect_operator):
    operator = await connect_operator()
    anna = await connect_visitor()
    await anna.send(type="visitor.update", name="Anna")
    await anna.send(type="message.send", client_id=new_id(), body="invoice question")
    await anna.receive_type("ack")
    bora = await connect_visitor()
    await bora.send(type="message.send", client_id=new_id(), body="shipping")
    await bora.receive_type("ack")
    await operator.send(type="threads", status="all", q="INVOICE")
    by_text = await operator.receive_type("threads")
    assert [t["visitor_name"] for t in by_text["threads"]] == ["Anna"]
    await operator.send(type="threads", status="open", q="")
    every = await operator.receive_type("threads")
    assert [t["id"] for t in every["threads"]] == [
        bora.hello["thread"]["id"],
        anna.hello["thread"]["id"],
    ]


async def test_operator_opening_a_thread_gets_its_state_first(
    connect_visitor, connect_operator
):
    visitor = await connect_visitor()
    await visitor.send(type="visitor.update", name="Zeynep")
    await visitor.send(type="message.send", client_id=new_id(), body="hi")
    await visitor.receive_type("ack")
    operator = await connect_operator()
    thread = visitor.hello["thread"]["id"]
    await operator.send(type="history", thread=thread, before=None, limit=50)
    state = await operator.receive()
    assert state["type"] == "thread"
    assert (state["thread"]["visitor_name"], state["thread"]["visitor_online"]) == (
        "Zeynep",
        True,
    )
    page = await operator.receive_type("history")
    assert [m["body"] for m in page["messages"]] == ["hi"]


async def test_messages_committed_together_come_in_one_frame_when_asked(
    connect_visitor, connect_operator, make_operator
):
    from realtime import delivery

    visitor = await connect_visitor(written=True)
    thread_id = visitor.hello["thread"]["id"]
    batching = await connect_operator()
    plain = await connect_operator(await make_operator("bora"))
    await batching.send(type="options", batch_messages=True)
    assert (await batching.receive_type("options"))["batch_messages"] is True

    sent = await database_sync_to_async(store_burst)(thread_id)
    await delivery.send(sent)  # one batch, as the writer sends it
    frame = await batching.receive_type("messages", "message")
    assert frame["type"] == "messages"
    assert [m["body"] for m in frame["messages"]] == ["burst 0", "burst 1", "burst 2"]
    assert [m["seq"] for m in frame["messages"]] == [1, 2, 3]
    singles = [(await plain.receive_type("message"))["message"] for _ in range(3)]
    assert [m["seq"] for m in singles] == [1, 2, 3]
    for n in range(3):  # the visitor did not ask: one frame each
        assert (await visitor.receive_type("message"))["message"]["seq"] == n + 1


async def test_options_must_be_well_formed(connect_operator):
    operator = await connect_operator()
    await operator.send(type="options", batch_messages="yes")
    error = await operator.receive_type("error")
    assert error["code"] == "invalid"
