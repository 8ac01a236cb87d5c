"""One HTTP fallback stream (``realtime.fallback``): a consumer that believes it
holds a WebSocket. Its frames go down an HTTP response as Server-Sent Events; the
client's come from numbered POSTs, put into its inbox in their order, each once.

Events of the response: ``open`` (``{"stream": id, "max_frames", "max_bytes",
"keepalive"}``), then one unnamed event per frame, a comment every ``KEEPALIVE``
seconds of silence, and ``close`` (``{"code": ...}``) at the end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from realtime.hub import Inbox

logger = logging.getLogger(__name__)

KEEPALIVE = 15.0  # seconds of silence before a comment keeps proxies from timing out
# Bytes of comment before the first event: some proxies and antivirus products
# hold a response back until this much has come.
PADDING = b":" + b" " * 2048 + b"\n\n"
# Posts held for an earlier one still on its way: a client has one POST in flight,
# so only a routed one overtaken by the next (taken here) ever waits.
MAX_WAITING_POSTS = 2
GAP_LIMIT = 10.0  # seconds an earlier post may be missing before the stream ends
CLOSE_IDLE = 4408  # no POST (not even a ping) for SOHBET_HTTP_IDLE seconds
CLOSE_TRY_AGAIN = 4503  # a post was lost on its way from another process
CLOSE_GONE = 1006  # the client went away
CLOSE_RESTART = 1012  # the server restarts

open_streams: dict[str, Stream] = {}


class Stream:
    def __init__(self, *, stream_id: str, send: Any, limits: dict[str, int]) -> None:
        self.id = stream_id
        self.inbox = Inbox()
        self._send = send  # the HTTP response's
        self._limits = limits
        self.started = False  # the consumer accepted: the response began
        self.ended = False
        self.next_post = 1
        self.waiting: dict[int, list[str]] = {}  # posts ahead of a missing one
        self.gap_since = 0.0
        self.last_post_at = self.last_write_at = time.monotonic()

    async def run(self, application: Any, scope: dict[str, Any], receive: Any) -> None:
        """Run the consumer until it ends, the client leaves or the stream is
        closed; the HTTP response is finished either way."""
        self.inbox.put_nowait({"type": "websocket.connect"})
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await application(scope, self.inbox.get, self._from_consumer)
        except asyncio.CancelledError:
            # The server stops (Daphne cancels its applications before it exits):
            # as a socket gets 1012, the client comes back at once.
            await self.close(CLOSE_RESTART)
            raise
        finally:
            open_streams.pop(self.id, None)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            if not self.started:  # refused before it was accepted, as a socket is
                await self._answer_refused()
            elif not self.ended:
                self.ended = True
                await self._write(b"", more=False)

    # --- What the consumer sends ------------------------------------------------

    async def _from_consumer(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            await self._start()
        elif kind == "websocket.send" and message.get("text") is not None:
            await self._write(event(message["text"]))
        elif kind == "websocket.close":
            await self.close(int(message.get("code") or 1000))

    async def _start(self) -> None:
        self.started = True
        open_streams[self.id] = self
        await self._send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store, no-transform"),
                    (b"x-accel-buffering", b"no"),  # nginx: pass events on at once
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        opened = {"stream": self.id, **self._limits, "keepalive": KEEPALIVE}
        await self._write(PADDING + event(json.dumps(opened), name="open"))

    async def close(self, code: int) -> None:
        """Tell the client ``code`` and end the response; the consumer hears a
        disconnect, as after a WebSocket's closing handshake."""
        if self.ended:
            return
        open_streams.pop(self.id, None)
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})
        if not self.started:
            return  # answered as refused when the consumer returns
        self.ended = True
        await self._write(event(json.dumps({"code": code}), name="close"), more=False)

    async def _write(self, data: bytes, *, more: bool = True) -> None:
        if not self.started or (self.ended and more):
            return
        self.last_write_at = time.monotonic()
        await self._send(
            {"type": "http.response.body", "body": data, "more_body": more}
        )

    async def _answer_refused(self) -> None:
        detail = _("This connection was refused.")
        body = json.dumps({"error": {"code": "forbidden", "detail": detail}}).encode()
        await self._send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await self._send({"type": "http.response.body", "body": body})

    # --- What the client sends --------------------------------------------------

    def take(self, number: int, frames: list[str]) -> bool:
        """Post ``number``'s frames, for the consumer in the posts' order: a post
        that came before an earlier one waits for it; one seen already (a retry)
        is dropped. False once the stream has ended."""
        if self.ended:
            return False
        self.last_post_at = time.monotonic()
        if number < self.next_post:
            return True
        self.waiting[number] = frames
        while self.next_post in self.waiting:
            for text in self.waiting.pop(self.next_post):
                self.inbox.put_nowait({"type": "websocket.receive", "text": text})
            self.next_post += 1
        if not self.waiting:
            self.gap_since = 0.0
        elif not self.gap_since:
            self.gap_since = time.monotonic()
        if len(self.waiting) > MAX_WAITING_POSTS:
            asyncio.ensure_future(self.close(CLOSE_TRY_AGAIN))
        return True

    async def _watch(self, receive: Any) -> None:
        """Hear the client leave; keep the response alive through quiet spells;
        end a stream no POST has reached for ``SOHBET_HTTP_IDLE`` seconds, or one
        whose missing post does not come."""
        every = min(KEEPALIVE, settings.SOHBET_HTTP_IDLE) / 3
        while True:
            try:
                message = await asyncio.wait_for(receive(), every)
            except TimeoutError:
                await self._check()
                continue
            if message["type"] == "http.disconnect":
                open_streams.pop(self.id, None)
                self.ended = True
                self.inbox.put_nowait(
                    {"type": "websocket.disconnect", "code": CLOSE_GONE}
                )
                return

    async def _check(self) -> None:
        now = time.monotonic()
        if now - self.last_post_at > settings.SOHBET_HTTP_IDLE:
            await self.close(CLOSE_IDLE)
        elif self.gap_since and now - self.gap_since > GAP_LIMIT:
            logger.warning("HTTP stream ended: a post did not arrive")
            await self.close(CLOSE_TRY_AGAIN)
        elif now - self.last_write_at >= KEEPALIVE:
            await self._write(b":\n\n")


def event(data: str, *, name: str = "") -> bytes:
    """A Server-Sent Event carrying ``data`` (one ``data:`` line per line)."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    head = f"event: {name}\n" if name else ""
    return (head + "".join(f"data: {line}\n" for line in lines) + "\n").encode()
