"""A client of the HTTP fallback transport (docs/protocol.md, "HTTP fallback") on the
real ASGI application, in the test's own event loop: one stream read as it comes,
frames sent in numbered POSTs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.testing import ApplicationCommunicator
from django.conf import settings

from tests.conftest import _application


def http_scope(
    path: str, *, cookie: str | None, origin: str | None, headers: list[Any]
) -> dict[str, Any]:
    raw = [(b"host", b"localhost"), *headers]
    if origin:
        raw.append((b"origin", origin.encode()))
    if cookie:
        raw.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }


async def request(
    path: str,
    body: bytes = b"",
    *,
    cookie: str | None,
    origin: str | None = "http://localhost",
    headers: list[Any] | None = None,
    method: str = "POST",
) -> tuple[int, bytes]:
    """A whole request and its answer: (status, body)."""
    headers = [*(headers or []), (b"content-length", str(len(body)).encode())]
    scope = http_scope(path, cookie=cookie, origin=origin, headers=headers)
    scope["method"] = method
    communicator = ApplicationCommunicator(_application(), scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(10)
    content = b""
    while True:
        message = await communicator.receive_output(10)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(1)
    return start["status"], content


class HttpStream:
    """One fallback connection: ``open`` reads the stream's ``open`` event; frames
    come from ``receive``; ``send`` posts frames, numbered in order."""

    def __init__(
        self, cookie: str | None, path: str = "/http/chat/", *, token: str = ""
    ) -> None:
        self.cookie = cookie
        # The widget's visitor token, sent on each request instead of the cookie.
        self.token_headers = [(b"x-sohbet-visitor", token.encode())] if token else []
        self.path = path
        self.status = 0
        self.opened: dict[str, Any] = {}
        self.hello: dict[str, Any] = {}
        self.close_code: int | None = None
        self.posts = 0
        self._buffer = b""
        self._events: list[tuple[str, str]] = []
        self.communicator: ApplicationCommunicator | None = None

    async def open(self, *, origin: str | None = "http://localhost") -> HttpStream:
        scope = http_scope(
            self.path + "stream",
            cookie=self.cookie,
            origin=origin,
            headers=[(b"content-length", b"0"), *self.token_headers],
        )
        self.communicator = ApplicationCommunicator(_application(), scope)
        await self.communicator.send_input({"type": "http.request", "body": b""})
        start = await self.communicator.receive_output(10)
        self.status = start["status"]
        if self.status == 200:
            name, data = await self._next_event(10)
            assert name == "open", (name, data)
            self.opened = json.loads(data)
        return self

    async def _next_event(self, timeout: float) -> tuple[str, str]:
        assert self.communicator is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._events:
            if self.close_code is not None:
                raise AssertionError(f"stream closed with {self.close_code}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no event within {timeout} s")
            try:  # not receive_output: its timeout would cancel the application
                message = await asyncio.wait_for(
                    self.communicator.output_queue.get(), remaining
                )
            except TimeoutError:
                raise AssertionError(f"no event within {timeout} s") from None
            self._buffer += message.get("body", b"")
            while b"\n\n" in self._buffer:
                block, self._buffer = self._buffer.split(b"\n\n", 1)
                self._parse(block.decode())
        return self._events.pop(0)

    def _parse(self, block: str) -> None:
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            self._events.append((name, "\n".join(data)))

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next frame; AssertionError when the stream closes instead."""
        name, data = await self._next_event(timeout)
        if name == "close":
            self.close_code = json.loads(data)["code"]
            raise AssertionError(f"stream closed with {self.close_code}")
        return json.loads(data)

    async def receive_type(self, *types: str, timeout: float = 5) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.receive(max(deadline - loop.time(), 0.01))
            if frame["type"] in types:
                return frame

    async def receive_close(self, timeout: float = 5) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.close_code is None:
            try:
                await self.receive(max(deadline - loop.time(), 0.01))
            except AssertionError:
                if self.close_code is None:
                    raise
        return self.close_code

    async def post(self, *frames: Any, number: int | None = None) -> tuple[int, Any]:
        """POST ``frames`` (dicts, or text as it is) as the next post, or as post
        ``number``: (status, the answer's JSON or None)."""
        if number is None:
            self.posts += 1
            number = self.posts
        body = "\n".join(f if isinstance(f, str) else json.dumps(f) for f in frames)
        status, content = await request(
            self.path + "frames",
            body.encode(),
            cookie=self.cookie,
            headers=[
                (b"x-sohbet-stream", self.opened.get("stream", "").encode()),
                (b"x-sohbet-post", str(number).encode()),
                *self.token_headers,
            ],
        )
        return status, json.loads(content) if content else None

    async def send(self, **frame: Any) -> None:
        status, answer = await self.post(frame)
        assert status == 204, (status, answer)

    async def close(self) -> None:
        if self.communicator is not None:
            await self.communicator.send_input({"type": "http.disconnect"})
            try:
                await self.communicator.wait(5)
            except (Exception, asyncio.CancelledError):  # noqa: S110 - ended already
                pass
