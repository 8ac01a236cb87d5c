"""The server process as deployed (``python -m chatsite.server``: Daphne with lighter
connections, chatsite/server.py): its limits hold and it serves every socket through
the lighter parts."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from tests.deploy.client import Peer, new_client_id, open_operator, open_visitor, visit
from tests.deploy.conftest import Processes

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


async def test_a_frame_over_the_size_limit_closes_that_socket_only(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    # Started as deployed, with --websocket-max-message-size 65536 (tests/deploy).
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    other_tab = await open_visitor(server, cookie, peers)
    operator = await open_operator(server, operator_cookie, peers)

    await other_tab.connection.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
    # Dropped: 1009 ("message too big") or, as autobahn fails by dropping, 1006.
    assert await other_tab.wait_closed() in (1006, 1009)

    client_id = new_client_id()
    await visitor.send(type="message.send", client_id=client_id, body="still here")
    ack = await visitor.next("ack")
    assert ack["client_id"] == client_id
    heard = await operator.next("message")
    assert heard["message"]["body"] == "still here"


async def test_the_frames_written_before_a_flood_close_reach_the_client_first(
    processes: Processes, peers: list[Peer]
) -> None:
    # The server writes a socket's frames as soon as it has nothing more to handle
    # (chatsite.server.flush_transport), not on the loop's next turn; closing is
    # still left to Twisted: every answer arrives, then the close code.
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    for _ in range(61):  # SOHBET_WS_RATE 30/10 answered, SOHBET_WS_FLOOD 60/10
        await visitor.connection.send(json.dumps({"type": "ping"}))
    assert await visitor.wait_closed() == 4429
    answers = [frame["type"] for frame in visitor.frames if frame["type"] != "hello"]
    assert answers == ["pong"] * 30 + ["error"] * 30
    assert {frame.get("code") for frame in visitor.frames[-30:]} == {"rate_limited"}


async def test_stopping_the_server_closes_every_socket_with_service_restart(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    # A deploy stops the old process with SIGTERM: its clients must be able to tell
    # that from a network failure (1006) and come back at once.
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    operator = await open_operator(server, operator_cookie, peers)
    server.send_signal(signal.SIGTERM)
    assert await visitor.wait_closed() == 1012
    assert await operator.wait_closed() == 1012
    assert await asyncio.to_thread(server.wait_exit) == 0
