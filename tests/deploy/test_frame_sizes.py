"""Every frame the server builds fits what its WebSocket library sends: long
conversations and long messages, through a real server process started with the
production command line (``--websocket-max-message-size 65536``, tests/deploy)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat import services
from chat.rules import NewConversation
from chat.services import NewMessage
from realtime import delivery
from tests.deploy.client import (
    Peer,
    new_client_id,
    open_operator,
    open_visitor,
    visit,
)
from tests.deploy.conftest import Processes

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]

LIMIT = 65536
LONG = "ğ" * 4000  # the longest body, two bytes a character


@sync_to_async
def store(hello: dict[str, Any], bodies: list[str]) -> None:
    """Store visitor messages in the hello's thread (written first if it is not),
    as the writer would."""
    thread_id = hello["thread"]["id"]
    new = NewConversation(
        visitor_id=hello["visitor"]["id"], thread_id=thread_id, session_key=""
    )
    posts = [
        NewMessage(
            thread_id=thread_id, client_id=uuid.uuid4(), body=body, conversation=new
        )
        for body in bodies
    ]
    with delivery.collecting():  # not sent: the test syncs them
        services.post_messages(posts=posts)


async def sync_all(peer: Peer, **thread: Any) -> list[dict[str, Any]]:
    """What a client does after a reconnect: sync from the start, page by page."""
    synced: list[dict[str, Any]] = []
    after = 0
    while True:
        await peer.send(type="sync", after=after, **thread)
        answer = await peer.next("sync", "error", timeout=10)
        assert answer["type"] == "sync", answer
        synced.extend(answer["messages"])
        if not answer["has_more"]:
            return synced
        after = answer["messages"][-1]["seq"]


async def test_hello_states_the_frame_limits_each_way(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    operator = await open_operator(server, operator_cookie, peers)
    for peer in (visitor, operator):
        assert peer.hello["limits"]["max_frame_bytes"] == 16384
        assert peer.hello["limits"]["max_server_frame_bytes"] == LIMIT


async def test_a_long_conversation_syncs_from_the_start_in_frames_that_fit(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    bodies = [
        f"{n:03} " + "an ordinary question about an order " * 3 for n in range(400)
    ]
    await store(visitor.hello, bodies)

    synced = await sync_all(visitor)
    operator = await open_operator(server, operator_cookie, peers)
    synced_by_operator = await sync_all(operator, thread=thread)

    for got in (synced, synced_by_operator):
        assert [m["seq"] for m in got] == list(range(1, 401))
        assert [m["body"] for m in got] == bodies
    for peer in (visitor, operator):
        assert max(peer.frame_bytes) <= LIMIT
        assert not peer.closed.done()


async def test_long_messages_from_many_visitors_reach_the_inbox_live_and_by_sync(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    operator = await open_operator(server, operator_cookie, peers)
    await operator.send(type="options", batch_messages=True)
    await operator.next("options")
    visitors = []
    for _ in range(20):
        cookie = await asyncio.to_thread(visit, server)
        visitors.append(await open_visitor(server, cookie, peers))

    sends = [
        visitor.send(
            type="message.send", client_id=new_client_id(), body=f"{n} {LONG}"[:4000]
        )
        for visitor in visitors
        for n in range(3)
    ]
    await asyncio.gather(*sends)
    for visitor in visitors:
        await visitor.wait_for(
            lambda v=visitor: sum(f["type"] == "ack" for f in v.frames) == 3,
            timeout=20,
            what="three acks",
        )

    def live() -> list[dict[str, Any]]:
        got = []
        for frame in operator.frames:
            if frame["type"] == "message":
                got.append(frame["message"])
            elif frame["type"] == "messages":
                got.extend(frame["messages"])
        return got

    await operator.wait_for(lambda: len(live()) == 60, timeout=20, what="60 live")
    assert not operator.closed.done()
    assert max(operator.frame_bytes) <= LIMIT
    # Each thread's messages in order, each once.
    by_thread: dict[int, list[int]] = {}
    for message in live():
        by_thread.setdefault(message["thread"], []).append(message["seq"])
    assert sorted(by_thread.values()) == [[1, 2, 3]] * 20

    # And a reconnecting visitor with long messages still catches up.
    visitor = visitors[0]
    assert [m["seq"] for m in await sync_all(visitor)] == [1, 2, 3]
    assert max(visitor.frame_bytes) <= LIMIT


async def test_history_pages_back_through_long_messages(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    await store(visitor.hello, [f"{n:02} {LONG}"[:4000] for n in range(30)])
    operator = await open_operator(server, operator_cookie, peers)

    for peer, extra in ((visitor, {}), (operator, {"thread": thread})):
        pages: list[list[int]] = []
        before = None
        while True:
            await peer.send(type="history", before=before, limit=50, **extra)
            answer = await peer.next("history", "error", timeout=10)
            assert answer["type"] == "history", answer
            pages.append([m["seq"] for m in answer["messages"]])
            if not answer["has_more"]:
                break
            before = answer["messages"][0]["id"]
        assert len(pages) > 1  # 30 of them do not fit one frame
        assert pages[0][-1] == 30  # the newest first
        assert sorted(seq for page in pages for seq in page) == list(range(1, 31))
        assert max(peer.frame_bytes) <= LIMIT


async def test_the_thread_list_pages_by_size(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    threads = []
    for _ in range(12):
        cookie = await asyncio.to_thread(visit, server)
        visitor = await open_visitor(server, cookie, peers)
        threads.append(visitor.hello["thread"]["id"])
        await store(visitor.hello, [LONG])
    operator = await open_operator(server, operator_cookie, peers)

    listed: list[int] = []
    before = None
    while True:
        await operator.send(type="threads", status="all", before=before, limit=100)
        answer = await operator.next("threads", "error", timeout=10)
        assert answer["type"] == "threads", answer
        listed.extend(t["id"] for t in answer["threads"])
        if not answer["has_more"]:
            break
        before = answer["threads"][-1]["updated"]
    assert sorted(listed) == sorted(threads)
    assert len(listed) == len(set(listed))
    assert max(operator.frame_bytes) <= LIMIT


async def test_the_longest_message_in_the_widest_characters_goes_both_ways(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    # 4,000 four-byte characters: the largest frame a client may need to send
    # (chat.checks keeps SOHBET_MAX_FRAME_BYTES above it), then the server's copy.
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    operator = await open_operator(server, operator_cookie, peers)
    body = "\U0001f600" * 4000
    await visitor.send(type="message.send", client_id=new_client_id(), body=body)
    assert (await visitor.next("ack", "error"))["type"] == "ack"
    heard = await operator.next("message")
    assert heard["message"]["body"] == body
    await visitor.send(
        type="message.send", client_id=new_client_id(), body=body + "\U0001f600"
    )
    refused = await visitor.next("ack", "error")
    assert (refused["type"], refused["code"]) == ("error", "too_long")
