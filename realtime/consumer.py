"""The engine's socket: one loop per connection, groups heard through the process's
hub, frames checked before they are parsed, one handler per frame type.

A subclass (chat.consumers) says who may connect (``start``), how a frame is parsed
(``parse_frame``) and what each frame type does: a method decorated with
``@on("message.send")``. Events from the layer reach methods named as Channels names
them ("chat.messages" -> ``chat_messages``). Refusals accept, then close with the
protocol's code, so that the browser sees it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from realtime import delivery, framing, hub, socket_limits, tokens
from realtime.errors import ErrorCode, FrameError
from realtime.ratelimit import Rule, TokenBucket

logger = logging.getLogger(__name__)

CLOSE_RECHECK = 4001  # rights changed: reconnect at once, to be checked again
CLOSE_NO_IDENTITY = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOOD = 4429
# A service this socket needs was unreachable: reconnect with back-off. (Not RFC
# 6455's 1013: the WebSocket library lets an application send 1000 or 3000-4999.)
CLOSE_TRY_AGAIN = 4503

LAYER_ERRORS = (RedisError, OSError)  # the layer's server (Redis) unreachable
# What a send to a closing socket raises: an OSError (ASGI), or autobahn's own.
CLIENT_GONE = (OSError, Disconnected)

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def on(*frame_types: str) -> Callable[[F], F]:
    """Make a method the handler of these frame types: ``@on("message.send")``."""

    def mark(method: F) -> F:
        method._frame_types = frame_types  # type: ignore[attr-defined]
        return method

    return mark


class SocketConsumer(AsyncJsonWebsocketConsumer):
    frame_handlers: ClassVar[dict[str, Callable[..., Awaitable[None]]]] = {}
    ready = False  # set by start() once the socket may send frames
    without_layer = False  # joined no group: the layer was down
    connection_id: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers = {}
        for klass in reversed(cls.__mro__):  # a subclass's handler wins
            for value in vars(klass).values():
                for frame_type in getattr(value, "_frame_types", ()):
                    handlers[frame_type] = value
        cls.frame_handlers = handlers

    # --- To be said by a subclass ---------------------------------------------------

    async def start(self) -> None:
        """After the handshake: refuse (``close``), or join groups, set ``ready``
        and greet the client."""
        raise NotImplementedError

    def parse_frame(self, data: Any) -> Any:
        """A decoded frame as the object its handler takes; raises FrameError. Only
        types with a handler may pass."""
        raise NotImplementedError

    async def on_ping(self) -> None:
        """After each ``pong``: a socket that joined nothing because the layer was
        down is closed once it is back, so that its client reconnects to live
        delivery."""
        if self.without_layer and await delivery.is_layer_available():
            await self.close(code=CLOSE_TRY_AGAIN)

    # --- The loop -------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Channels' own loop waits on the client and the layer with a new task per
        # frame and per event. Here one inbox takes the client's frames and the hub's
        # events, dispatched in order, one at a time, as Channels does.
        self.scope = scope
        self._client_send = send
        self.channel_layer = None
        self._hub: hub.Hub | None = None
        self._hub_groups: list[str] = []
        self.socket_claim: socket_limits.Claim | None = None
        source = getattr(receive, "__self__", None)
        pump = None
        if isinstance(source, hub.Inbox):
            # The server (realtime.server) gave the socket an Inbox to receive from:
            # no task to move the client's frames (≈ 1 KiB of each idle socket).
            self.inbox = source
        else:  # another server, or a test's communicator
            self.inbox = hub.Inbox()
            pump = asyncio.create_task(self._pump(receive))
        try:
            while True:
                message = await self.inbox.get()
                if isinstance(message, BaseException):
                    raise message
                await self.dispatch(message)
                if self.inbox.flush is not None and self.inbox.empty():
                    flush, self.inbox.flush = self.inbox.flush, None
                    flush()
        except StopConsumer:
            pass
        finally:
            if pump is not None:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
            self._leave_hub()
            socket_limits.release(self.socket_claim)

    async def _pump(self, source: Any) -> None:
        """Move what ``source`` gives into the inbox; its error too."""
        try:
            while True:
                self.inbox.put_nowait(await source())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.inbox.put_nowait(exc)

    async def base_send(self, message: dict[str, Any]) -> None:
        try:
            await self._client_send(message)
        except CLIENT_GONE as exc:
            # The client began to close: its disconnect comes next, with the clean-up
            # an exception here would skip.
            logger.debug("send to a closing socket dropped: %s", exc)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Without Channels' hop to the shared sync thread for every frame and event
        # (it serialised the process): database work goes through realtime.db.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.connection_id = uuid.uuid4().hex
        self.soft_limit = TokenBucket(Rule.parse(settings.SOHBET_WS_RATE))
        self.hard_limit = TokenBucket(Rule.parse(settings.SOHBET_WS_FLOOD))
        self.language = language_of(self.scope)
        # Activated once in the socket's task: its frames and errors render in it.
        translation.activate(self.language)
        # A client that offers the subprotocol (a visitor token beside it) is
        # answered with it: a browser drops a socket whose offer went unanswered.
        offered = self.scope.get("subprotocols") or ()
        await self.accept(tokens.PROTOCOL if tokens.PROTOCOL in offered else None)
        self.socket_claim = socket_limits.claim(self.scope)
        if self.socket_claim is None:
            await self.send_error(
                FrameError(
                    ErrorCode.RATE_LIMITED,
                    _("Too many open connections. Close some tabs and try again."),
                )
            )
            await self.close(code=CLOSE_FLOOD)
            return
        await self.start()

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self._leave_hub()
        await self.disconnect(message["code"])
        raise StopConsumer()

    # --- Groups -------------------------------------------------------------------

    async def join(self, *groups: str) -> None:
        """Hear these groups' events, through the process's hub. A socket that
        cannot (the layer is down) works without live delivery until a ping finds
        the layer back."""
        try:
            the_hub = self._hub or hub.get_hub(self.channel_layer_alias)
            if the_hub is None:
                return
            for group in groups:
                await the_hub.join(group, self.inbox)
                if group not in self._hub_groups:
                    self._hub_groups.append(group)
            self._hub = the_hub
        except LAYER_ERRORS as exc:
            logger.warning("socket without live delivery: %s", exc)
            self.without_layer = True

    def leave(self, *groups: str) -> None:
        for group in groups:
            if group in self._hub_groups:
                self._hub_groups.remove(group)
                if self._hub is not None:
                    self._hub.leave(group, self.inbox)

    def _leave_hub(self) -> None:
        self.leave(*self._hub_groups)

    # --- Frames -------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if not self.ready:
            return
        if not self.hard_limit.take():
            await self.close(code=CLOSE_FLOOD)
            return
        try:
            data = self._checked(text_data)
            frame = self.parse_frame(data)
            await self.handle_frame(data["type"], frame)
        except FrameError as error:
            await self.send_error(error)
        except Exception as exc:
            # Nothing a client sends may crash the socket. A database outage is
            # expected (retry later); anything else is a bug, logged in full.
            if isinstance(exc, DatabaseError):
                logger.warning("database unavailable while handling a frame: %s", exc)
            else:
                logger.exception("unexpected error while handling a frame")
            client_id = _client_id_of(text_data or "")
            await self.send_error(
                FrameError(
                    ErrorCode.UNAVAILABLE,
                    _("The server cannot store messages right now. It will be retried.")
                    if client_id is not None
                    else _("The server cannot answer right now. Please try again."),
                    client_id=client_id,
                )
            )

    def _checked(self, text_data: str | None) -> Any:
        """The frame's JSON, once it passed the checks that cost nothing."""
        if text_data is None:
            raise FrameError(ErrorCode.INVALID, _("Binary frames are not accepted."))
        if len(text_data) > settings.SOHBET_MAX_FRAME_BYTES:
            raise FrameError(ErrorCode.TOO_LONG, _("This frame is too large."))
        if not self.soft_limit.take():
            raise FrameError(
                ErrorCode.RATE_LIMITED,
                _("Too many messages at once. Please slow down."),
                client_id=_client_id_of(text_data),
            )
        return framing.load_frame(text_data)

    async def handle_frame(self, frame_type: str, frame: Any) -> None:
        await self.frame_handlers[frame_type](self, frame)

    @on("ping")
    async def on_ping_frame(self, frame: Any) -> None:
        await self.send_json({"type": "pong"})
        await self.on_ping()

    # --- Sending ------------------------------------------------------------------

    async def send_json(self, content: Any, close: bool = False) -> None:
        await self.send(text_data=framing.encode(content), close=close)

    async def send_error(self, error: FrameError) -> None:
        frame: dict[str, Any] = {
            "type": "error",
            "code": str(error.code),
            "detail": str(error.detail),  # a lazy one renders in the socket's language
        }
        if error.client_id:
            frame["client_id"] = error.client_id
        await self.send_json(frame)

    async def send_page(
        self,
        fields: dict[str, Any],
        key: str,
        items: list[Any],
        *,
        more: bool,
        newest: bool = False,
    ) -> None:
        """A frame of ``fields`` with as many ``items`` under ``key`` as fit
        (``realtime.framing``: the first ones, or the last with ``newest``), and
        ``has_more`` when some were left out, or ``more`` exist beyond them."""
        fields = {**fields, "has_more": False}
        fitting = framing.fitting(items, room=framing.room(fields, key), newest=newest)
        fields["has_more"] = more or len(fitting) < len(items)
        await self.send(text_data=framing.list_frame(fields, key, fitting))

    async def send_all(
        self, fields: dict[str, Any], key: str, items: list[Any]
    ) -> None:
        """``items`` under ``key`` in as many frames of ``fields`` as they need."""
        for page in framing.pages(items, room=framing.room(fields, key)):
            await self.send(text_data=framing.list_frame(fields, key, page))


def language_of(scope: dict[str, Any]) -> str:
    """The socket's language: the language cookie, else Accept-Language."""
    from django.utils.translation.trans_real import (
        get_supported_language_variant,
        parse_accept_lang_header,
    )

    headers = dict(scope.get("headers", []))
    cookies = scope.get("cookies") or {}
    cookie_lang = (
        cookies.get(settings.LANGUAGE_COOKIE_NAME)
        if isinstance(cookies, dict)
        else None
    )
    candidates = [cookie_lang] if cookie_lang else []
    accept = headers.get(b"accept-language", b"").decode("latin1")
    candidates += [lang for lang, _q in parse_accept_lang_header(accept)]
    for lang in candidates:
        try:
            return get_supported_language_variant(lang)
        except LookupError:
            continue
    return str(settings.LANGUAGE_CODE)


def _client_id_of(text: str) -> str | None:
    """The ``client_id`` of a frame, for an error about a ``message.send``."""
    try:
        data = framing.load_frame(text)
    except FrameError:
        return None
    if isinstance(data, dict) and isinstance(data.get("client_id"), str):
        return data["client_id"][:64]
    return None
