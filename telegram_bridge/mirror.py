"""Visitor state mirrored in the operators' group, from the events the web processes
send to the operators' group: typing (a chat action), reading (a 👀 reaction on the
operator's message), leaving (one silent note), a new name (the topic renamed).

Everything goes through the pacer and costs the group as little of its budget as
it can: typing is sent only if it can go at once, and a visitor who leaves gets a
note only after staying away ``leave_after`` seconds (moving between pages is not
leaving), and only once until they write again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import Bot, ReactionTypeEmoji
from telegram.constants import ChatAction
from telegram.error import RetryAfter, TelegramError

from chat import events, presence
from telegram_bridge import selectors, services
from telegram_bridge.models import MessageLink
from telegram_bridge.pacer import Pacer

logger = logging.getLogger(__name__)

READ_REACTION = "👀"
TYPING_EVERY = 4.0  # Telegram shows "typing…" for 5 seconds


class Mirror:
    def __init__(
        self,
        bot: Bot,
        *,
        chat_id: int,
        is_forum: bool,
        pacer: Pacer,
        leave_after: float,
        on_messages: Callable[[], None] = lambda: None,
        on_rename: Callable[[int], None] = lambda thread_id: None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.is_forum = is_forum
        self.pacer = pacer
        self.leave_after = leave_after
        self.on_messages = on_messages
        self.on_rename = on_rename
        self._typing_at: dict[int, float] = {}
        self._leaving: dict[int, asyncio.Task[None]] = {}
        self._noted: set[int] = set()  # threads noted as left since the visitor wrote
        self._names: dict[int, str] = {}

    async def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == events.NOTE:
            self.on_messages()  # a note to deliver too
        elif kind == events.MESSAGES:
            self.on_messages()
            for message in event.get("messages", ()):
                if message.get("author") == "visitor":
                    self._noted.discard(message.get("thread"))
        elif kind == events.THREADS:
            for thread in event["threads"]:
                self._seen_name(thread.get("id"), thread.get("visitor_name") or "")
        elif kind == events.TYPING:
            if event.get("author") == "visitor" and event.get("active"):
                await self._typing(event["thread"])
        elif kind == events.READ and event.get("by") == "visitor":
            await self._react_to_read(event["thread"], event["up_to"])
        elif kind == events.PRESENCE and "thread" in event:
            if event.get("visitor_online"):
                self._cancel_leaving(event["thread"])
            elif event.get("visitor_online") is False:
                self._leave_later(event["thread"])

    async def wait_idle(self) -> None:
        """Until the notes now waiting for a visitor to stay away are done."""
        await asyncio.gather(*list(self._leaving.values()), return_exceptions=True)

    def close(self) -> None:
        for task in self._leaving.values():
            task.cancel()
        self._leaving.clear()

    # --- Typing, reading, renaming ---------------------------------------------

    async def _typing(self, thread_id: int) -> None:
        now = self.pacer.clock.now()
        if now - self._typing_at.get(thread_id, -TYPING_EVERY) < TYPING_EVERY:
            return
        target = await self._topic_of(thread_id)
        if target is None:
            return
        self._typing_at[thread_id] = now
        try:
            await self.pacer.call_if_soon(
                self.chat_id,
                lambda: self.bot.send_chat_action(
                    chat_id=self.chat_id,
                    action=ChatAction.TYPING,
                    message_thread_id=target,
                ),
                within=1.0,
            )
        except TelegramError as exc:  # worth nothing later: not tried again
            logger.info("typing not shown: %s", exc)

    async def _react_to_read(self, thread_id: int, up_to: int) -> None:
        links = await database_sync_to_async(selectors.list_unreacted_operator_links)(
            thread_id=thread_id, up_to=up_to
        )
        done = []
        for link in links:

            def react(link: MessageLink = link) -> Awaitable[bool]:
                return self.bot.set_message_reaction(
                    chat_id=link.chat_id,
                    message_id=link.telegram_message_id,
                    reaction=[ReactionTypeEmoji(READ_REACTION)],
                )

            try:
                await self.pacer.call(link.chat_id, react, posts=False)
            except RetryAfter:
                break  # the next read tries the rest
            except TelegramError as exc:  # the message is gone, reactions are off…
                logger.info("read reaction not set: %s", exc)
            done.append(link.pk)
        if done:
            await database_sync_to_async(services.mark_reacted)(link_ids=done)

    def _seen_name(self, thread_id: int | None, name: str) -> None:
        if thread_id is None:
            return
        previous = self._names.get(thread_id)
        self._names[thread_id] = name
        if previous is not None and previous != name:
            self.on_rename(thread_id)
        elif previous is None and name:
            self.on_rename(thread_id)  # maybe named before the bridge heard of it

    # --- Leaving -------------------------------------------------------------------

    def _leave_later(self, thread_id: int) -> None:
        self._cancel_leaving(thread_id)
        if thread_id in self._noted:
            return
        deadline = self.pacer.clock.now() + self.leave_after
        task = asyncio.create_task(self._note_leaving(thread_id, deadline))
        self._leaving[thread_id] = task
        task.add_done_callback(
            lambda done: (
                self._leaving.pop(thread_id, None)
                if self._leaving.get(thread_id) is done
                else None
            )
        )

    def _cancel_leaving(self, thread_id: int) -> None:
        task = self._leaving.pop(thread_id, None)
        if task is not None:
            task.cancel()

    async def _note_leaving(self, thread_id: int, deadline: float) -> None:
        await self.pacer.clock.sleep(deadline - self.pacer.clock.now())
        try:
            back = await sync_to_async(presence.is_online)(
                presence.visitor_key(thread_id)
            )
            target = await self._topic_of(thread_id)
            if back or target is None or thread_id in self._noted:
                return
            with translation.override(settings.LANGUAGE_CODE):
                text = "· " + _("The visitor left the page.")
            self._noted.add(thread_id)
            await self.pacer.call(
                self.chat_id,
                lambda: self.bot.send_message(
                    chat_id=self.chat_id,
                    text=text,
                    message_thread_id=target,
                    disable_notification=True,
                ),
                attempts=2,
            )
        except TelegramError as exc:  # a note, not a message: not worth more tries
            logger.info("leaving not noted: %s", exc)

    async def _topic_of(self, thread_id: int) -> int | None:
        """The topic of a thread that already has one (state is not worth a topic)."""
        if not self.is_forum:
            return None
        topic = await database_sync_to_async(selectors.get_topic_of_thread)(
            chat_id=self.chat_id, thread_id=thread_id
        )
        return topic.message_thread_id if topic else None
