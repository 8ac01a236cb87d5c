"""``/ws/operator/``: a signed-in, active staff user (second factor included)."""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from accounts import sessions as operator_sessions
from accounts.selectors import is_operator_session_current, is_second_factor_satisfied
from chat import availability, desk, events, frames, presence, selectors, services
from chat.consumers.base import ChatConsumer, limits
from chat.consumers.canned import CannedRepliesMixin
from chat.consumers.desk import DeskHandlers
from chat.consumers.notes import NotesMixin
from chat.consumers.operator_safety import OperatorSafetyMixin
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message, Thread
from chat.rules import NewMessage
from realtime import run_in_db, send_now
from realtime.consumer import CLOSE_FORBIDDEN, CLOSE_NO_IDENTITY, CLOSE_RECHECK, on

# What an operator does (rather than their page by itself): keeps their session alive.
ACTIONS = frozenset(
    {"message.send", "typing", "read", "thread.close", "thread.reopen", "thread.assign"}
    | {"note.add", "thread.transfer"}
)


class OperatorConsumer(
    CannedRepliesMixin, DeskHandlers, OperatorSafetyMixin, NotesMixin, ChatConsumer
):
    is_operator = True
    _activity_noted_at = float("-inf")
    # Away (chat.services.set_operator_away): the socket keeps its entry under the
    # operator's own key (presence_key) but not under presence.OPERATORS.
    away = False

    async def start(self) -> None:
        user = self.scope.get("user")
        session = self.scope.get("session")
        if (
            self.scope.get("visitor_token")
            or user is None
            or not (user.is_authenticated and user.is_active and user.is_staff)
        ):
            await self.close(code=CLOSE_NO_IDENTITY)
            return
        if session is None or not await run_in_db(
            is_second_factor_satisfied, user=user, session=session
        ):  # password given, Telegram code not yet
            await self.close(code=CLOSE_NO_IDENTITY)
            return
        self.user = user
        self.ready = True
        self.sender_key = f"send:operator:{user.pk}"
        groups = [events.OPERATORS_GROUP, events.operator_group(user.pk)]
        if session.session_key:
            groups.append(events.session_group(session.session_key))
        await self.join(*groups)
        team = await run_in_db(availability.list_team)
        self.away = any(m["id"] == user.pk and m["status"] == "away" for m in team)
        for member in team:  # read before this socket counted
            if member["id"] == user.pk:
                member["status"] = availability.team_status(away=self.away, online=True)
        self.presence_key = presence.operator_key(user.pk)
        was_here, _now = await presence.atouch(self.presence_key, self.connection_id)
        if not self.away:
            await self._count_for_visitors(True)
        await self.send_json(
            {
                "type": "hello",
                "role": "operator",
                "operator": {"id": user.pk, "name": user.display_name},
                "away": self.away,
                "team": team,
                "limits": limits(),
            }
        )
        if not was_here:
            await self._tell_team(online=True)

    async def _count_for_visitors(self, counted: bool) -> None:
        """Join (or leave) the operators visitors see as there; they are told when
        that makes the first (or takes the last)."""
        key, connection = presence.OPERATORS, self.connection_id
        if counted:
            was, now = await presence.atouch(key, connection)
        else:
            was, now = await presence.aleave(key, connection)
        if was != now:
            await send_now(events.operators_presence_event(online=now))

    async def _tell_team(self, *, online: bool) -> None:
        status = availability.team_status(away=self.away, online=online)
        await send_now(
            events.team_event(
                user_id=self.user.pk, name=self.user.display_name, status=status
            )
        )

    async def disconnect(self, code: int) -> None:
        if not self.ready:
            return
        if self._typing_thread is not None:
            await self._typing(self._typing_thread, False)
        if not self.away:
            await self._count_for_visitors(False)
        _was, here = await presence.aleave(self.presence_key, self.connection_id)
        if not here:
            await self._tell_team(online=False)

    async def handle_frame(self, frame_type: str, frame: Any) -> None:
        if frame_type in ACTIONS:
            await self._note_activity()
        await super().handle_frame(frame_type, frame)

    async def _note_activity(self) -> None:
        """The operator is at work: their session's idle deadline moves on
        (accounts.sessions), at most once a minute per socket."""
        now = time.monotonic()
        if now - self._activity_noted_at < operator_sessions.PUSH_EVERY_SECONDS:
            return
        self._activity_noted_at = now
        key = getattr(self.scope.get("session"), "session_key", None)
        if key:
            await run_in_db(operator_sessions.note_socket_activity, session_key=key)

    async def on_ping(self) -> None:
        if not self.away:
            presence.keep(presence.OPERATORS, self.connection_id)
        # What the events miss (rights changed by a bulk update, the session expired
        # or deleted in the database) is found on the next ping.
        await super().on_ping()
        session = self.scope.get("session")
        if not await run_in_db(
            is_operator_session_current,
            session_key=getattr(session, "session_key", None),
            user_id=self.user.pk,
        ):
            await self.close(code=CLOSE_RECHECK)

    async def _thread(self, thread_id: int | None) -> Thread:
        if thread_id is None:  # frames.parse_frame requires it of operators
            raise ChatError(ErrorCode.INVALID, _("“thread” is required."))
        return await run_in_db(selectors.get_thread_for_operator, thread_id=thread_id)

    # --- Frames -------------------------------------------------------------------

    @on("message.send")
    async def on_message_send(self, frame: frames.SendMessage) -> None:
        if frame.thread is None:  # frames.parse_frame requires it of operators
            raise ChatError(ErrorCode.INVALID, _("“thread” is required."))
        # Any thread: the writer answers not_found (with the client_id) for one that
        # does not exist, without a query here.
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

    @on("typing")
    async def on_typing(self, frame: frames.Typing) -> None:
        thread = await self._thread(frame.thread)
        await self._typing(thread.pk, frame.active)

    async def _typing(self, thread_id: int, active: bool) -> None:
        self._typing_thread = thread_id if active else None
        typing = {
            "thread": thread_id,
            "author": "operator",
            "active": active,
            "name": self.user.display_name,
            "origin": self.connection_id,
        }
        await send_now(
            events.typing_event(events.thread_group(thread_id), **typing),
            events.typing_event(events.OPERATORS_GROUP, **typing),
        )

    @on("read")
    async def on_read(self, frame: frames.Read) -> None:
        thread = await self._thread(frame.thread)
        await run_in_db(
            services.mark_read, thread_id=thread.pk, by="operator", up_to=frame.up_to
        )

    @on("delivered")
    async def on_delivered(self, frame: frames.Delivered) -> None:
        thread = await self._thread(frame.thread)
        await run_in_db(services.mark_delivered, thread_id=thread.pk, up_to=frame.up_to)

    @on("sync")
    async def on_sync(self, frame: frames.Sync) -> None:
        thread = await self._thread(frame.thread)
        await self._send_thread(thread)
        messages, has_more = await run_in_db(
            selectors.list_messages_after, thread_id=thread.pk, after_seq=frame.after
        )
        await self.send_messages("sync", thread.pk, messages, has_more)
        await self._send_emailed(thread.pk, messages)

    @on("history")
    async def on_history(self, frame: frames.History) -> None:
        thread = await self._thread(frame.thread)
        await self._send_thread(thread)
        messages, has_more = await run_in_db(
            selectors.list_messages_before,
            thread_id=thread.pk,
            before_id=frame.before,
            limit=frame.limit,
        )
        await self.send_messages("history", thread.pk, messages, has_more)
        await self._send_emailed(thread.pk, messages)

    async def _send_emailed(self, thread_id: int, messages: list[Any]) -> None:
        """Which replies of a page went to the visitor by email (a mark on them)."""
        if not any(m.author == Message.Author.OPERATOR for m in messages):
            return
        emailed = await run_in_db(selectors.list_emailed_message_ids, messages=messages)
        if emailed:
            await self.send_json(
                {"type": "emailed", "thread": thread_id, "messages": emailed}
            )

    @on("thread.close", "thread.reopen")
    async def on_thread_action(self, frame: frames.ThreadAction) -> None:
        service = (
            services.close_thread if frame.action == "close" else services.reopen_thread
        )
        await run_in_db(service, thread_id=frame.thread, by=self.user)

    @on("thread.assign")
    async def on_thread_assign(self, frame: frames.ThreadAssign) -> None:
        await run_in_db(
            services.assign_thread, thread_id=frame.thread, operator_id=frame.operator
        )

    @on("threads")
    async def on_threads(self, frame: frames.ThreadList) -> None:
        threads, has_more, labels, counts = await run_in_db(
            desk.get_inbox_page,
            view=frame.view,
            user_id=self.user.pk,
            label_id=frame.label,
            q=frame.q,
            before=frame.before,
            limit=frame.limit,
        )
        # Many threads' presence at once: off the database threads.
        online = await sync_to_async(presence.online_threads, thread_sensitive=False)(
            [thread.pk for thread in threads]
        )
        header: dict[str, Any] = {"type": "threads"}
        if counts is not None:
            header["counts"] = counts
        await self.send_page(
            header,
            "threads",
            [
                {
                    **events.thread_payload(t, visitor_online=t.pk in online),
                    "labels": labels.get(t.pk, []),
                }
                for t in threads
            ],
            more=has_more,
        )

    @on("operator.away")
    async def on_operator_away(self, frame: frames.OperatorAway) -> None:
        await run_in_db(
            services.set_operator_away, user_id=self.user.pk, away=frame.away
        )

    @on("visitor.info")
    async def on_visitor_info(self, frame: frames.VisitorInfo) -> None:
        thread = await self._thread(frame.thread)
        details = await run_in_db(
            selectors.get_visitor_details, visitor_id=thread.visitor_id
        )
        if details is None:
            raise ChatError(ErrorCode.NOT_FOUND, _("This conversation does not exist."))
        await self.send_json(
            {
                "type": "visitor",
                "thread": thread.pk,
                "visitor": events.visitor_payload(*details),
            }
        )

    async def _send_thread(self, thread: Thread) -> None:
        """The thread's current state, so that an inbox opening any thread (even one
        not in its list) can show its header."""
        online = await presence.ais_online(presence.visitor_key(thread.pk))
        payload = events.thread_payload(thread, visitor_online=online)
        labels = await run_in_db(desk.get_thread_label_ids, [thread.pk])
        payload["labels"] = labels.get(thread.pk, [])
        await self.send_json({"type": "thread", "thread": payload})
        await self.send_thread_extra(thread)

    # --- Events -------------------------------------------------------------------

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
        pass  # for visitors

    async def chat_away(self, event: dict[str, Any]) -> None:
        """This operator switched away or back (in any of their tabs, or Telegram)."""
        away = bool(event["away"])
        if away != self.away:
            self.away = away
            await self._count_for_visitors(not away)
        await self.send_json({"type": "away", "away": away})

    async def chat_team(self, event: dict[str, Any]) -> None:
        # Their own state comes with hello and the away frames.
        if event["operator"]["id"] != self.user.pk:
            await self.send_json({"type": "team", "operator": event["operator"]})

    async def chat_visitor(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "visitor", "visitor": event["visitor"]})

    async def chat_emailed(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "emailed",
                "thread": event["thread"],
                "messages": event["messages"],
            }
        )

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_FORBIDDEN)

    async def rights_changed(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_RECHECK)
