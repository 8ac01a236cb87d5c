"""The visitor's ``thread`` frame (docs/protocol.md, extension): a conversation's
status, live, with nothing an operator's thread frame carries besides."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_visitor_hears_a_close_and_a_reopen_with_the_status_only(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()
    tab = await connect_visitor(visitor.cookie)
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
    await visitor.receive_type("ack")
    await operator.send(type="thread.close", thread=thread)
    for socket in (visitor, tab):
        frame = await socket.receive_type("thread")
        assert frame == {"type": "thread", "thread": {"id": thread, "status": "closed"}}
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="again")
    for socket in (visitor, tab):
        frame = await socket.receive_type("thread")
        assert frame["thread"] == {"id": thread, "status": "open"}


async def test_a_change_that_is_not_the_status_sends_the_visitor_nothing(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
    ack = await visitor.receive_type("ack")
    await operator.send(type="read", thread=thread, up_to=ack["id"])  # a thread event
    await operator.send(type="thread.assign", thread=thread, operator=operator.user.pk)
    assert (await visitor.receive_type("read"))["up_to"] == ack["id"]
    await operator.send(type="thread.close", thread=thread)
    # The first thread frame the visitor gets is the close: nothing came before it.
    assert (await visitor.receive_type("thread"))["thread"]["status"] == "closed"
