"""A visitor socket's blocks, spam control and rating (a mixin of VisitorConsumer).

Every frame passes ``handle_frame`` here first: a blocked socket (chat.safety) reads
its conversation but stores nothing, and is answered neutrally; a socket whose
pre-chat honeypot was filled is answered as if all went well and stores nothing; a
conversation not started yet counts against the limits on new conversations before
the frame that would write it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext as _

from chat import safety, safety_frames, services
from chat.exceptions import ChatError, ErrorCode
from chat.models import Rating, Thread
from chat.rules import NewConversation
from realtime import run_in_db
from realtime.clientip import rate_limit_key
from realtime.consumer import on
from realtime.ratelimit import Rule, ahit_many

# What a blocked socket may still do; what it does silently to no effect; the
# frames that write a conversation not written yet.
READS = frozenset({"ping", "sync", "history", "options"})
IGNORED = frozenset({"typing", "read", "visitor.context"})
STARTS = frozenset({"message.send", "visitor.update", "visitor.email"})
# The session's mark of a filled honeypot: its sockets stay silenced.
SILENCED_SESSION_KEY = "sohbet_silenced"


def open_safety(
    session: SessionBase, *, visitor_id: int, thread: dict[str, Any], address: str
) -> tuple[safety.BlockState, dict[str, Any]]:
    """On the database thread, as the socket opens: what blocks it, and the
    ``hello.rating`` of its thread (whether to ask, the rating of this closing)."""
    state = safety.get_block_state(visitor_id=visitor_id, address=address)
    state.silenced = bool(session.get(SILENCED_SESSION_KEY))
    current = None
    if settings.SOHBET_RATING and thread["status"] == Thread.Status.CLOSED:
        closed_at = (
            Thread.objects.filter(pk=thread["id"])
            .values_list("closed_at", flat=True)
            .first()
        )
        if closed_at is not None:
            current = (
                Rating.objects.filter(thread_id=thread["id"], created_at__gte=closed_at)
                .order_by("-created_at")
                .first()
            )
    return state, {
        "enabled": settings.SOHBET_RATING,
        "current": safety.rating_payload(current),
    }


class VisitorSafetyMixin:
    safety: safety.BlockState
    thread_id: int
    new_conversation: NewConversation | None
    scope: dict[str, Any]
    last_live_seq: int
    _start_counted = False
    # A conversation's first message's limits on new conversations, for the writer.
    start_limits: tuple[tuple[str, Rule], ...] = ()

    async def handle_frame(self, frame_type: str, frame: Any) -> None:
        state = self.safety
        client_id = getattr(frame, "client_id", None)
        client_id = str(client_id) if client_id is not None else None
        if state.silenced and frame_type not in READS:
            return  # a bot: nothing stored, nothing said
        if state.blocked and frame_type not in READS:
            if frame_type in IGNORED:
                return
            raise _about(safety.unavailable(client_id), frame_type)
        if getattr(frame, "trap", False):
            await self._silence()
            if frame_type == "visitor.email":  # what an accepted address gets
                await self.send_json(  # type: ignore[attr-defined]
                    {"type": "email", "address": frame.email.strip()}
                )
            return
        if frame_type in STARTS and self._starts_conversation():
            limits = safety.new_thread_limits(rate_limit_key(self.safety.address))
            self._start_counted = True
            if frame_type == "message.send":
                self.start_limits = tuple(limits)  # counted by the writer, with it
            elif not all(await ahit_many(limits)):
                self._start_counted = False
                raise _about(safety.too_many_threads(client_id), frame_type)
        await super().handle_frame(frame_type, frame)  # type: ignore[misc]

    def start_refused(self) -> None:
        """The message that would have started the conversation was refused."""
        self._start_counted = False

    def _starts_conversation(self) -> bool:
        """Whether this frame may start a conversation: its rows are not written, or
        (where they are as the socket opens: no sequences) it has no message yet;
        counted once per socket."""
        if self.new_conversation is not None:
            return True
        return self.last_live_seq == 0 and not self._start_counted

    async def _silence(self) -> None:
        self.safety.silenced = True
        session = self.scope.get("session")
        if session is not None:
            await run_in_db(_mark_silenced, session)

    @on("thread.rate")
    async def on_thread_rate(self, frame: safety_frames.RateThread) -> None:
        if self.new_conversation is not None:
            error = ChatError(ErrorCode.NOT_FOUND, _("There is nothing to rate yet."))
            raise _about(error, "thread.rate")
        try:  # the rating comes back to every tab of the visitor (chat_rating)
            await run_in_db(
                services.rate_thread,
                thread_id=self.thread_id,
                score=frame.score,
                comment=frame.comment,
            )
        except ChatError as exc:
            raise _about(exc, "thread.rate") from None

    async def chat_block(self, event: dict[str, Any]) -> None:
        self.safety.apply(event)

    async def chat_rating(self, event: dict[str, Any]) -> None:
        if event["thread"] == self.thread_id:
            await self.send_json({"type": "rating", "rating": event["rating"]})  # type: ignore[attr-defined]


def _mark_silenced(session: SessionBase) -> None:
    session[SILENCED_SESSION_KEY] = True
    session.save()


def _about(error: ChatError, frame_type: str) -> ChatError:
    """The refusal names the frame it answers (the page shows it by its form)."""
    if frame_type != "message.send":
        error.frame = frame_type  # type: ignore[attr-defined]
    return error
