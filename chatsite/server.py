"""Daphne as Sohbet runs it: ``python -m chatsite.server`` takes Daphne's own command
line (``daphne --help``) and serves with Daphne's server, less two costs that each
WebSocket connection carries for its whole life (docs/performance.md, "Memory per
socket"; thousands of idle visitor pages are the common case):

- autobahn copies its thirty protocol options from the factory into the attributes
  of every connection, unless the protocol class has them already (its documented
  way of setting options per protocol). Ours gets a protocol class that has them,
  made once the factory is configured: each connection's attribute table stays at
  half the size (≈ 1.7 KiB less).
- Daphne gives every application instance an ``asyncio.Queue`` for its ``receive``
  (four deques and an event, ≈ 3 KiB). A WebSocket application reads it from one
  task at a time, so ours gets a ``chat.hub.Inbox`` (one list), which the chat
  consumers also take as their inbox, with no task of their own to fill it from
  ``receive`` (≈ 1 KiB more); HTTP keeps Daphne's queue.

It also writes a socket's frames as soon as the socket has nothing more to handle
(``flush_transport``), rather than when the reactor next sees the socket writable:
one turn of the event loop less for every ack and every live message.

All three go through public seams (Daphne's ``CommandLineInterface.server_class``, its
server's ``ready_callable`` and ``create_application``; Twisted's ``doWrite``, of
``IWriteDescriptor``); no library code is changed.
``create_application`` for WebSockets does what Daphne's does with another queue; it
is covered by every test that opens a socket through a server process
(tests/deploy, tests/browser) and by tests/deploy/test_server.py.
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

from chat.hub import Inbox

logger = logging.getLogger("chatsite.server")  # also when run as __main__


class Server(DaphneServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._then_ready: Callable[[], None] | None = kwargs.pop("ready_callable", None)
        super().__init__(*args, ready_callable=self._ready, **kwargs)

    def _ready(self) -> None:
        """Called by ``run`` once the factories are configured, before the first
        connection is accepted."""
        factory = self.ws_factory
        factory.protocol = protocol_with_options(factory.protocol, factory)
        announce_ready(self.listening_addresses)
        if self._then_ready is not None:
            self._then_ready()

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") != "websocket":
            return super().create_application(protocol, scope)
        # As Daphne's, with an Inbox for the queue the protocol puts into.
        if "application_instance" in self.connections[protocol]:
            raise RuntimeError(f"{protocol!r} has an application already")
        queue = Inbox()
        scope.setdefault("asgi", {"version": "3.0"})
        instance = self.application(
            scope=scope, receive=queue.get, send=partial(self._send, protocol, queue)
        )
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
