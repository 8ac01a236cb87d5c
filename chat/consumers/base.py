"""What visitor and operator sockets share: posting and its ack, pages of messages,
live messages, receipts and typing, presence on ping, the limits told in ``hello``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.conf import settings

from chat import events, frames, presence, services
from chat.exceptions import ChatError
from chat.models import Message
from chat.rules import NewMessage, Posted
from chat.uploads import ACCEPTED_CONTENT_TYPES
from realtime.consumer import SocketConsumer, on
from realtime.errors import FrameError
from realtime.ratelimit import Rule


class ChatConsumer(SocketConsumer):
    is_operator = False
    presence_key = ""  # this socket's entry in chat.presence
    sender_key = ""  # whose messages count together against SOHBET_SEND_RATE
    batch_messages = False  # the client asked for batches as one frame (options)
    _typing_thread: int | None = None

    @cached_property
    def send_limit(self) -> Rule:
        return Rule.parse(settings.SOHBET_SEND_RATE or settings.SOHBET_WS_RATE)

    def parse_frame(self, data: Any) -> Any:
        return frames.parse_frame(data, operator=self.is_operator)

    async def on_ping(self) -> None:
        if self.presence_key:
            presence.keep(self.presence_key, self.connection_id)
        await super().on_ping()

    @on("options")
    async def on_options(self, frame: frames.Options) -> None:
        self.batch_messages = frame.batch_messages
        await self.send_json(
            {"type": "options", "batch_messages": frame.batch_messages}
        )

    async def send_error(self, error: FrameError) -> None:
        frame_type = getattr(error, "frame", None)
        if frame_type is None:
            await super().send_error(error)
            return
        await self.send_json(
            {
                "type": "error",
                "code": str(error.code),
                "detail": str(error.detail),
                "frame": frame_type,  # what it refuses (chat.context.ContextError)
            }
        )

    # --- Posting ------------------------------------------------------------------

    async def post(
        self, post: NewMessage, more_limits: Sequence[tuple[str, Rule]] = ()
    ) -> bool:
        """Post through the writer, counted against the sender's limit (and
        ``more_limits``) across their sockets and every process; answer with the ack
        or the refusal. Whether it was stored."""
        outcome = await services.apost_message(
            post, limit=(self.sender_key, self.send_limit), more=more_limits
        )
        if isinstance(outcome, ChatError):
            await self.send_error(outcome)
            return False
        await self.send_ack(outcome)
        return True

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
        holds (the oldest for ``sync``, the newest for ``history``)."""
        await self.send_page(
            {"type": frame_type, "thread": thread_id},
            "messages",
            [events.message_payload(message) for message in messages],
            more=has_more,
            newest=frame_type == "history",
        )

    # --- Events -------------------------------------------------------------------

    async def chat_messages(self, event: dict[str, Any]) -> None:
        await self.send_live(event["messages"])

    async def send_live(self, payloads: list[dict[str, Any]]) -> None:
        """Live messages, in order: those committed together as ``messages`` frames
        when the client asked for it (an inbox under a burst renders once per
        batch), else a ``message`` frame each."""
        if self.batch_messages and len(payloads) > 1:
            await self.send_all({"type": "messages"}, "messages", payloads)
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


def limits() -> dict[str, Any]:
    """What this server accepts and sends (``hello.limits``, docs/protocol.md)."""
    frame_rate = Rule.parse(settings.SOHBET_WS_RATE)
    send_rate = Rule.parse(settings.SOHBET_SEND_RATE or settings.SOHBET_WS_RATE)
    return {
        "max_body": settings.SOHBET_MAX_BODY,
        "max_frame_bytes": settings.SOHBET_MAX_FRAME_BYTES,
        "max_server_frame_bytes": settings.SOHBET_MAX_SERVER_FRAME_BYTES,
        "max_upload": settings.SOHBET_MAX_UPLOAD_BYTES,
        "upload_types": ACCEPTED_CONTENT_TYPES,
        # What the pages pace themselves under (docs/protocol.md, "Limits").
        "frame_rate": {"count": frame_rate.count, "seconds": frame_rate.seconds},
        "send_rate": {"count": send_rate.count, "seconds": send_rate.seconds},
    }
