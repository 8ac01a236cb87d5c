"""Daphne as Sohbet runs it (``python -m chatsite.server``, Daphne's command line),
through Daphne's and Twisted's public seams only: lighter sockets (protocol options on
the class, an ``Inbox`` for ``receive``), request bodies bounded before they are
stored (``realtime.httpbody``), a socket's frames written as soon as it has nothing
more to handle (``flush_transport``), system checks before it serves, and on SIGTERM
every WebSocket closed with 1012 so that clients reconnect at once (``drain``).
docs/architecture.md says why each is there; docs/performance.md what it saves.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Callable
from functools import partial
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server as DaphneServer
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet import defer
from twisted.internet import reactor as _reactor

from realtime.checks import refuse_to_start_unless_sound
from realtime.httpbody import BodySpool, LimitedHTTPFactory
from realtime.hub import Inbox

logger = logging.getLogger("realtime.server")  # also when run as __main__

reactor: Any = _reactor  # Twisted's interfaces type its methods oddly for mypy
# RFC 6455's "service restart": the client may reconnect at once (with jitter).
CLOSE_RESTART = 1012


PROXY_HEADERS_REFUSED = (
    "chatsite.server: --proxy-headers is not supported: Daphne would take the "
    "client's address from the left-most X-Forwarded-For entry, which the client "
    "writes. Set CLIENT_IP_HEADER and TRUSTED_PROXIES instead (docs/security.md)."
)


class Server(DaphneServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("proxy_forwarded_address_header"):
            raise SystemExit(PROXY_HEADERS_REFUSED)
        self._then_ready: Callable[[], None] | None = kwargs.pop("ready_callable", None)
        self._ports: list[Any] = []  # listening (listen_success)
        super().__init__(*args, ready_callable=self._ready, **kwargs)

    @property
    def http_factory(self) -> LimitedHTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: Any) -> None:
        # Daphne's run() makes its own factory here; ours limits request bodies
        # (realtime.httpbody).
        if not isinstance(factory, LimitedHTTPFactory):
            factory = LimitedHTTPFactory(
                self, max_body=settings.SOHBET_MAX_REQUEST_BYTES
            )
        self._http_factory = factory

    def _ready(self) -> None:
        """Called by ``run`` once the factories are configured, before the first
        connection is accepted."""
        factory = self.ws_factory
        refuse_to_start_unless_sound(factory.maxMessagePayloadSize)
        # A protocol violation (a frame over --websocket-max-message-size, bad
        # UTF-8) closes with its code (1009, 1007) rather than dropping the TCP
        # connection (1006): what docs/protocol.md promises.
        factory.setProtocolOptions(failByDrop=False)
        factory.protocol = protocol_with_options(factory.protocol, factory)
        reactor.addSystemEventTrigger("before", "shutdown", self.drain)
        announce_ready(self.listening_addresses)
        if self._then_ready is not None:
            self._then_ready()

    def listen_success(self, port: Any) -> None:
        self._ports.append(port)
        super().listen_success(port)

    def drain(self) -> defer.Deferred[None]:
        """Stop taking connections and close every open WebSocket with 1012; fires
        once their clients have answered (or were dropped by the close handshake's
        timeout), or after ``SOHBET_SHUTDOWN_GRACE`` seconds at most."""
        for port in self._ports:
            port.stopListening()
        sockets = [
            protocol
            for protocol in self.connections
            if isinstance(protocol, WebSocketProtocol)
            and protocol.state == protocol.STATE_OPEN
        ]
        for protocol in sockets:
            protocol.sendCloseFrame(code=CLOSE_RESTART, reasonUtf8=b"restart")
        logger.info("shutting down: closing %d WebSocket(s)", len(sockets))
        done: defer.Deferred[None] = defer.Deferred()
        deadline = reactor.seconds() + settings.SOHBET_SHUTDOWN_GRACE

        def check() -> None:
            open_ = [p for p in sockets if p.state != p.STATE_CLOSED]
            if not open_ or reactor.seconds() >= deadline:
                done.callback(None)
            else:
                reactor.callLater(0.05, check)

        check()
        return done

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        # As Daphne's, with another queue for the protocol to put into: an Inbox
        # for a WebSocket, a BodySpool (the body on disk past 100 KB) for HTTP.
        if "application_instance" in self.connections[protocol]:
            raise RuntimeError(f"{protocol!r} has an application already")
        queue: Inbox | BodySpool
        if scope.get("type") == "websocket":
            queue = Inbox()
            send = partial(self._send, protocol, queue)
        else:
            queue = BodySpool()
            send = partial(self.handle_reply, protocol)
        scope.setdefault("asgi", {"version": "3.0"})
        instance = self.application(scope=scope, receive=queue.get, send=send)
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            instance, loop=asyncio.get_event_loop()
        )
        return queue

    async def _send(self, protocol: Any, inbox: Inbox, message: dict[str, Any]) -> None:
        """Daphne's ``handle_reply``; a frame it wrote waits in the transport's
        buffer for the event loop's next turn, and the socket's ``inbox.flush``
        writes it as soon as the socket has nothing more to handle."""
        await self.handle_reply(protocol, message)
        if message.get("type") == "websocket.send" and inbox.flush is None:
            inbox.flush = partial(flush_transport, protocol.transport)


def announce_ready(addresses: list[tuple[str, int]]) -> None:
    """One log line once the server listens, with the pages' URLs (``make run``)."""
    from django.urls import reverse

    for host, port in addresses:
        if host in ("0.0.0.0", "::"):  # noqa: S104 - a wildcard bind, shown locally
            host = "127.0.0.1"
        origin = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        logger.info(
            "Sohbet is ready: chat page %s%s  inbox %s%s",
            origin,
            reverse("visitor-page"),
            origin,
            reverse("inbox"),
        )


def flush_transport(transport: Any) -> None:
    """Write what a Twisted TCP transport holds now rather than when the reactor
    next sees its socket writable (a turn of the event loop later). ``doWrite``
    is what the reactor would call (``IWriteDescriptor``); anything it leaves (a
    full socket buffer, an error) is left to the reactor, as before. Nothing is
    done for a transport that is closing (the reactor closes it once its buffer
    is empty) or that is not plain TCP (TLS)."""
    do_write = getattr(transport, "doWrite", None)
    if do_write is None or not transport.connected or transport.disconnecting:
        return
    try:
        failed = do_write() is not None
    except Exception:  # the reactor's own call meets it again and drops the client
        logger.exception("writing to a socket failed")
        failed = True
    if failed:  # an error: the reactor's next doWrite reports it
        transport.startWriting()


def protocol_with_options(base: type, factory: Any) -> type:
    """A subclass of ``base`` holding ``factory``'s current protocol options as class
    attributes, so that autobahn does not copy them into each connection."""
    options: dict[str, Any] = {}
    for name in base.CONFIG_ATTRS:  # type: ignore[attr-defined]
        value = getattr(factory, name)
        # A function as a class attribute would become a method of the connection.
        options[name] = (
            staticmethod(value) if isinstance(value, types.FunctionType) else value
        )
    return type(base.__name__, (base,), {"__module__": __name__, **options})


class Command(CommandLineInterface):
    server_class = Server


def main() -> None:
    Command.entrypoint()


if __name__ == "__main__":
    main()
