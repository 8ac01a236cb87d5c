"""Shared fixtures: sockets on the real ASGI application, users, service checks."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections
from django.test import Client

IN_CI = os.environ.get("CI", "").lower() == "true"
ORIGIN = (b"origin", b"http://localhost")


def _require(available: bool, what: str) -> None:
    """A test whose service is missing fails under CI=true; elsewhere it skips."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not configured")
    pytest.skip(f"{what} not configured")


@pytest.fixture(autouse=True)
def _services_for_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres_redis"):
        _require(bool(os.environ.get("DATABASE_URL")), "PostgreSQL (DATABASE_URL)")
        _require(bool(os.environ.get("REDIS_URL")), "Redis (REDIS_URL)")


@pytest.fixture(scope="session", autouse=True)
def _close_worker_thread_connections(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """Close the database connection held by asgiref's shared sync thread.

    Async tests reach the ORM through that thread, and Django's test client keeps
    connections open, so without this the test database cannot be dropped at the end.
    """
    yield
    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Presence and rate counters live in the cache; each test starts from none.
    cache.clear()


@pytest.fixture(autouse=True)
def _writer_connections_closed() -> Iterator[None]:
    """The message writer keeps its connection between batches; each test's writer
    gives it back before the next test flushes the database (and at the end, drops
    it)."""
    yield
    from realtime import writer

    writer.close_connections()


def store_burst(thread_id: int, count: int = 3) -> list[Any]:
    """Store ``count`` visitor messages ("burst 0", …) in one transaction, as the
    writer stores a batch, and return the events it would send."""
    from chat import services
    from chat.models import Message
    from chat.services import NewMessage
    from realtime import delivery

    posts = [
        NewMessage(
            thread_id=thread_id,
            client_id=uuid.uuid4(),
            body=f"burst {n}",
            author=Message.Author.VISITOR,
            author_name="",
        )
        for n in range(count)
    ]
    with delivery.collecting() as sent:
        services.post_messages(posts=posts)
    return sent


class Socket:
    """A WebSocket client on the real ASGI application, speaking JSON frames."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.hello: dict[str, Any] = {}

    async def send(self, **frame: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            raise AssertionError(f"socket closed with {output.get('code')}")
        return json.loads(output["text"])

    async def receive_type(self, *types: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of one of these types, skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {types} frame within {timeout} s")
            frame = await self.receive(remaining)
            if frame["type"] in types:
                return frame

    async def receive_close(self, timeout: float = 5) -> int | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            output = await self.communicator.receive_output(
                max(deadline - loop.time(), 0.01)
            )
            if output["type"] == "websocket.close":
                return output.get("code")

    async def nothing_more(self) -> bool:
        return await self.communicator.receive_nothing(timeout=0.2)

    async def hears_no_message_again(self) -> bool:
        """Whether no ``message``/``messages`` frame comes until the socket has been
        quiet for a moment. Other frames (presence, typing, read marks) may come at
        any time, through another path than the messages: they are skipped."""
        while not await self.nothing_more():
            if (await self.receive())["type"] in ("message", "messages"):
                return False
        return True

    async def close(self) -> None:
        await self.communicator.disconnect()


def _application() -> Any:
    from chatsite.asgi import application

    return application


@sync_to_async
def _visitor_cookie(written: bool = False) -> str:
    """A new browser session from the chat page; with ``written``, its visitor's
    conversation is written already (a returning visitor: an operator may write
    first)."""
    client = Client()
    response = client.get("/")
    assert response.status_code == 200
    key = response.cookies[settings.SESSION_COOKIE_NAME].value
    if written:
        from chat import services

        new = services.drawn_conversation(client.session)
        if new is not None:  # else (no sequences) the socket writes it
            services.store_conversation(new)
    return key


@sync_to_async
def _operator_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def open_socket(
    path: str,
    *,
    cookie: str | None,
    origin: tuple[bytes, bytes] | None = ORIGIN,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[Socket, bool]:
    headers = [(b"host", b"localhost"), *(extra_headers or [])]
    if origin:
        headers.append(origin)
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(_application(), path, headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    return Socket(communicator), connected


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for socket in opened:
        try:
            await socket.close()
        except Exception:  # noqa: S110 - already closed by the test or the server
            pass


@pytest.fixture
def connect_visitor(sockets: list[Socket]) -> Callable[..., Awaitable[Socket]]:
    """Open a visitor socket (a new browser session unless ``cookie`` is given;
    ``written``: see _visitor_cookie)."""

    async def connect(cookie: str | None = None, *, written: bool = False) -> Socket:
        cookie = cookie or await _visitor_cookie(written)
        socket, connected = await open_socket("/ws/chat/", cookie=cookie)
        assert connected
        sockets.append(socket)
        socket.hello = await socket.receive_type("hello")
        socket.cookie = cookie  # type: ignore[attr-defined]
        return socket

    return connect


@pytest.fixture
def make_operator(db: None) -> Callable[..., Any]:
    @sync_to_async
    def make(username: str = "ayse", **fields: Any) -> Any:
        fields.setdefault("is_staff", True)
        return get_user_model().objects.create_user(
            username=username, password="correct horse battery staple", **fields
        )

    return make


@pytest.fixture
def connect_operator(
    sockets: list[Socket], make_operator: Any
) -> Callable[..., Awaitable[Socket]]:
    async def connect(user: Any = None) -> Socket:
        user = user or await make_operator()
        cookie = await _operator_cookie(user)
        socket, connected = await open_socket("/ws/operator/", cookie=cookie)
        assert connected
        sockets.append(socket)
        socket.hello = await socket.receive_type("hello")
        socket.user = user  # type: ignore[attr-defined]
        socket.cookie = cookie  # type: ignore[attr-defined]
        return socket

    return connect
