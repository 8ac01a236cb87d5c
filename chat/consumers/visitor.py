"""``/ws/chat/``: a visitor, identified by the session cookie of the chat page."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext as _

from chat import availability, events, frames, presence, safety, selectors, services
from chat.consumers.base import ChatConsumer, limits
from chat.consumers.context import VisitorContextMixin
from chat.consumers.safety import VisitorSafetyMixin, open_safety
from chat.context import country_of
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message
from chat.rules import NewConversation, NewMessage, Posted
from realtime import run_in_db, send_now
from realtime.clientip import get_scope_client_ip, rate_limit_key
from realtime.consumer import CLOSE_NO_IDENTITY, CLOSE_RECHECK, CLOSE_TRY_AGAIN, on
from realtime.ratelimit import Rule, ahit_many

logger = logging.getLogger(__name__)

# Transcripts asked for from one network (an IPv4 address, an IPv6 /64), whatever the
# visitors and addresses; one address gets SOHBET_EMAIL_TRANSCRIPTS_PER_HOUR.
TRANSCRIPTS_PER_NETWORK = Rule(10, 3600)


class VisitorConsumer(VisitorSafetyMixin, VisitorContextMixin, ChatConsumer):
    visitor_id: int
    visitor_name: str
    thread_id: int
    status: str  # the thread's, as this socket last told its client
    # While the conversation's rows are not written: they go with the next message.
    new_conversation: NewConversation | None = None
    # The highest seq this socket sent live, and the messages it echoed to its sender
    # itself (send_ack), whose copy from the hub must not repeat them.
    last_live_seq = 0
    ECHOED_KEPT = 256

    async def start(self) -> None:
        session = self.scope.get("session")
        if session is None or not session.session_key:
            await self.close(code=CLOSE_NO_IDENTITY)
            return
        try:
            opened = await run_in_db(self._open, session)
        except DatabaseError as exc:
            logger.warning("visitor refused, database unavailable: %s", exc)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        if opened is None:
            await self.close(code=CLOSE_NO_IDENTITY)
            return
        conversation, hours, (self.safety, rating) = opened
        # The socket's state is set here, on the loop, not on the database thread.
        self.visitor_id = conversation.visitor_id
        self.visitor_name = conversation.visitor_name
        self.new_conversation = conversation.new
        self.start_context(conversation.context, conversation.attributes)
        thread = conversation.thread
        self.thread_id = thread["id"]
        self.status = thread["status"]
        self.last_live_seq = thread["last_seq"]
        self.ready = True
        self.sender_key = f"send:visitor:{self.visitor_id}"
        await self.join(events.thread_group(self.thread_id), events.VISITORS_GROUP)
        self.presence_key = presence.visitor_key(self.thread_id)
        was_online, _now = await presence.atouch(self.presence_key, self.connection_id)
        await self.send_json(
            {
                "type": "hello",
                "role": "visitor",
                "visitor": {"id": self.visitor_id, "name": self.visitor_name},
                "thread": thread,
                "operators_online": await presence.ais_online(presence.OPERATORS),
                "hours": hours,
                "email": email_ask(
                    conversation.email, unsubscribed=conversation.email_unsubscribed
                ),
                "limits": limits(),
                "rating": rating,
            }
        )
        await safety.aremember_address(self.visitor_id, self.safety.address)
        if not was_online and self.new_conversation is None and not self.safety.blocked:
            await send_now(
                events.visitor_presence_event(thread=self.thread_id, online=True)
            )

    def _open(
        self, session: Any
    ) -> tuple[services.VisitorConversation, list[list[str]] | None, Any] | None:
        """This session's visitor and conversation (chat.services.open_conversation),
        the business hours ahead (chat.availability.hours_payload), and what blocks
        it and its rating (chat.consumers.safety.open_safety); None when the cookie
        names no session (unknown, expired, or its key rotated)."""
        session.get(services.VISITOR_SESSION_KEY)  # loads it: an unknown key is None
        if not session.session_key:
            return None
        headers = dict(self.scope.get("headers", []))
        conversation = services.open_conversation(
            session,
            locale=self.language,
            user_agent=headers.get(b"user-agent", b"").decode("latin1"),
            country=country_of(self.scope),
        )
        return (
            conversation,
            availability.hours_payload(),
            open_safety(
                session,
                visitor_id=conversation.visitor_id,
                thread=conversation.thread,
                address=get_scope_client_ip(self.scope),
            ),
        )

    async def disconnect(self, code: int) -> None:
        if not self.ready:
            return
        await self.close_context()
        if self._typing_thread is not None:
            await self._typing(False)
        _was, now_online = await presence.aleave(self.presence_key, self.connection_id)
        if not now_online and self.new_conversation is None:
            await send_now(
                events.visitor_presence_event(thread=self.thread_id, online=False)
            )

    async def on_ping(self) -> None:
        await super().on_ping()
        await self.note_seen()

    # --- Frames -------------------------------------------------------------------

    @on("message.send")
    async def on_message_send(self, frame: frames.SendMessage) -> None:
        start_limits, self.start_limits = self.start_limits, ()
        stored = await self.post(
            NewMessage(
                thread_id=self.thread_id,
                client_id=frame.client_id,
                body=frame.body,
                attachment_id=frame.attachment,
                author=Message.Author.VISITOR,
                author_name=self.visitor_name,
                conversation=self.new_conversation,
            ),
            start_limits,
        )
        if not stored and start_limits:
            self.start_refused()
        self._typing_thread = None  # the message itself ends the typing indicator

    @on("typing")
    async def on_typing(self, frame: frames.Typing) -> None:
        await self._typing(frame.active)

    async def _typing(self, active: bool) -> None:
        self._typing_thread = self.thread_id if active else None
        await send_now(
            events.typing_event(
                events.OPERATORS_GROUP,
                thread=self.thread_id,
                author="visitor",
                active=active,
                name=self.visitor_name,
            )
        )

    @on("read")
    async def on_read(self, frame: frames.Read) -> None:
        if self.new_conversation is not None:
            return  # nothing to read yet
        await run_in_db(
            services.mark_read,
            thread_id=self.thread_id,
            by="visitor",
            up_to=frame.up_to,
        )

    @on("sync")
    async def on_sync(self, frame: frames.Sync) -> None:
        messages, has_more = await run_in_db(
            selectors.list_messages_after,
            thread_id=self.thread_id,
            after_seq=frame.after,
        )
        await self.send_messages("sync", self.thread_id, messages, has_more)

    @on("history")
    async def on_history(self, frame: frames.History) -> None:
        messages, has_more = await run_in_db(
            selectors.list_messages_before,
            thread_id=self.thread_id,
            before_id=frame.before,
            limit=frame.limit,
        )
        await self.send_messages("history", self.thread_id, messages, has_more)

    @on("visitor.update")
    async def on_visitor_update(self, frame: frames.VisitorUpdate) -> None:
        await self._write_conversation()
        await run_in_db(
            services.rename_visitor, visitor_id=self.visitor_id, name=frame.name
        )
        self.visitor_name = frame.name

    @on("visitor.email")
    async def on_visitor_email(self, frame: frames.VisitorEmail) -> None:
        await self._write_conversation()
        try:
            await run_in_db(
                services.set_visitor_email,
                visitor_id=self.visitor_id,
                email=frame.email,
            )
        except ChatError as exc:
            await self.send_error(_about(exc, "visitor.email"))
            return
        await self.send_json({"type": "email", **email_ask(frame.email.strip())})

    @on("transcript.send")
    async def on_transcript_send(self, frame: frames.TranscriptSend) -> None:
        if self.new_conversation is not None:
            error = ChatError(ErrorCode.NOT_FOUND, _("There is nothing to send yet."))
            await self.send_error(_about(error, "transcript.send"))
            return
        network = rate_limit_key(get_scope_client_ip(self.scope))
        [allowed] = await ahit_many(
            [(f"transcript:{network}", TRANSCRIPTS_PER_NETWORK)]
        )
        if not allowed:  # many visitors' transcripts, to many addresses: a spammer
            error = ChatError(
                ErrorCode.RATE_LIMITED,
                _("Too many copies were asked for from here. Try again later."),
            )
            await self.send_error(_about(error, "transcript.send"))
            return
        try:
            await run_in_db(
                services.request_transcript,
                visitor_id=self.visitor_id,
                thread_id=self.thread_id,
            )
        except ChatError as exc:
            await self.send_error(_about(exc, "transcript.send"))
            return
        await self.send_json({"type": "transcript", "queued": True})

    async def _write_conversation(self) -> None:
        """Write the conversation's rows now if only drawn (what the visitor gives
        before their first message is kept)."""
        if self.new_conversation is not None:
            await run_in_db(services.store_conversation, self.new_conversation)
            self.new_conversation = None

    # --- Events -------------------------------------------------------------------

    async def send_ack(self, posted: Posted) -> None:
        await self._ack(posted)
        message = posted.message
        starts = posted.created and (message.seq == 1 or posted.reopened)
        if starts and not availability.automatic_reply_off():
            # A conversation starts: answered at once when nobody is there.
            try:
                await run_in_db(
                    services.send_automatic_reply,
                    thread_id=self.thread_id,
                    started_by=message.seq,
                    language=self.language,
                )
            except Exception:  # the visitor's message is stored and acked
                logger.exception(
                    "automatic reply not sent in thread %s", message.thread_id
                )

    async def _ack(self, posted: Posted) -> None:
        """The ack, then at once the sender's own copy of its new message when
        nothing before it in the thread is still on its way to this socket: both
        leave in one write, and the copy does not wait for the round trip through
        the layer. The hub's copy is then dropped (realtime.hub.Inbox), so every
        socket still gets each message once, in order."""
        await super().send_ack(posted)
        message = posted.message
        if self.new_conversation is not None:
            self.new_conversation = None  # written with the message
            if not posted.created or message.seq != 1 or message.attachment_id:
                self.context_written_elsewhere()  # before it (a file, another tab)
        if not posted.created or message.seq != self.last_live_seq + 1:
            return
        self.last_live_seq = message.seq
        echoed = self.inbox.echoed
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
        if live and self.new_conversation is not None:
            self.new_conversation = None  # written (from another tab)
            self.context_written_elsewhere()
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

    async def chat_hours(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "hours", "hours": event["hours"]})

    async def chat_threads(self, event: dict[str, Any]) -> None:
        # Only the status, and only when it changed (events.visitor_thread_payload).
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

    async def chat_device_joined(self, event: dict[str, Any]) -> None:
        if event["thread"] == self.thread_id:
            await self.send_json({"type": "device.joined"})

    async def session_rotated(self, event: dict[str, Any]) -> None:
        # The browser's session has a new key: a socket opened with the old one
        # reconnects with the new cookie (or, if it was not that browser, fails).
        session = self.scope.get("session")
        key = getattr(session, "session_key", None) or ""
        if event.get("session") == events.session_group(key):
            await self.close(code=CLOSE_RECHECK)


def email_ask(email: str, *, unsubscribed: bool = False) -> dict[str, Any]:
    """What the visitor's page knows of email (``hello.email``, the ``email``
    frame): their address, whether they unsubscribed, when to ask for one."""
    return {
        "enabled": settings.SOHBET_EMAIL_ENABLED,
        "address": email,
        "unsubscribed": unsubscribed,
        "ask": settings.SOHBET_EMAIL_ASK,
        "required": settings.SOHBET_EMAIL_REQUIRED,
    }


def _about(error: ChatError, frame_type: str) -> ChatError:
    """The refusal names the frame it answers: the page shows it by its form."""
    error.frame = frame_type  # type: ignore[attr-defined]
    return error
