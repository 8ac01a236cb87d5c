"""Blocking that really blocks: a blocked visitor's (or network's) messages are
refused before the writer (no row, no outbox, no event), with a neutral answer;
unblocking restores them. Spam control: limits on new conversations, the pre-chat
honeypot."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from chat import services
from chat.models import Block, Message, OutboxEntry, Thread, Visitor
from tests.conftest import Socket, _visitor_cookie, open_socket
from tests.samples import png

pytestmark = pytest.mark.django_db(transaction=True)

NEUTRAL = "This conversation is not available."


def new_id() -> str:
    return str(uuid.uuid4())


@database_sync_to_async
def counts() -> tuple[int, int, int, int]:
    return (
        Visitor.objects.count(),
        Thread.objects.count(),
        Message.objects.count(),
        OutboxEntry.objects.count(),
    )


async def unseen_rows(before: tuple[int, int, int, int]) -> bool:
    """Nothing an operator could see was written since ``before``: no message, no
    outbox row (the embedded SQLite writes a new visitor's rows as it connects)."""
    return (await counts())[2:] == before[2:]


@pytest.fixture
def from_address(sockets: list[Socket], settings: Any) -> Any:
    """Open a visitor socket from a client address (X-Forwarded-For)."""
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"

    async def connect(address: str, cookie: str | None = None) -> Socket:
        cookie = cookie or await _visitor_cookie()
        socket, connected = await open_socket(
            "/ws/chat/",
            cookie=cookie,
            extra_headers=[(b"x-forwarded-for", address.encode())],
        )
        assert connected
        sockets.append(socket)
        socket.hello = await socket.receive_type("hello")
        socket.cookie = cookie  # type: ignore[attr-defined]
        return socket

    return connect


async def written(visitor: Socket, body: str = "hello") -> int:
    await visitor.send(type="message.send", client_id=new_id(), body=body)
    return (await visitor.receive_type("ack"))["seq"]


async def test_a_blocked_visitor_stores_nothing_and_is_told_neutrally_until_unblocked(
    connect_operator: Any, from_address: Any, settings: Any
) -> None:
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    operator = await connect_operator()
    visitor = await from_address("203.0.113.7")
    await written(visitor)
    thread = visitor.hello["thread"]["id"]
    # The conversation's new state reaches the operators after the ack: heard now,
    # it cannot be taken below for something the blocked visitor caused.
    assert (await operator.receive_type("thread"))["thread"]["id"] == thread

    await operator.send(type="visitor.block", thread=thread, reason="abuse")
    extra = await operator.receive_type("thread.extra")
    assert extra["thread"] == thread
    assert extra["blocked"]["reason"] == "abuse"
    assert extra["blocked"]["by"] == operator.user.display_name
    assert extra["blocked"]["network"] == ""
    before = await counts()

    client_id = new_id()
    await visitor.send(type="message.send", client_id=client_id, body="spam")
    error = await visitor.receive_type("error", "ack")
    assert error == {
        "type": "error",
        "code": "forbidden",
        "detail": NEUTRAL,
        "client_id": client_id,
    }
    await visitor.send(type="typing", active=True)
    await visitor.send(type="visitor.update", name="Spammer")
    assert (await visitor.receive_type("error"))["detail"] == NEUTRAL
    assert await counts() == before
    # The operators hear nothing of it: no message, no typing, no thread.
    while not await operator.nothing_more():
        assert (await operator.receive())["type"] not in (
            "message",
            "messages",
            "typing",
            "thread",
            "visitor",
        )
    # The block holds for a new socket of the visitor (loaded as it opens).
    again = await from_address("198.51.100.1", visitor.cookie)
    await again.send(type="message.send", client_id=new_id(), body="again")
    assert (await again.receive_type("error"))["detail"] == NEUTRAL

    await operator.send(type="visitor.unblock", thread=thread)
    assert (await operator.receive_type("thread.extra"))["blocked"] is None
    assert await written(visitor, "sorry") == 2
    assert await written(again, "really") == 3
    block = await database_sync_to_async(Block.objects.get)()
    assert block.lifted_at is not None and block.lifted_by_id == operator.user.pk


async def test_a_blocked_network_refuses_new_conversations_from_it(
    connect_operator: Any, from_address: Any
) -> None:
    operator = await connect_operator()
    first = await from_address("203.0.113.7")
    await written(first)
    await operator.send(
        type="visitor.block",
        thread=first.hello["thread"]["id"],
        reason="bot",
        network=True,
    )
    assert (await operator.receive_type("thread.extra"))["blocked"][
        "network"
    ] == "203.0.113.0/24"
    before = await counts()

    neighbour = await from_address("203.0.113.200")
    await neighbour.send(type="message.send", client_id=new_id(), body="hi")
    assert (await neighbour.receive_type("error"))["detail"] == NEUTRAL
    # No message (nor, where the database draws ids, visitor or thread) written.
    assert await unseen_rows(before)
    elsewhere = await from_address("198.51.100.9")
    assert await written(elsewhere) == 1

    await operator.send(type="visitor.unblock", thread=first.hello["thread"]["id"])
    await operator.receive_type("thread.extra")
    assert await written(neighbour) == 1  # the open socket follows the event


async def test_new_conversations_are_limited_per_network_before_they_are_written(
    from_address: Any, settings: Any
) -> None:
    settings.SOHBET_NEW_THREADS_PER_NETWORK = "2/3600"
    for _n in range(2):
        assert await written(await from_address("2001:db8::1")) == 1
    before = await counts()
    third = await from_address("2001:db8::ffff")  # the same /64
    client_id = new_id()
    await third.send(type="message.send", client_id=client_id, body="one more")
    error = await third.receive_type("error", "ack")
    assert (error["type"], error["code"], error["client_id"]) == (
        "error",
        "rate_limited",
        client_id,
    )
    assert await unseen_rows(before)
    if connection.vendor == "postgresql":  # its rows are written with the message
        assert (await counts())[:2] == before[:2]
    settings.SOHBET_NEW_THREADS_PER_NETWORK = "10/3600"  # the next try begins it
    assert await written(third, "again") == 1


async def test_new_conversations_are_limited_over_the_whole_site(
    from_address: Any, settings: Any
) -> None:
    settings.SOHBET_NEW_THREADS_PER_SITE = "2/60"
    assert await written(await from_address("192.0.2.1")) == 1
    assert await written(await from_address("192.0.2.2")) == 1
    third = await from_address("192.0.2.3")
    await third.send(type="visitor.update", name="Third")
    error = await third.receive_type("error")
    assert (error["code"], error["frame"]) == ("rate_limited", "visitor.update")
    assert (await counts())[2] == 2


def test_a_newsletters_burst_of_new_visitors_passes_the_default_limits() -> None:
    """1,000 visitors from as many networks starting within seconds (issue 18's
    burst): the site's limit is a safety valve, not a cap on a good day."""
    from chat import safety
    from realtime.ratelimit import hit_many

    assert django_settings.SOHBET_NEW_THREADS_PER_SITE == "3000/60"
    answers = [
        hit_many(safety.new_thread_limits(f"burst-{uuid.uuid4().hex}"))
        for _ in range(1000)
    ]
    assert all(all(answer) for answer in answers)


async def test_a_filled_honeypot_silently_drops_what_the_session_sends(
    connect_visitor: Any, connect_operator: Any
) -> None:
    operator = await connect_operator()
    bot = await connect_visitor()
    await bot.send(type="visitor.email", email="bot@example.com", website="http://x")
    assert (await bot.receive_type("email"))["address"] == "bot@example.com"
    await bot.send(type="message.send", client_id=new_id(), body="buy now")
    assert await bot.nothing_more()
    # Another socket of the session stays silent too.
    again = await connect_visitor(bot.cookie)
    await again.send(type="message.send", client_id=new_id(), body="buy now")
    assert await again.nothing_more()
    assert (await counts())[2:] == (0, 0)
    assert await operator.hears_no_message_again()


async def test_a_blocked_visitor_cannot_upload(connect_visitor: Any) -> None:
    visitor = await connect_visitor()
    await written(visitor)
    visitor_id = visitor.hello["visitor"]["id"]
    await database_sync_to_async(services.block_visitor)(visitor_id=visitor_id)

    @database_sync_to_async
    def upload() -> Any:
        client = Client()
        client.cookies[django_settings.SESSION_COOKIE_NAME] = visitor.cookie
        return client.post(
            "/api/uploads/",
            {"file": SimpleUploadedFile("a.png", png(), "image/png")},
        )

    response = await upload()
    assert response.status_code == 403
    assert response.json()["error"]["detail"] == NEUTRAL
