"""A WebSocket client speaking docs/protocol.md, for tests against real processes.

Frames are read by a background task as they arrive, so a test can wait for one kind of
frame while every frame stays recorded (``frames``) for assertions at the end.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.deploy.servers import Daphne

Frame = dict[str, Any]


def new_client_id() -> str:
    return str(uuid.uuid4())


class Peer:
    """One WebSocket connection to a Sohbet server."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[Frame] = []
        self.frame_bytes: list[int] = []  # each frame's size on the wire, in order
        self.closed: asyncio.Future[int | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._queue: asyncio.Queue[Frame] = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self.hello: Frame = {}

    @classmethod
    async def open(cls, url: str, *, cookie: str, origin: str) -> Peer:
        """Connect and wait for the server's ``hello``."""
        peer = await cls.open_raw(url, cookie=cookie, origin=origin)
        peer.hello = await peer.next("hello", timeout=10)
        return peer

    @classmethod
    async def open_raw(cls, url: str, *, cookie: str, origin: str) -> Peer:
        """Connect; whatever the server says next is up to the test."""
        connection = await connect(
            url,
            additional_headers={"Cookie": cookie, "Origin": origin},
            open_timeout=10,
            ping_interval=None,  # the protocol's own ping frames are the keep-alive
            close_timeout=2,
        )
        return cls(connection)

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                frame = json.loads(text)
                self.frame_bytes.append(
                    len(text.encode() if isinstance(text, str) else text)
                )
                self.frames.append(frame)
                self._queue.put_nowait(frame)
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result(self.connection.close_code)
            self._arrived.set()

    async def send(self, **frame: Any) -> None:
        # As a browser's JSON.stringify: text as it is, not \u-escaped.
        await self.connection.send(json.dumps(frame, ensure_ascii=False))

    async def next(
        self,
        *types: str,
        timeout: float = 5,
        where: Callable[[Frame], bool] | None = None,
    ) -> Frame:
        """The next frame of one of ``types`` (matching ``where``), skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._queue.empty() and self.closed.done():
                raise AssertionError(
                    f"closed ({self.closed.result()}) while waiting for {types}"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {types} frame within {timeout} s")
            getter = asyncio.ensure_future(self._queue.get())
            done, _pending = await asyncio.wait(
                {getter, self.closed}, timeout=remaining, return_when="FIRST_COMPLETED"
            )
            if getter not in done:
                getter.cancel()
                continue
            frame = getter.result()
            if frame["type"] in types and (where is None or where(frame)):
                return frame

    async def wait_for(
        self, condition: Callable[[], bool], *, timeout: float, what: str
    ) -> None:
        """Wait until ``condition`` (usually about ``frames``) holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or (self.closed.done() and self._queue.empty()):
                raise AssertionError(f"{what}: not within {timeout} s")
            self._arrived.clear()
            if condition():
                return
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_closed(self, timeout: float = 15) -> int | None:
        return await asyncio.wait_for(asyncio.shield(self.closed), timeout)

    async def close(self) -> None:
        await self.connection.close()
        await asyncio.wait({self._reader}, timeout=5)

    def messages_seen(self) -> dict[int, Frame]:
        """Every message this connection received, live or in a sync/history
        answer, by id."""
        seen: dict[int, Frame] = {}
        for frame in self.frames:
            if frame["type"] == "message":
                seen[frame["message"]["id"]] = frame["message"]
            elif frame["type"] in ("sync", "history"):
                for message in frame["messages"]:
                    seen[message["id"]] = message
        return seen

    def contiguous_seq(self, thread: int) -> int:
        """The last seq of ``thread`` this connection has with no gap before it."""
        seqs = {
            m["seq"] for m in self.messages_seen().values() if m["thread"] == thread
        }
        last = 0
        while last + 1 in seqs:
            last += 1
        return last

    def live_message_ids(self) -> list[int]:
        return [f["message"]["id"] for f in self.frames if f["type"] == "message"]


@dataclass
class Outbox:
    """What a visitor page keeps: messages sent and not yet acknowledged."""

    bodies: dict[str, str] = field(default_factory=dict)  # client_id -> body
    acked: dict[str, Frame] = field(default_factory=dict)  # client_id -> ack

    def add(self, body: str) -> str:
        client_id = new_client_id()
        self.bodies[client_id] = body
        return client_id

    def record_acks(self, peer: Peer) -> None:
        for frame in peer.frames:
            if frame["type"] == "ack" and frame["client_id"] in self.bodies:
                self.acked[frame["client_id"]] = frame

    def unacked(self) -> list[str]:
        return [cid for cid in self.bodies if cid not in self.acked]


async def send_message(
    peer: Peer, outbox: Outbox, client_id: str, **extra: Any
) -> None:
    await peer.send(
        type="message.send",
        client_id=client_id,
        body=outbox.bodies[client_id],
        attachment=None,
        **extra,
    )


async def resume(
    peer: Peer, outbox: Outbox, *, after_seq: int, timeout: float = 15
) -> list[Frame]:
    """What a visitor page does on reconnecting: resend its unacknowledged messages
    with the same client_id, then sync after the last seq it saw (every page).
    Returns the messages the sync answers carried."""
    pending = outbox.unacked()
    for client_id in pending:
        await send_message(peer, outbox, client_id)
    await peer.wait_for(
        lambda: all(
            any(f["type"] == "ack" and f["client_id"] == cid for f in peer.frames)
            for cid in pending
        ),
        timeout=timeout,
        what="acks for the resent messages",
    )
    outbox.record_acks(peer)
    synced: list[Frame] = []
    after = after_seq
    while True:
        await peer.send(type="sync", after=after)
        answer = await peer.next("sync", timeout=timeout)
        synced.extend(answer["messages"])
        if not answer["has_more"]:
            return synced
        after = answer["messages"][-1]["seq"]


# --- Against a Daphne ---------------------------------------------------------


def visit(server: Daphne) -> str:
    """GET the chat page as a new browser: the ``Cookie`` header it gets back."""
    with urllib.request.urlopen(server.http + "/", timeout=10) as response:  # noqa: S310
        assert response.status == 200
        cookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie.load(header)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={cookie[name].value}"


def page_status(server: Daphne, cookie: str = "") -> int:
    request = urllib.request.Request(  # noqa: S310
        server.http + "/", headers={"Cookie": cookie} if cookie else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


async def open_visitor(server: Daphne, cookie: str, peers: list[Peer]) -> Peer:
    peer = await Peer.open(server.ws + "/ws/chat/", cookie=cookie, origin=server.http)
    peers.append(peer)
    return peer


async def open_operator(server: Daphne, cookie: str, peers: list[Peer]) -> Peer:
    peer = await Peer.open(
        server.ws + "/ws/operator/", cookie=cookie, origin=server.http
    )
    peers.append(peer)
    return peer
