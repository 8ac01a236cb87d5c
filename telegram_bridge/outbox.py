"""Outbound: chat.OutboxEntry rows of the "telegram" channel, delivered in order per
thread, with Telegram's rate limits honoured.

A delivery is recorded (message links, entry done) only after Telegram accepted it:
if the bridge dies between the two, that delivery is sent again when it restarts, so
Telegram may show one message twice; nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import Attachment, Message, OutboxEntry, Thread
from telegram_bridge import selectors, services
from telegram_bridge.models import MessageLink

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096  # UTF-16 code units, as Telegram counts them
CAPTION_LIMIT = 1024
TOPIC_NAME_LIMIT = 128
# A thread whose pending deliveries reach this many is sent as one combined message
# (Telegram allows about 20 messages a minute per group).
COMBINE_AT = 3
MAX_ATTEMPTS = 8
BACKOFF_CAP = 300.0


@dataclass(frozen=True, slots=True)
class Target:
    chat_id: int
    message_thread_id: int | None


class Pause(Exception):
    """Telegram said to wait (429): stop this pass for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at Telegram's limit, preferring line breaks, then spaces."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = len(rest)
        while utf16_len(rest[:cut]) > limit:
            cut = max(1, cut * limit // max(utf16_len(rest[:cut]), 1) - 1)
        window = rest[:cut]
        for separator in ("\n", " "):
            at = window.rfind(separator)
            if at > cut // 2:
                cut = at + 1
                break
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


def render_message(message: Message, thread: Thread, *, is_forum: bool) -> str:
    """The Telegram text of one chat message (plain text: nothing is interpreted)."""
    name = thread.visitor.display_name
    if message.author == Message.Author.OPERATOR:
        head = _("🧑‍💼 %(operator)s (web)") % {"operator": message.author_name}
        if not is_forum:
            head += " → " + f"{name} · #{thread.pk}"
        return f"{head}\n{message.body}"
    if message.author == Message.Author.SYSTEM:
        return f"ℹ️ {message.body}"
    if is_forum:
        return message.body
    return f"💬 {name} · #{thread.pk}\n{message.body}".strip()


def render_combined(
    messages: Sequence[Message], thread: Thread, *, is_forum: bool
) -> str:
    lines = [
        _("%(count)d messages while the bridge caught up:") % {"count": len(messages)}
    ]
    if not is_forum:
        lines[0] = f"💬 {thread.visitor.display_name} · #{thread.pk} — " + lines[0]
    for message in messages:
        who = message.author_name or thread.visitor.display_name
        lines.append(f"• {who}: {message.body}")
    return "\n".join(lines)


def topic_name(thread: Thread) -> str:
    return f"{thread.visitor.display_name} · #{thread.pk}"[:TOPIC_NAME_LIMIT]


class OutboxDelivery:
    """One pass over the pending deliveries (``deliver_pending``)."""

    def __init__(self, bot: Bot, *, chat_id: int, is_forum: bool) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.is_forum = is_forum

    async def deliver_pending(self) -> int:
        """Deliver what is due; returns how many entries are still pending.

        Raises Pause when Telegram asks to wait.
        """
        entries = await database_sync_to_async(chat_selectors.list_due_outbox)(
            channel=CHANNEL
        )
        by_thread: dict[int, list[OutboxEntry]] = {}
        for entry in entries:
            by_thread.setdefault(entry.thread_id, []).append(entry)
        now = timezone.now()
        with translation.override(settings.LANGUAGE_CODE):
            for rows in by_thread.values():
                if rows[0].next_attempt_at > now:
                    continue  # waiting for a retry: later rows of the thread wait too
                await self._deliver_thread(rows)
        return await database_sync_to_async(chat_selectors.count_pending_outbox)(
            channel=CHANNEL
        )

    async def _deliver_thread(self, rows: list[OutboxEntry]) -> None:
        index = 0
        while index < len(rows):
            entry = rows[index]
            if entry.kind == OutboxEntry.Kind.MESSAGE and _has_file(entry):
                ok = await self._attempt([entry], self._send_file_message)
                index += 1 if ok else len(rows)
            elif entry.kind == OutboxEntry.Kind.MESSAGE:
                run = [entry]
                while (
                    index + len(run) < len(rows)
                    and rows[index + len(run)].kind == OutboxEntry.Kind.MESSAGE
                    and not _has_file(rows[index + len(run)])
                ):
                    run.append(rows[index + len(run)])
                batch = run if len(run) >= COMBINE_AT else [entry]
                ok = await self._attempt(batch, self._send_messages)
                index += len(batch) if ok else len(rows)
            else:
                ok = await self._attempt([entry], self._send_thread_event)
                index += 1 if ok else len(rows)

    async def _attempt(self, batch: list[OutboxEntry], send: object) -> bool:
        first = batch[0]
        try:
            await send(batch)  # type: ignore[operator]
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            await database_sync_to_async(chat_services.retry_outbox)(
                entry_id=first.pk,
                error=f"429 retry after {delay}s",
                delay_seconds=delay,
            )
            raise Pause(delay) from exc
        except (BadRequest, Forbidden) as exc:
            # Telegram refuses this content for good: retrying cannot help.
            logger.warning("telegram refused delivery %s: %s", first.pk, exc.message)
            for entry in batch:
                await database_sync_to_async(chat_services.fail_outbox)(
                    entry_id=entry.pk, error=exc.message
                )
            return True
        except (TimedOut, NetworkError) as exc:
            attempts = first.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                for entry in batch:
                    await database_sync_to_async(chat_services.fail_outbox)(
                        entry_id=entry.pk, error=str(exc)
                    )
                return True
            delay = random.uniform(0, min(BACKOFF_CAP, 2.0**attempts))  # noqa: S311
            await database_sync_to_async(chat_services.retry_outbox)(
                entry_id=first.pk, error=str(exc), delay_seconds=delay
            )
            return False
        return True

    async def _target(self, thread: Thread) -> Target:
        if not self.is_forum:
            return Target(self.chat_id, None)
        topic = await database_sync_to_async(selectors.get_topic)(
            chat_id=self.chat_id, visitor_id=thread.visitor_id
        )
        if topic is not None:
            return Target(self.chat_id, topic.message_thread_id)
        name = topic_name(thread)
        created = await self.bot.create_forum_topic(chat_id=self.chat_id, name=name)
        await database_sync_to_async(services.save_topic)(
            visitor_id=thread.visitor_id,
            chat_id=self.chat_id,
            message_thread_id=created.message_thread_id,
            name=name,
        )
        return Target(self.chat_id, created.message_thread_id)

    async def _to_thread_place(
        self, thread: Thread, send: Callable[[Target], Awaitable[list[int]]]
    ) -> list[int]:
        """Run ``send`` for the thread's place; recreates a deleted topic once."""
        for attempt in (1, 2):
            target = await self._target(thread)
            try:
                return await send(target)
            except BadRequest as exc:
                gone = "thread not found" in exc.message.lower()
                if not (gone and target.message_thread_id and attempt == 1):
                    raise
                await database_sync_to_async(services.forget_topic)(
                    chat_id=target.chat_id, message_thread_id=target.message_thread_id
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_text(self, thread: Thread, text: str) -> list[int]:
        """Send text, split at Telegram's limit, to the thread's place."""

        async def send(target: Target) -> list[int]:
            sent = []
            for part in split_text(text):
                message = await self.bot.send_message(
                    chat_id=target.chat_id,
                    text=part,
                    message_thread_id=target.message_thread_id,
                    link_preview_options=None,
                )
                sent.append(message.message_id)
            return sent

        return await self._to_thread_place(thread, send)

    async def _send_file_message(self, batch: list[OutboxEntry]) -> None:
        """A message with an attachment: uploaded to Telegram by us (Telegram never
        fetches our URLs), as a photo, voice note, audio or document."""
        entry = batch[0]
        thread, message = entry.thread, entry.message
        if message is None or message.attachment is None:  # pragma: no cover
            raise BadRequest("the attachment of this message is gone")
        attachment = message.attachment
        content = await sync_to_async(_read_file)(attachment)
        caption = render_message(message, thread, is_forum=self.is_forum).strip()
        extra_text = ""
        if utf16_len(caption) > CAPTION_LIMIT:
            caption, extra_text = "", caption

        async def send(target: Target) -> list[int]:
            file = InputFile(content, filename=attachment.name)
            common: dict[str, Any] = {
                "chat_id": target.chat_id,
                "message_thread_id": target.message_thread_id,
                "caption": caption or None,
            }
            if attachment.kind == Attachment.Kind.IMAGE:
                sent = await self.bot.send_photo(photo=file, **common)
            elif attachment.content_type == "audio/ogg":
                sent = await self.bot.send_voice(voice=file, **common)
            elif attachment.kind == Attachment.Kind.AUDIO:
                sent = await self.bot.send_audio(audio=file, **common)
            else:
                sent = await self.bot.send_document(document=file, **common)
            return [sent.message_id]

        sent_ids = await self._to_thread_place(thread, send)
        if extra_text:
            sent_ids += await self._send_text(thread, extra_text)
        await database_sync_to_async(_record_delivery)(
            chat_id=self.chat_id,
            thread_id=thread.pk,
            telegram_message_ids=sent_ids,
            message_id=message.pk,
            entry_ids=[entry.pk],
        )

    async def _send_messages(self, batch: list[OutboxEntry]) -> None:
        thread = batch[0].thread
        messages = [entry.message for entry in batch if entry.message is not None]
        if len(messages) == 1:
            text = render_message(messages[0], thread, is_forum=self.is_forum)
        else:
            text = render_combined(messages, thread, is_forum=self.is_forum)
        sent = await self._send_text(thread, text)
        await database_sync_to_async(_record_delivery)(
            chat_id=self.chat_id,
            thread_id=thread.pk,
            telegram_message_ids=sent,
            message_id=messages[-1].pk if len(messages) == 1 else None,
            entry_ids=[entry.pk for entry in batch],
        )

    async def _send_thread_event(self, batch: list[OutboxEntry]) -> None:
        entry = batch[0]
        thread = entry.thread
        closed = entry.kind == OutboxEntry.Kind.THREAD_CLOSED
        text = (
            _("Conversation #%(id)s closed.")
            if closed
            else _("Conversation #%(id)s reopened.")
        ) % {"id": thread.pk}
        sent = await self._send_text(thread, "ℹ️ " + text)
        target = await self._target(thread)
        if target.message_thread_id is not None:
            try:
                if closed:
                    await self.bot.close_forum_topic(
                        self.chat_id, target.message_thread_id
                    )
                else:
                    await self.bot.reopen_forum_topic(
                        self.chat_id, target.message_thread_id
                    )
            except (
                BadRequest
            ) as exc:  # already closed/open, or no right to manage topics
                logger.info("topic state not changed: %s", exc.message)
        await database_sync_to_async(_record_delivery)(
            chat_id=self.chat_id,
            thread_id=thread.pk,
            telegram_message_ids=sent,
            message_id=None,
            entry_ids=[entry.pk],
        )


def _record_delivery(
    *,
    chat_id: int,
    thread_id: int,
    telegram_message_ids: list[int],
    message_id: int | None,
    entry_ids: list[int],
) -> None:
    from django.db import transaction

    with transaction.atomic():
        services.link_messages(
            chat_id=chat_id,
            telegram_message_ids=telegram_message_ids,
            thread_id=thread_id,
            message_ids=[message_id] * len(telegram_message_ids),
            direction=MessageLink.Direction.OUT,
        )
        chat_services.complete_outbox(entry_ids=entry_ids)


def _has_file(entry: OutboxEntry) -> bool:
    return entry.message is not None and entry.message.attachment_id is not None


def _read_file(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


def _seconds(value: object) -> float:
    seconds = getattr(value, "total_seconds", None)
    return float(seconds() if callable(seconds) else value)  # type: ignore[arg-type]


async def sleep_until(deadline: float, stop: asyncio.Event) -> None:
    """Wait until ``deadline`` (monotonic) or until asked to stop."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        try:
            await asyncio.wait_for(stop.wait(), timeout=remaining)
        except TimeoutError:
            pass
