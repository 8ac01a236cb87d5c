"""WebSocket consumers: thin adapters between frames and services.

Each frame is parsed by ``chat.frames``, checked against the connection's rate limit,
and handed to one service (or selector); the answer goes back on the socket. Refusals
accept first and then close with the protocol's code, so the browser sees it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from accounts import sessions as operator_sessions
from accounts.selectors import is_operator_session_current, is_second_factor_satisfied
from chat import events, frames, presence, selectors, services
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message, Thread
from chat.services import NewMessage, Posted
from chat.uploads import ACCEPTED_CONTENT_TYPES
from realtime import framing, hub, socket_limits
from realtime.ratelimit import Rule, TokenBucket
from realtime.writer import get_writer

logger = logging.getLogger(__name__)

CLOSE_NO_IDENTITY = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOOD = 4429
# Reconnect with back-off: a service this socket needs was unreachable. (Not RFC 6455's
# 1013: Daphne's WebSocket library only lets an application send 1000 or 3000-4999.)
CLOSE_TRY_AGAIN = 4503
# The socket's rights changed (password, staff flag, sessions ended...): reconnect at
# once; the new socket is checked again and refused (4401) if they are gone.
CLOSE_RECHECK = 4001

# What the layer raises when its server (Redis) cannot be reached.
LAYER_ERRORS = (RedisError, OSError)
# What the server raises on a send to a socket that is closing: an OSError, as the
# ASGI spec asks; Daphne's WebSocket library raises its own.
CLIENT_GONE = (OSError, Disconnected)

VISITOR_SESSION_KEY = "sohbet_visitor_id"
# What an operator does (rather than their page by itself): keeps their session alive.
OPERATOR_ACTIONS = (
    frames.SendMessage,
    frames.Typing,
    frames.Read,
    frames.ThreadAction,
    frames.ThreadAssign,
)

# The inbox's list asks for many threads' presence at once: off the database thread.
cache_call = sync_to_async(thread_sensitive=False)
# The sockets' database work (connecting, pages, read marks, thread actions) runs on
# threads of its own, several at once, not on Channels' one shared thread: a slow
# query holds up its own socket, not every socket of the process.
_db_threads = ThreadPoolExecutor(
    settings.SOHBET_DB_THREADS, thread_name_prefix="sohbet-db"
)


class _DatabaseCall(DatabaseSyncToAsync):
    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            # The pooled connection goes back after each call, whatever the
            # connection's age settings say: a thread keeps none between calls.
            connections.close_all()


def db_call(function: Callable[..., Any]) -> Any:
    """``database_sync_to_async`` on the sockets' database threads."""
    return _DatabaseCall(function, thread_sensitive=False, executor=_db_threads)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """What visitor and operator sockets share: framing, limits, errors, presence."""

    is_operator = False
    has_channel = False  # a channel of its own in the layer (else: the hub only)
    connection_id: str
    presence_key: str = ""
    sender_key: str = ""  # whose messages count together (realtime.writer)
    without_layer = False
    # The client asked for live messages committed together in one frame (options).
    batch_messages = False
    socket_claim: socket_limits.Claim | None = None  # this socket in the caps
    _typing_thread: int | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Channels' own loop (``await_many_dispatch``) waits on the client and the
        # layer with asyncio.wait and a new task per frame and per event. Here one
        # inbox takes the client's frames, the hub's events (visitor sockets have no
        # channel of their own, see realtime.hub) and, for operators, the layer's, and
        # everything is dispatched in order, one at a time, as Channels does.
        self.scope = scope
        self._client_send = send
        self.channel_layer = None
        self._hub: hub.Hub | None = None  # the hub this socket joined groups of
        self._hub_groups: list[str] = []
        source = getattr(receive, "__self__", None)
        pumps: list[asyncio.Task[None]] = []
        if isinstance(source, hub.Inbox):
            # The server (chatsite.server) gave the socket an Inbox to receive
            # from: the client's frames arrive in it with no task to move them
            # (≈ 1 KiB of each idle socket).
            self.inbox = source
        else:  # another server, or a test's communicator
            self.inbox = hub.Inbox()
            pumps.append(asyncio.create_task(self._pump(receive)))
        try:
            if self.has_channel:
                await self._open_channel(pumps)
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
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._leave_hub()
            socket_limits.release(self.socket_claim)

    async def base_send(self, message: dict[str, Any]) -> None:
        """What Channels' ``send`` calls for every frame (an instance attribute in
        Channels' consumers; a method here)."""
        try:
            await self._client_send(message)
        except CLIENT_GONE as exc:
            # The client began to close while this was on its way: it is for a
            # client that left. Its disconnect comes next, and with it the clean-up
            # (presence, typing) that an exception here would have skipped.
            logger.debug("send to a closing socket dropped: %s", exc)

    async def _pump(self, source: Any) -> None:
        """Move what ``source`` gives into the inbox; its error too, to be raised by
        the dispatching loop."""
        try:
            while True:
                self.inbox.put_nowait(await source())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.inbox.put_nowait(exc)

    async def _open_channel(self, pumps: list[asyncio.Task[None]]) -> None:
        """A channel of this socket's own in the layer (operators)."""
        layer = get_channel_layer(self.channel_layer_alias)
        if layer is None:
            return
        try:
            self.channel_name = await layer.new_channel()
        except LAYER_ERRORS as exc:
            # The layer (Redis) could not give this socket its channel. Serve it
            # without live delivery rather than fail the handshake: it still stores,
            # acks and syncs through the database, and is closed (4503) on a ping
            # once the layer is back, so that the client reconnects to live delivery.
            logger.warning("socket opened without live delivery: %s", exc)
            self.without_layer = True
            return
        self.channel_layer = layer
        receive = functools.partial(layer.receive, self.channel_name)
        pumps.append(asyncio.create_task(self._pump(receive)))

    async def connect(self) -> None:
        self.connection_id = uuid.uuid4().hex
        self.soft_limit = TokenBucket(Rule.parse(settings.SOHBET_WS_RATE))
        self.hard_limit = TokenBucket(Rule.parse(settings.SOHBET_WS_FLOOD))
        self.send_limit = Rule.parse(
            settings.SOHBET_SEND_RATE or settings.SOHBET_WS_RATE
        )
        self.language = _language_from_scope(self.scope)
        # Everything this socket's task renders from now on (its frames, errors and
        # events) is in the socket's language: activated once in the task's own
        # context rather than overridden around every frame (≈ 10 µs per frame).
        translation.activate(self.language)
        await self.accept()
        self.socket_claim = socket_limits.claim(self.scope)
        if self.socket_claim is None:
            await self.send_error(
                ChatError(
                    ErrorCode.RATE_LIMITED,
                    _("Too many open connections. Close some tabs and try again."),
                )
            )
            await self.close(code=CLOSE_FLOOD)
            return
        await self.start()

    async def start(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first hops to the shared sync thread to close stale
        # database connections, for every frame and every channel-layer event: that
        # serialised the whole process behind one thread. The ORM is only used
        # through db_call here, which already does that cleanup
        # around each call.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # As Channels' own, without the same extra hop (see dispatch).
        await self.leave(*self.groups)
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def refuse(self, code: int) -> None:
        await self.close(code=code)

    async def join(self, *groups: str) -> None:
        """Subscribe to live delivery: visitor-bound groups through the process's hub
        (realtime.hub), the others through this socket's channel. A socket that cannot
        (the layer is down) works without it until a ping finds the layer back."""
        for group in groups:
            try:
                if events.is_hub_group(group):
                    the_hub = self._hub or hub.get_hub(self.channel_layer_alias)
                    if the_hub is not None:
                        await the_hub.join(group, self.inbox)
                        self._hub = the_hub
                        if group not in self._hub_groups:
                            self._hub_groups.append(group)
                elif self.channel_layer is not None:
                    await self.channel_layer.group_add(group, self.channel_name)
            except LAYER_ERRORS as exc:
                logger.warning("socket without live delivery: %s", exc)
                self.without_layer = True

    async def leave(self, *groups: str) -> None:
        """Best effort: the socket is going away, a layer outage must not stop the
        rest of its clean-up (presence, typing)."""
        for group in groups:
            if group in self._hub_groups:
                self._leave_hub(group)
                continue
            if self.channel_layer is None:
                continue
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except LAYER_ERRORS as exc:
                logger.warning("leaving group %s failed: %s", group, exc)

    def _leave_hub(self, *groups: str) -> None:
        if self._hub is None:
            return
        for group in groups or tuple(self._hub_groups):
            if group in self._hub_groups:
                self._hub_groups.remove(group)
            self._hub.leave(group, self.inbox)

    # --- Receiving ------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if not getattr(self, "ready", False):
            return
        if not self.hard_limit.take():
            await self.close(code=CLOSE_FLOOD)
            return
        if text_data is None:
            await self.send_error(
                ChatError(ErrorCode.INVALID, _("Binary frames are not accepted."))
            )
            return
        if len(text_data) > settings.SOHBET_MAX_FRAME_BYTES:
            await self.send_error(
                ChatError(ErrorCode.TOO_LONG, _("This frame is too large."))
            )
            return
        if not self.soft_limit.take():
            await self.send_error(
                ChatError(
                    ErrorCode.RATE_LIMITED,
                    _("Too many messages at once. Please slow down."),
                ),
                client_id=_client_id_of(text_data),
            )
            return
        try:
            data = frames.load_frame(text_data)
        except ChatError as error:
            await self.send_error(error)
            return
        try:
            frame = frames.parse_frame(data, operator=self.is_operator)
            await self.dispatch_frame(frame)
        except ChatError as error:
            await self.send_error(error)
        except Exception as exc:
            # Nothing a client sends may crash the consumer. A database outage is
            # expected (retry later); anything else is a bug, logged in full.
            if isinstance(exc, DatabaseError):
                logger.warning("database unavailable while handling a frame: %s", exc)
            else:
                logger.exception("unexpected error while handling a frame")
            client_id = _client_id_of(text_data)
            await self.send_error(
                ChatError(
                    ErrorCode.UNAVAILABLE,
                    _("The server cannot store messages right now. It will be retried.")
                    if client_id is not None
                    else _("The server cannot answer right now. Please try again."),
                ),
                client_id=client_id,
            )

    async def dispatch_frame(self, frame: frames.Frame) -> None:
        if isinstance(frame, frames.Ping):
            await self.send_json({"type": "pong"})
            await self.on_ping()
            return
        handler = getattr(self, "_on_" + type(frame).__name__.lower())
        await handler(frame)

    async def _on_options(self, frame: frames.Options) -> None:
        self.batch_messages = frame.batch_messages
        await self.send_json(
            {"type": "options", "batch_messages": frame.batch_messages}
        )

    async def on_ping(self) -> None:
        if self.presence_key:
            await presence.atouch(self.presence_key, self.connection_id)
        if self.without_layer and await events.is_layer_available():
            await self.close(code=CLOSE_TRY_AGAIN)

    async def send_error(self, error: ChatError, client_id: str | None = None) -> None:
        frame: dict[str, Any] = {
            "type": "error",
            "code": str(error.code),
            "detail": str(error.detail),  # a lazy one in this socket's language
        }
        if error.client_id or client_id:
            frame["client_id"] = error.client_id or client_id
        await self.send_json(frame)

    async def send_json(self, content: Any, close: bool = False) -> None:
        await self.send(text_data=framing.encode(content), close=close)

    async def post(self, post: NewMessage) -> None:
        # Counted per sender, across their sockets and the web processes (the frame
        # limits above count one connection only), by the writer with its batch.
        outcome = await get_writer().post(post, (self.sender_key, self.send_limit))
        if isinstance(outcome, ChatError):
            await self.send_error(outcome)
            return
        await self.send_ack(outcome)

    async def send_ack(self, posted: Posted) -> None:
        message = posted.message
        await self.send_json(
            {
                "type": "ack",
                "client_id": str(message.client_id),
                "id": message.pk,
                "seq": message.seq,
                "created": events.iso(message.created_at),
                "thread": message.thread_id,
            }
        )

    async def send_messages(
        self, frame_type: str, thread_id: int, messages: list[Message], has_more: bool
    ) -> None:
        """A ``sync`` or ``history`` answer: as many of ``messages`` as one frame
        holds (the oldest for ``sync``, the newest for ``history``), with
        ``has_more`` when some were left for the next page."""
        fields = {"type": frame_type, "thread": thread_id, "has_more": False}
        items = framing.fitting(
            [events.message_payload(m) for m in messages],
            room=framing.room(fields, "messages"),
            newest=frame_type == "history",
        )
        fields["has_more"] = has_more or len(items) < len(messages)
        await self.send(text_data=framing.list_frame(fields, "messages", items))

    # --- Channel-layer events -----------------------------------------------------

    async def chat_messages(self, event: dict[str, Any]) -> None:
        await self.send_live(event["messages"])

    async def send_live(self, payloads: list[dict[str, Any]]) -> None:
        """Live messages, in order: one ``messages`` frame for those committed
        together when the client asked for it (an inbox under a burst gets one frame
        per batch instead of one per message), else a ``message`` frame each."""
        if self.batch_messages and len(payloads) > 1:
            fields = {"type": "messages"}
            for items in framing.pages(payloads, room=framing.room(fields, "messages")):
                await self.send(text_data=framing.list_frame(fields, "messages", items))
            return
        for payload in payloads:
            await self.send_json({"type": "message", "message": payload})

    async def chat_read(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "read",
                "thread": event["thread"],
                "by": event["by"],
                "up_to": event["up_to"],
            }
        )

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event.get("origin") == self.connection_id:
            return
        await self.send_json(
            {
                "type": "typing",
                "thread": event["thread"],
                "author": event["author"],
                "active": event["active"],
                "name": event.get("name", ""),
            }
        )


