"""The thread's place in the operators' group: its forum topic (made on its first
delivery, named after the visitor, renamed when they give a name, closed and
reopened with the conversation, made again when someone deleted it), or the group
itself when it is not a forum."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from channels.db import database_sync_to_async
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from chat.models import Thread
from telegram_bridge import selectors, services
from telegram_bridge.errors import Verdict, classify, is_unchanged
from telegram_bridge.pacer import Pacer, Turn
from telegram_bridge.render import topic_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    chat_id: int
    message_thread_id: int | None


class Topics:
    def __init__(self, bot: Bot, *, chat_id: int, is_forum: bool) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.is_forum = is_forum
        self._renames: set[int] = set()

    def request_rename(self, thread_id: int) -> None:
        """The visitor's name may have changed: check the topic's name."""
        if self.is_forum:
            self._renames.add(thread_id)

    async def target(self, thread: Thread, turn: Turn) -> Target:
        """Where the thread's messages go; makes its topic, or renames it."""
        if not self.is_forum:
            return Target(self.chat_id, None)
        topic = await database_sync_to_async(selectors.get_topic)(
            chat_id=self.chat_id, visitor_id=thread.visitor_id
        )
        name = topic_name(thread)
        if topic is None:
            created = await turn.call(
                lambda: self.bot.create_forum_topic(chat_id=self.chat_id, name=name)
            )
            await database_sync_to_async(services.save_topic)(
                visitor_id=thread.visitor_id,
                chat_id=self.chat_id,
                message_thread_id=created.message_thread_id,
                name=name,
            )
            return Target(self.chat_id, created.message_thread_id)
        if topic.name != name:
            await self.rename(topic.message_thread_id, name, turn)
        return Target(self.chat_id, topic.message_thread_id)

    async def rename(self, message_thread_id: int, name: str, turn: Turn) -> None:
        """Give the topic the visitor's name. Only a wait or a refusal of the whole
        chat is raised: a name is not worth holding messages back (it is tried
        again with the thread's next delivery, unless Telegram refused it)."""
        try:
            await turn.call(
                lambda: self.bot.edit_forum_topic(
                    chat_id=self.chat_id,
                    message_thread_id=message_thread_id,
                    name=name,
                )
            )
        except TelegramError as exc:
            verdict = classify(exc)
            if verdict in (Verdict.WAIT, Verdict.CHAT):
                raise
            unchanged = isinstance(exc, BadRequest) and is_unchanged(exc)
            if not unchanged:
                logger.info("topic %s not renamed: %s", message_thread_id, exc)
            if not (unchanged or verdict is Verdict.REFUSED):
                return
        await database_sync_to_async(services.rename_topic)(
            chat_id=self.chat_id, message_thread_id=message_thread_id, name=name
        )

    async def rename_next(self, pacer: Pacer) -> bool:
        """Rename one topic whose visitor took another name; False when there was
        none. Raises what Telegram answered when it must be waited out."""
        while self._renames:
            thread_id = self._renames.pop()
            found = await database_sync_to_async(selectors.get_topic_and_thread)(
                chat_id=self.chat_id, thread_id=thread_id
            )
            if found is None:
                continue
            topic, thread = found
            name = topic_name(thread)
            if name == topic.name:
                continue
            async with pacer.turn(self.chat_id) as turn:
                await self.rename(topic.message_thread_id, name, turn)
            return True
        return False

    async def to_thread_place(
        self,
        thread: Thread,
        turn: Turn,
        send: Callable[[Target], Awaitable[list[int]]],
    ) -> list[int]:
        """Run ``send`` for the thread's place; makes a new topic once when the
        thread's was deleted."""
        for attempt in (1, 2):
            target = await self.target(thread, turn)
            try:
                return await send(target)
            except TelegramError as exc:
                gone = classify(exc) is Verdict.TOPIC_GONE
                if not (gone and target.message_thread_id and attempt == 1):
                    raise
                await database_sync_to_async(services.forget_topic)(
                    chat_id=target.chat_id, message_thread_id=target.message_thread_id
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def set_closed(self, thread: Thread, closed: bool, turn: Turn) -> None:
        """Close or reopen the thread's topic, if it has one."""
        topic = await database_sync_to_async(selectors.get_topic)(
            chat_id=self.chat_id, visitor_id=thread.visitor_id
        )
        if topic is None:
            return
        change = self.bot.close_forum_topic if closed else self.bot.reopen_forum_topic
        try:
            await turn.call(lambda: change(self.chat_id, topic.message_thread_id))
        except BadRequest as exc:
            if is_unchanged(exc) or classify(exc) is Verdict.TOPIC_GONE:
                return  # already so, or deleted: the next message makes a new one
            raise
