"""HTTP request bodies in the web process: bounded before they are stored, and never
held whole in memory (Twisted receives a whole body, and parses forms into memory,
before Daphne hands it on). Through the seams Daphne and Twisted document:

- a body declared or counted over ``max_body`` is answered 413 as soon as that is
  known; what the client still sends is read and dropped a few seconds, then closed;
- Twisted's form parsing is off;
- the application reads the body from a ``BodySpool`` (memory up to 100 KB, then a
  temporary file).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import tempfile
from io import BytesIO
from typing import Any

from daphne.http_protocol import HTTPFactory, WebRequest
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Body bytes a request may hold in memory before disk: as Twisted keeps a body under
# 100,000 bytes in memory, a small request touches no file.
SPOOL_MEMORY = 100_000
CHUNK = 64 * 1024  # bytes per http.request message handed to the application


class LimitedHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory, building ``LimitedRequest``s that refuse bodies over
    ``max_body`` bytes."""

    def __init__(self, server: Any, *, max_body: int, linger: float = 5.0) -> None:
        super().__init__(server)
        self.request_class = type(
            "LimitedRequest",
            (LimitedRequest,),
            {"max_body": max_body, "linger_seconds": linger},
        )

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = self.request_class  # instead of Daphne's WebRequest
        return protocol


class LimitedRequest(WebRequest):
    max_body = 0  # bytes; set by the factory
    linger_seconds = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._received = 0
        self._refused = False
        self._linger: Any = None
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)

    def gotLength(self, length: int | None) -> None:
        """Called once the headers are in: ``length`` is the declared length, or
        None for a chunked body."""
        if length is not None and length > self.max_body:
            self.content = BytesIO()
            self._refuse(declared=length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._received > self.max_body:
            self.content.close()
            self.content = BytesIO()
            self._refuse(declared=None)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self._refused:  # answered already; the connection is closing
            return
        super().requestReceived(command, path, version)

    def connectionLost(self, reason: Any) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)

    def _refuse(self, *, declared: int | None) -> None:
        self._refused = True
        # Twisted answers "Expect: 100-continue" after this call: not once refused.
        self.requestHeaders.removeHeader(b"expect")
        transport = self.channel.transport
        peer = getattr(self.client, "host", "?")
        size, how = (declared, "declared") if declared else (self._received, "received")
        limit = self.max_body
        logger.warning(
            "request body refused (413): %s bytes %s, the limit is %s, from %s",
            size,
            how,
            limit,
            peer,
        )
        transport.write(too_large_response(self.requestHeaders, self.max_body))
        from twisted.internet import reactor  # Daphne's, installed by daphne.server

        clock: Any = reactor

        if hasattr(transport, "loseWriteConnection"):
            # Our side ends after the answer; the client's rest is dropped unread
            # until it stops, or the linger ends.
            transport.loseWriteConnection()
            self._linger = clock.callLater(
                self.linger_seconds, transport.abortConnection
            )
        else:
            transport.loseConnection()


def too_large_response(headers: Any, max_body: int) -> bytes:
    """A complete HTTP/1.1 413 answer (JSON, as the upload API's errors), in the
    language the client asks for."""
    request = HttpRequest()
    accept = headers.getRawHeaders(b"accept-language") or [b""]
    request.META["HTTP_ACCEPT_LANGUAGE"] = accept[0].decode("latin1")
    with translation.override(translation.get_language_from_request(request)):
        detail = _("This request is too large (the limit is %(mb)s MB).") % {
            "mb": max(1, max_body // (1024 * 1024))
        }
    body = json.dumps({"error": {"code": "too_large", "detail": detail}}).encode()
    head = (
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: application/json\r\n"
        b"X-Content-Type-Options: nosniff\r\n"
        b"Content-Length: %d\r\n"
        b"Connection: close\r\n\r\n"
    ) % len(body)
    return head + body


class BodySpool:
    """An HTTP application's ``receive`` queue (``put_nowait``, ``get``) that keeps
    the body in a spooled temporary file, not in the queue: Daphne puts the whole
    body at once, the application gets it ``CHUNK`` bytes at a time. Other messages
    (``http.disconnect``) come after the body."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
        self._written = 0
        self._read = 0
        self._complete = False  # the last http.request was put
        self._handed_out = False  # ... and given to the application
        self._others: collections.deque[dict[str, Any]] = collections.deque()
        self._changed = asyncio.Event()

    def put_nowait(self, message: dict[str, Any]) -> None:
        if message.get("type") == "http.request" and not self._complete:
            body = message.get("body", b"")
            if body:
                self._file.seek(self._written)
                self._file.write(body)
                self._written += len(body)
            self._complete = not message.get("more_body", False)
        else:
            self._others.append(message)
        self._changed.set()

    async def get(self) -> dict[str, Any]:
        while True:
            if not self._handed_out and (self._read < self._written or self._complete):
                return self._next_chunk()
            if self._others:
                return self._others.popleft()
            self._changed.clear()
            await self._changed.wait()

    def _next_chunk(self) -> dict[str, Any]:
        self._file.seek(self._read)
        chunk = self._file.read(CHUNK)
        self._read += len(chunk)
        more = not (self._complete and self._read >= self._written)
        if not more:
            self._handed_out = True
            self._file.close()
        return {"type": "http.request", "body": chunk, "more_body": more}