class VisitorConsumer(ChatConsumer):
    """``/ws/chat/``: a visitor, identified by the session cookie of the chat page."""

    visitor_id: int
    thread_id: int
    status: str  # the thread's, as this socket last told its client
    # The highest seq this socket was sent live, and the messages it echoed to its
    # sender itself (see send_ack), which the hub's copy must not repeat.
    last_live_seq = 0
    ECHOED_KEPT = 256

    async def start(self) -> None:
        session = self.scope.get("session")
        if session is None or not session.session_key:
            await self.refuse(CLOSE_NO_IDENTITY)
            return
        try:
            hello = await db_call(self._load_or_start)(session)
        except DatabaseError as exc:
            logger.warning("visitor refused, database unavailable: %s", exc)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        if hello is None:
            await self.refuse(CLOSE_NO_IDENTITY)
            return
        self.ready = True
        self.sender_key = f"send:visitor:{self.visitor_id}"
        await self.join(events.thread_group(self.thread_id), events.VISITORS_GROUP)
        self.presence_key = presence.visitor_key(self.thread_id)
        was_online, _now = await presence.atouch(self.presence_key, self.connection_id)
        hello["operators_online"] = await presence.ais_online(presence.OPERATORS)
        await self.send_json(hello)
        if not was_online:
            await events.broadcast_now(
                events.OPERATORS_GROUP,
                {
                    "type": events.PRESENCE,
                    "thread": self.thread_id,
                    "visitor_online": True,
                },
            )

    def _load_or_start(self, session: Any) -> dict[str, Any] | None:
        """The hello for this session's visitor; None when the cookie names no
        session (unknown, expired, or a key since rotated)."""
        visitor_id = session.get(VISITOR_SESSION_KEY)  # loads the session
        if not session.session_key:
            return None
        headers = dict(self.scope.get("headers", []))
        page = headers.get(b"referer", b"").decode("latin1")
        visitor = selectors.get_visitor_for_session(
            visitor_id=visitor_id, session_key=session.session_key
        )
        thread = (
            selectors.get_visitor_thread(visitor_id=visitor.pk) if visitor else None
        )
        if visitor is None or thread is None:
            visitor, thread = services.start_visitor(
                session_key=session.session_key,
                visitor_id=visitor.pk if visitor else None,
                locale=self.language,
                user_agent=headers.get(b"user-agent", b"").decode("latin1"),
                page=page,
            )
            session[VISITOR_SESSION_KEY] = visitor.pk
            session.save()
        else:
            services.touch_visitor(visitor_id=visitor.pk, page=page)
        self.visitor_id = visitor.pk
        self.thread_id = thread.pk
        self.status = thread.status
        self.last_live_seq = thread.last_seq
        self.visitor_name = visitor.name
        return {
            "type": "hello",
            "role": "visitor",
            "visitor": {"id": visitor.pk, "name": visitor.name},
            "thread": {
                "id": thread.pk,
                "status": thread.status,
                "last_seq": thread.last_seq,
                "operator_read_up_to": thread.operator_read_up_to,
                "operator_delivered_up_to": thread.operator_delivered_up_to,
            },
            "limits": _limits(),
        }

    async def disconnect(self, code: int) -> None:
        if not getattr(self, "ready", False):
            return
        await self.leave(events.thread_group(self.thread_id), events.VISITORS_GROUP)
        if self._typing_thread is not None:
            await self._broadcast_typing(False)
        _was, now_online = await presence.aleave(self.presence_key, self.connection_id)
        if not now_online:
            await events.broadcast_now(
                events.OPERATORS_GROUP,
                {
                    "type": events.PRESENCE,
                    "thread": self.thread_id,
                    "visitor_online": False,
                },
            )

    # --- Frames -------------------------------------------------------------------

    async def _on_sendmessage(self, frame: frames.SendMessage) -> None:
        await self.post(
            NewMessage(
                thread_id=self.thread_id,
                client_id=frame.client_id,
                body=frame.body,
                attachment_id=frame.attachment,
                author=Message.Author.VISITOR,
                author_name=self.visitor_name,
            )
        )
        if self._typing_thread is not None:
            self._typing_thread = None  # the message itself ends the typing indicator

    async def _on_typing(self, frame: frames.Typing) -> None:
        await self._broadcast_typing(frame.active)

    async def _broadcast_typing(self, active: bool) -> None:
        self._typing_thread = self.thread_id if active else None
        await events.broadcast_now(
            events.OPERATORS_GROUP,
            {
                "type": events.TYPING,
                "thread": self.thread_id,
                "author": "visitor",
                "active": active,
                "name": self.visitor_name,
            },
        )

    async def _on_read(self, frame: frames.Read) -> None:
        await run_service(
            services.mark_read,
            thread_id=self.thread_id,
            by="visitor",
            up_to=frame.up_to,
        )

    async def _on_sync(self, frame: frames.Sync) -> None:
        messages, has_more = await db_call(selectors.list_messages_after)(
            thread_id=self.thread_id, after_seq=frame.after
        )
        await self.send_messages("sync", self.thread_id, messages, has_more)

    async def _on_history(self, frame: frames.History) -> None:
        messages, has_more = await db_call(selectors.list_messages_before)(
            thread_id=self.thread_id, before_id=frame.before, limit=frame.limit
        )
        await self.send_messages("history", self.thread_id, messages, has_more)

    async def _on_visitorupdate(self, frame: frames.VisitorUpdate) -> None:
        await run_service(
            services.rename_visitor, visitor_id=self.visitor_id, name=frame.name
        )
        self.visitor_name = frame.name

    # --- Events -------------------------------------------------------------------

    async def send_ack(self, posted: Posted) -> None:
        """The ack, then at once the sender's own copy of its new message, when
        nothing before it in the thread is still on its way to this socket: both
        frames leave in one write, and the copy does not wait for the round trip
        through the channel layer. The hub's copy of it is then dropped (by the
        hub, or here if it came first), so every socket still gets each message
        once, in order."""
        await super().send_ack(posted)
        message = posted.message
        if not posted.created or message.seq != self.last_live_seq + 1:
            return
        self.last_live_seq = message.seq
        echoed = self.inbox.echoed  # the hub drops its copy (realtime.hub.Inbox)
        echoed[message.pk] = None
        if len(echoed) > self.ECHOED_KEPT:  # copies the layer lost
            del echoed[next(iter(echoed))]
        await self.send_json(
            {"type": "message", "message": events.message_payload(message)}
        )

    async def chat_messages(self, event: dict[str, Any]) -> None:
        # The hub's copy may have come before this socket sent its own (send_ack).
        live = self.inbox.not_echoed(
            [m for m in event["messages"] if m["thread"] == self.thread_id]
        )
        for payload in live:
            self.last_live_seq = max(self.last_live_seq, payload["seq"])
        await self.send_live(live)

    async def chat_delivered(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "delivered", "thread": event["thread"], "up_to": event["up_to"]}
        )

    async def chat_presence(self, event: dict[str, Any]) -> None:
        if "operators_online" in event:
            await self.send_json(
                {"type": "presence", "operators_online": event["operators_online"]}
            )

    async def chat_thread(self, event: dict[str, Any]) -> None:
        await self.chat_threads({"threads": [event["thread"]]})

    async def chat_threads(self, event: dict[str, Any]) -> None:
        # The thread group hears every change of the thread; its visitor sees only
        # what they may (events.visitor_thread_payload), when the status changed.
        for payload in event["threads"]:
            if payload["id"] != self.thread_id or payload["status"] == self.status:
                continue
            self.status = payload["status"]
            await self.send_json(
                {
                    "type": "thread",
                    "thread": {"id": self.thread_id, "status": self.status},
                }
            )

    async def session_rotated(self, event: dict[str, Any]) -> None:
        # The browser's session has a new key: a socket opened with the old one
        # reconnects with the new cookie (or, if it was not that browser, fails).
        session = self.scope.get("session")
        key = getattr(session, "session_key", None) or ""
        if event.get("session") == events.session_group(key):
            await self.close(code=CLOSE_RECHECK)


