"""The server process as deployed (``python -m chatsite.server``: Daphne with lighter
connections, chatsite/server.py): its limits hold and it serves every socket through
the lighter parts."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.request

import pytest

from tests.deploy.client import Peer, new_client_id, open_operator, open_visitor, visit
from tests.deploy.conftest import Processes
from tests.deploy.servers import ROOT

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
    # Closed with 1009 ("message too big"), as docs/protocol.md says; not dropped.
    assert await other_tab.wait_closed() == 1009

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


@pytest.mark.parametrize(
    "nested",
    ["[" * 8000 + "]" * 8000, '{"a":' * 2700 + "1" + "}" * 2700],
    ids=["arrays", "objects"],
)
async def test_deeply_nested_json_gets_invalid_and_the_socket_carries_on(
    processes: Processes, peers: list[Peer], operator_cookie: str, nested: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_client_id(), body="hi")
    await visitor.next("ack")  # written: operators hear of the visitor
    operator = await open_operator(server, operator_cookie, peers)
    frame = '{"type":"ping","client_id":"c1","x":' + nested + "}"
    assert len(frame) <= 16384  # within SOHBET_MAX_FRAME_BYTES

    await visitor.connection.send(frame)
    error = await visitor.next("error")
    assert error["code"] == "invalid"
    await visitor.send(type="ping")
    await visitor.next("pong")

    # Presence is cleaned up as for any socket.
    await visitor.close()
    left = await operator.next("presence", where=lambda f: not f["visitor_online"])
    assert left == {"type": "presence", "thread": thread, "visitor_online": False}
    log = server.log_tail(400)
    assert "RecursionError" not in log
    assert "Traceback" not in log


async def test_the_server_does_not_name_itself(processes: Processes) -> None:
    server = await asyncio.to_thread(processes.daphne)
    with await asyncio.to_thread(
        urllib.request.urlopen,
        server.http + "/healthz/",
        timeout=10,
    ) as response:
        assert response.headers.get("Server") is None


def test_the_deployed_command_lines_are_the_tested_one() -> None:
    # tests/deploy starts Daphne with these options; so do production and make run.
    tested = ["--websocket-max-message-size 65536", "--no-server-name"]
    railway = json.loads((ROOT / "railway.json").read_text())
    commands = {
        "railway.json": railway["deploy"]["startCommand"],
        "Makefile": (ROOT / "Makefile").read_text().replace("\\\n", " "),
        "docs/deploy.md": (ROOT / "docs" / "deploy.md").read_text(),
    }
    for where, text in commands.items():
        for option in tested:
            assert option in " ".join(text.split()), (where, option)


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
