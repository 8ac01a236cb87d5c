"""The HTTP fallback across two web processes: a POST of frames that reaches another
process than the one holding the stream is routed to it (its hub's channel, through
Redis), in order, each frame once."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import threading
import uuid
from typing import Any

import pytest

from tests.deploy.client import visit
from tests.deploy.conftest import Processes
from tests.deploy.servers import Daphne

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


class RemoteStream:
    """A fallback stream on a real server, read by a thread as it comes."""

    def __init__(self, server: Daphne, cookie: str) -> None:
        self.cookie = cookie
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, 30)
        self.connection.request(
            "POST",
            "/http/chat/stream",
            body=b"",
            headers={"Cookie": cookie, "Origin": server.http},
        )
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        name, self.opened = self.next_event()
        assert name == "open"
        self.id = self.opened["stream"]
        self.posts = 0

    def _read(self) -> None:
        name, data = "", []
        try:
            while line := self.response.readline():
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    name = text[7:]
                elif text.startswith("data: "):
                    data.append(text[6:])
                elif not text and data:
                    self.events.put((name, json.loads("\n".join(data))))
                    name, data = "", []
        except (OSError, ValueError, AttributeError):  # closed by the test
            pass
        self.events.put(("end", None))

    def next_event(self, timeout: float = 10) -> tuple[str, Any]:
        return self.events.get(timeout=timeout)

    def next(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The next frame of type ``kind``, skipping others."""
        while True:
            name, data = self.next_event(timeout)
            if name in ("close", "end"):
                raise AssertionError(f"stream ended ({name} {data}) before {kind}")
            if data["type"] == kind:
                return dict(data)

    def post_to(self, server: Daphne, *frames: dict[str, Any]) -> int:
        """POST ``frames`` as the next post, to ``server``: its status."""
        self.posts += 1
        connection = http.client.HTTPConnection("127.0.0.1", server.port, 10)
        connection.request(
            "POST",
            "/http/chat/frames",
            body="\n".join(json.dumps(f) for f in frames).encode(),
            headers={
                "Cookie": self.cookie,
                "Origin": server.http,
                "Content-Type": "text/plain;charset=UTF-8",
                "X-Sohbet-Stream": self.id,
                "X-Sohbet-Post": str(self.posts),
            },
        )
        status = connection.getresponse().status
        connection.close()
        return status

    def close(self) -> None:
        self.connection.close()


def send(client_id: str, body: str) -> dict[str, Any]:
    return {"type": "message.send", "client_id": client_id, "body": body}


def test_frames_posted_to_another_process_reach_the_stream_in_order_once(
    processes: Processes,
) -> None:
    a, b = processes.two_daphnes()
    stream = RemoteStream(a, visit(a))
    try:
        stream.next("hello")
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        assert stream.post_to(b, send(first, "one")) == 204  # routed from b to a
        assert stream.post_to(a, send(second, "two")) == 204  # a's own
        assert stream.post_to(b, send(first, "one")) == 204  # a resend
        acks = [stream.next("ack") for _ in range(3)]
        assert [(x["client_id"], x["seq"]) for x in acks] == [
            (first, 1),
            (second, 2),
            (first, 1),
        ]
        stream.post_to(b, {"type": "sync", "after": 0})
        synced = stream.next("sync")
        assert [m["body"] for m in synced["messages"]] == ["one", "two"]
    finally:
        stream.close()


def test_a_stream_id_is_refused_by_every_process_for_another_session(
    processes: Processes,
) -> None:
    a, b = processes.two_daphnes()
    stream = RemoteStream(a, visit(a))
    try:
        stream.next("hello")
        stream.cookie = visit(b)  # another browser that learnt the id
        assert stream.post_to(b, {"type": "ping"}) == 404
        assert stream.post_to(a, {"type": "ping"}) == 404
    finally:
        stream.close()


def test_a_restarting_server_closes_its_streams_with_1012(
    processes: Processes,
) -> None:
    server = processes.daphne()
    stream = RemoteStream(server, visit(server))
    try:
        stream.next("hello")
        server.send_signal(signal.SIGTERM)
        while (event := stream.next_event())[0] not in ("close", "end"):
            pass
        assert event == ("close", {"code": 1012})
        assert server.wait_exit() == 0
    finally:
        stream.close()


def test_frames_that_cannot_be_routed_while_redis_is_down_get_503(
    processes: Processes,
) -> None:
    redis = processes.redis()
    a, b = processes.two_daphnes(REDIS_URL=redis.url)
    stream = RemoteStream(a, visit(a))
    try:
        stream.next("hello")
        redis.stop()
        assert stream.post_to(b, {"type": "ping"}) == 503
        stream.posts -= 1  # not taken: the client sends it again, with its number
        assert stream.post_to(a, {"type": "ping"}) == 204  # the stream's own process
        assert stream.next("pong")
    finally:
        stream.close()