class OperatorConsumer(ChatConsumer):
    """``/ws/operator/``: a logged-in, active staff user."""

    is_operator = True
    has_channel = True
    _activity_noted_at = float("-inf")

    async def start(self) -> None:
        user = self.scope.get("user")
        session = self.scope.get("session")
        if (
            user is None
            or not user.is_authenticated
            or not user.is_active
            or not user.is_staff
        ):
            await self.refuse(CLOSE_NO_IDENTITY)
            return
        satisfied = session is not None and await db_call(is_second_factor_satisfied)(
            user=user, session=session
        )
        if not satisfied:  # password given, Telegram code not yet
            await self.refuse(CLOSE_NO_IDENTITY)
            return
        self.user = user
        self.ready = True
        self.sender_key = f"send:operator:{user.pk}"
        await self.join(events.OPERATORS_GROUP, events.operator_group(user.pk))
        if session is not None and session.session_key:
            self.session_group = events.session_group(session.session_key)
            await self.join(self.session_group)
        self.presence_key = presence.OPERATORS
        was_online, _now = await presence.atouch(self.presence_key, self.connection_id)
        await self.send_json(
            {
                "type": "hello",
                "role": "operator",
                "operator": {"id": user.pk, "name": user.display_name},
                "limits": _limits(),
            }
        )
        if not was_online:
            await events.broadcast_now(
                events.VISITORS_GROUP,
                {"type": events.PRESENCE, "operators_online": True},
            )

    async def disconnect(self, code: int) -> None:
        if not getattr(self, "ready", False):
            return
        await self.leave(events.OPERATORS_GROUP, events.operator_group(self.user.pk))
        if getattr(self, "session_group", None):
            await self.leave(self.session_group)
        if self._typing_thread is not None:
            await self._broadcast_typing(self._typing_thread, False)
        _was, now_online = await presence.aleave(self.presence_key, self.connection_id)
        if not now_online:
            await events.broadcast_now(
                events.VISITORS_GROUP,
                {"type": events.PRESENCE, "operators_online": False},
            )

    async def dispatch_frame(self, frame: frames.Frame) -> None:
        if isinstance(frame, OPERATOR_ACTIONS):
            await self._note_activity()
        await super().dispatch_frame(frame)

    async def _note_activity(self) -> None:
        """The operator is at work: their session's idle deadline moves on
        (accounts.sessions), checked at most once a minute per socket."""
        now = time.monotonic()
        if now - self._activity_noted_at < operator_sessions.PUSH_EVERY_SECONDS:
            return
        self._activity_noted_at = now
        key = getattr(self.scope.get("session"), "session_key", None)
        if key:
            await db_call(operator_sessions.note_socket_activity)(session_key=key)

    async def _thread(self, thread_id: int | None) -> Thread:
        if thread_id is None:  # frames.parse_frame requires it for operators
            raise ChatError(ErrorCode.INVALID, _("“thread” is required."))
        return await db_call(selectors.get_thread_for_operator)(thread_id=thread_id)

    # --- Frames -------------------------------------------------------------------

    async def _on_sendmessage(self, frame: frames.SendMessage) -> None:
        if frame.thread is None:  # frames.parse_frame requires it for operators
            raise ChatError(ErrorCode.INVALID, _("“thread” is required."))
        # Operators may write to any thread; post_messages answers not_found (with
        # the client_id) for one that does not exist, without an extra query here.
        await self.post(
            NewMessage(
                thread_id=frame.thread,
                client_id=frame.client_id,
                body=frame.body,
                attachment_id=frame.attachment,
                author=Message.Author.OPERATOR,
                operator_id=self.user.pk,
                author_name=self.user.display_name,
            )
        )
        self._typing_thread = None

    async def _on_typing(self, frame: frames.Typing) -> None:
        thread = await self._thread(frame.thread)
        await self._broadcast_typing(thread.pk, frame.active)

    async def _broadcast_typing(self, thread_id: int, active: bool) -> None:
        self._typing_thread = thread_id if active else None
        event = {
            "type": events.TYPING,
            "thread": thread_id,
            "author": "operator",
            "active": active,
            "name": self.user.display_name,
            "origin": self.connection_id,
        }
        await events.broadcast_now(events.thread_group(thread_id), event)
        await events.broadcast_now(events.OPERATORS_GROUP, event)

    async def _on_read(self, frame: frames.Read) -> None:
        thread = await self._thread(frame.thread)
        await run_service(
            services.mark_read, thread_id=thread.pk, by="operator", up_to=frame.up_to
        )

    async def _on_delivered(self, frame: frames.Delivered) -> None:
        thread = await self._thread(frame.thread)
        await run_service(
            services.mark_delivered, thread_id=thread.pk, up_to=frame.up_to
        )

    async def _on_sync(self, frame: frames.Sync) -> None:
        thread = await self._thread(frame.thread)
        await self._send_thread(thread)
        messages, has_more = await db_call(selectors.list_messages_after)(
            thread_id=thread.pk, after_seq=frame.after
        )
        await self.send_messages("sync", thread.pk, messages, has_more)

    async def _on_history(self, frame: frames.History) -> None:
        thread = await self._thread(frame.thread)
        await self._send_thread(thread)
        messages, has_more = await db_call(selectors.list_messages_before)(
            thread_id=thread.pk, before_id=frame.before, limit=frame.limit
        )
        await self.send_messages("history", thread.pk, messages, has_more)

    async def _on_threadaction(self, frame: frames.ThreadAction) -> None:
        service = (
            services.close_thread if frame.action == "close" else services.reopen_thread
        )
        await run_service(service, thread_id=frame.thread, by=self.user)

    async def _on_threadassign(self, frame: frames.ThreadAssign) -> None:
        await run_service(
            services.assign_thread, thread_id=frame.thread, operator_id=frame.operator
        )

    async def _on_threadlist(self, frame: frames.ThreadList) -> None:
        threads, has_more = await db_call(selectors.list_threads_for_operator)(
            status=frame.status, q=frame.q, before=frame.before, limit=frame.limit
        )
        online = await cache_call(presence.online_threads)([t.pk for t in threads])
        fields = {"type": "threads", "has_more": False}
        items = framing.fitting(
            [events.thread_payload(t, visitor_online=t.pk in online) for t in threads],
            room=framing.room(fields, "threads"),
        )
        fields["has_more"] = has_more or len(items) < len(threads)
        await self.send(text_data=framing.list_frame(fields, "threads", items))

    async def _send_thread(self, thread: Thread) -> None:
        """The thread's current state, so an inbox opening any thread (even one not
        in its list) can show its header."""
        online = await presence.ais_online(presence.visitor_key(thread.pk))
        payload = events.thread_payload(thread, visitor_online=online)
        await self.send_json({"type": "thread", "thread": payload})

    # --- Events -------------------------------------------------------------------

    async def chat_thread(self, event: dict[str, Any]) -> None:
        await self.chat_threads({"threads": [event["thread"]]})

    async def chat_threads(self, event: dict[str, Any]) -> None:
        # The payloads carry the visitor's presence, read once where they were made.
        for payload in event["threads"]:
            await self.send_json({"type": "thread", "thread": payload})

    async def chat_presence(self, event: dict[str, Any]) -> None:
        if "thread" in event:
            await self.send_json(
                {
                    "type": "presence",
                    "thread": event["thread"],
                    "visitor_online": event["visitor_online"],
                }
            )

    async def chat_delivered(self, event: dict[str, Any]) -> None:
        pass  # visitors only

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_FORBIDDEN)

    async def rights_changed(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_RECHECK)

    async def on_ping(self) -> None:
        # What the events above may miss (rights changed by a bulk update, the
        # session expired or deleted in the database) is found on the next ping.
        await super().on_ping()
        session = self.scope.get("session")
        if not await db_call(is_operator_session_current)(
            session_key=getattr(session, "session_key", None), user_id=self.user.pk
        ):
            await self.close(code=CLOSE_RECHECK)


