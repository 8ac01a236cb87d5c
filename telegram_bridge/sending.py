"""What the outbox sends to Telegram of each kind of row, and how a delivery is
recorded: ``Sending``, the half of ``telegram_bridge.outbox.OutboxDelivery`` that
talks to the bot (the other half chooses what is due and handles failures)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils.translation import gettext as _
from telegram import Bot, InputFile
from telegram.error import BadRequest

from chat import services as chat_services
from chat.models import Attachment, OutboxEntry, Thread
from realtime import run_in_db
from telegram_bridge import services, ticks
from telegram_bridge.models import MessageLink
from telegram_bridge.notes import send_note
from telegram_bridge.pacer import Pacer, Turn
from telegram_bridge.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    combined_length,
    render_combined,
    render_message,
    split_text,
    utf16_len,
)
from telegram_bridge.safety import rating_text
from telegram_bridge.topics import Target, Topics


class Sending:
    """Each kind of outbox row sent to the operators' chat (its topic or place)."""

    bot: Bot
    chat_id: int
    is_forum: bool
    pacer: Pacer
    topics: Topics

    async def _send_text(self, thread: Thread, text: str, turn: Turn) -> list[int]:
        """Send text, split at Telegram's limit, to the thread's place."""

        async def send(target: Target) -> list[int]:
            sent = []
            for part in split_text(text):

                def post(part: str = part) -> Awaitable[Any]:
                    return self.bot.send_message(
                        chat_id=target.chat_id,
                        text=part,
                        message_thread_id=target.message_thread_id,
                    )

                message = await turn.call(post)
                sent.append(message.message_id)
            return sent

        return await self.topics.to_thread_place(thread, turn, send)

    async def _send_messages(self, batch: list[OutboxEntry], turn: Turn) -> None:
        thread = batch[0].thread
        messages = [entry.message for entry in batch if entry.message is not None]
        if len(messages) == 1:
            text = render_message(messages[0], thread, is_forum=self.is_forum)
        else:
            text = render_combined(messages, thread, is_forum=self.is_forum)
        sent = await self._send_text(thread, text, turn)
        # A combined message carries its last one: a reaction to it reads them all.
        await run_in_db(
            _record_delivery,
            chat_id=self.chat_id,
            thread_id=thread.pk,
            telegram_message_ids=sent,
            message_id=messages[-1].pk,
            entry_ids=[entry.pk for entry in batch],
            delivered_up_to=ticks.visitor_up_to(messages),
        )

    async def _send_file_message(self, batch: list[OutboxEntry], turn: Turn) -> None:
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

        def post(target: Target) -> Awaitable[Any]:
            common: dict[str, Any] = {
                "chat_id": target.chat_id,
                "message_thread_id": target.message_thread_id,
                "caption": caption or None,
            }
            file = InputFile(content, filename=attachment.name)
            if attachment.kind == Attachment.Kind.IMAGE:
                return self.bot.send_photo(photo=file, **common)
            if attachment.content_type == "audio/ogg":
                return self.bot.send_voice(voice=file, **common)
            if attachment.kind == Attachment.Kind.AUDIO:
                return self.bot.send_audio(audio=file, **common)
            return self.bot.send_document(document=file, **common)

        async def send(target: Target) -> list[int]:
            sent = await turn.call(lambda: post(target))
            return [sent.message_id]

        sent_ids = await self.topics.to_thread_place(thread, turn, send)
        if extra_text:
            sent_ids += await self._send_text(thread, extra_text, turn)
        await run_in_db(
            _record_delivery,
            chat_id=self.chat_id,
            thread_id=thread.pk,
            telegram_message_ids=sent_ids,
            message_id=message.pk,
            entry_ids=[entry.pk],
            delivered_up_to=ticks.visitor_up_to([message]),
        )

    async def _send_thread_event(self, batch: list[OutboxEntry], turn: Turn) -> None:
        """Closed or reopened (the last of a run of them is what holds). In a forum
        the topic is closed or reopened (Telegram shows that in the topic); in a
        plain group one line says so."""
        thread = batch[0].thread
        closed = batch[-1].kind == OutboxEntry.Kind.THREAD_CLOSED
        sent: list[int] = []
        if self.is_forum:
            await self.topics.set_closed(thread, closed, turn)
        else:
            text = (
                _("Conversation #%(id)s closed.")
                if closed
                else _("Conversation #%(id)s reopened.")
            ) % {"id": thread.pk}
            sent = await self._send_text(thread, "ℹ️ " + text, turn)
        await self._record_rows(batch, sent)

    async def _send_rating(self, batch: list[OutboxEntry], turn: Turn) -> None:
        """The visitor's rating, one line in the thread's place."""
        thread = batch[0].thread
        text = await database_sync_to_async(rating_text)(
            thread.pk, is_forum=self.is_forum
        )
        sent = await self._send_text(thread, text, turn) if text else []
        await self._record_rows(batch, sent)

    async def _send_note(self, batch: list[OutboxEntry], turn: Turn) -> None:
        """A private note, or its mentions (telegram_bridge.notes)."""
        entry = batch[0]
        sent = await send_note(self, entry, turn)
        await self._record_rows(batch, sent)

    async def _record_rows(self, batch: list[OutboxEntry], sent: list[int]) -> None:
        """Rows of one thread that carried no message of its own, delivered."""
        await database_sync_to_async(_record_delivery)(
            chat_id=self.chat_id,
            thread_id=batch[0].thread_id,
            telegram_message_ids=sent,
            message_id=None,
            entry_ids=[entry.pk for entry in batch],
        )


def text_batch(rows: list[OutboxEntry]) -> list[OutboxEntry]:
    """The leading text messages that fit in one Telegram message (at least one)."""
    batch = [rows[0]]
    for entry in rows[1:]:
        if entry.kind != OutboxEntry.Kind.MESSAGE or has_file(entry):
            break
        messages = [e.message for e in [*batch, entry] if e.message is not None]
        if combined_length(messages, entry.thread) > TEXT_LIMIT:
            break
        batch.append(entry)
    return batch


def _record_delivery(
    *,
    chat_id: int,
    thread_id: int,
    telegram_message_ids: list[int],
    message_id: int | None,
    entry_ids: list[int],
    delivered_up_to: int | None = None,
) -> None:
    with transaction.atomic():
        services.link_messages(
            chat_id=chat_id,
            telegram_message_ids=telegram_message_ids,
            thread_id=thread_id,
            message_ids=[message_id] * len(telegram_message_ids),
            direction=MessageLink.Direction.OUT,
        )
        chat_services.complete_outbox(entry_ids=entry_ids)
        if delivered_up_to:  # the visitor's ✓✓: it reached the operators
            chat_services.mark_delivered(thread_id=thread_id, up_to=delivered_up_to)


def has_file(entry: OutboxEntry) -> bool:
    return entry.message is not None and entry.message.attachment_id is not None


def _read_file(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()