async def run_service(service: Any, **kwargs: Any) -> Any:
    """Run a service in the database thread, then send the events it committed.

    Used for the less frequent writes (read marks, thread actions); the hot path
    (posting) goes through ``realtime.writer`` instead.
    """
    result, sent = await db_call(events.call_collecting)(service, **kwargs)
    await events.send_events(sent)
    return result


def _client_id_of(text: str) -> str | None:
    try:
        data = frames.load_frame(text)
    except ChatError:
        return None
    if isinstance(data, dict) and isinstance(data.get("client_id"), str):
        return data["client_id"][:64]
    return None


def _language_from_scope(scope: dict[str, Any]) -> str:
    from django.utils.translation.trans_real import (
        get_supported_language_variant,
        parse_accept_lang_header,
    )

    headers = dict(scope.get("headers", []))
    cookie_lang = None
    cookies = scope.get("cookies") or {}
    if isinstance(cookies, dict):
        cookie_lang = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    candidates = [cookie_lang] if cookie_lang else []
    accept = headers.get(b"accept-language", b"").decode("latin1")
    candidates += [lang for lang, _q in parse_accept_lang_header(accept)]
    for lang in candidates:
        try:
            return get_supported_language_variant(lang)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _limits() -> dict[str, Any]:
    frames = Rule.parse(settings.SOHBET_WS_RATE)
    sends = Rule.parse(settings.SOHBET_SEND_RATE or settings.SOHBET_WS_RATE)
    return {
        "max_body": settings.SOHBET_MAX_BODY,
        "max_frame_bytes": settings.SOHBET_MAX_FRAME_BYTES,
        "max_server_frame_bytes": settings.SOHBET_MAX_SERVER_FRAME_BYTES,
        "max_upload": settings.SOHBET_MAX_UPLOAD_BYTES,
        "upload_types": ACCEPTED_CONTENT_TYPES,
        # What the pages pace themselves under (docs/protocol.md, "Limits").
        "frame_rate": {"count": frames.count, "seconds": frames.seconds},
        "send_rate": {"count": sends.count, "seconds": sends.seconds},
    }
