"""Operators' replies to a visitor's own Telegram chat ("Continue in Telegram"):
the outbox rows of channel ``TELEGRAM_VISITOR_CHANNEL`` (one per operator message,
written with it), in order per conversation, paced like every call of the bridge.

Each conversation's rows are looked at when due: without a linked, verified chat
they are dropped (most visitors never link one); a reply the visitor already read
is skipped; while the visitor's page is open (``chat.presence``: a socket of theirs
is connected) they are looked at again every ``RECHECK`` seconds; once it is
closed, what is still unread is sent. A row is done only after Telegram accepted
it (no loss: a crash in between sends it again); a failure is waited out, tried
again with back-off or given up as in ``telegram_bridge.outbox``. A visitor who
blocked the bot is unlinked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from telegram import Bot, InputFile
from telegram.error import Forbidden, TelegramError

from chat import presence
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import Attachment, OutboxEntry
from chat.services.outbox import postpone_outbox
from telegram_bridge import visitor_selectors, visitor_services
from telegram_bridge.errors import Verdict, classify, describe
from telegram_bridge.outbox import LONG_WAIT, MAX_ATTEMPTS, backoff
from telegram_bridge.pacer import Pacer, Turn
from telegram_bridge.render import CAPTION_LIMIT, split_text, utf16_len
from telegram_bridge.visitor_handlers import language_of

logger = logging.getLogger(__name__)

RECHECK = 20.0  # seconds between looks at a conversation whose visitor is on the page


@dataclass(frozen=True, slots=True)
class Plan:
    """What to send now to a visitor's private chat."""

    user_id: int
    language: str
    entries: list[OutboxEntry]


def channel() -> str:
    return str(settings.TELEGRAM_VISITOR_CHANNEL)


def plan_thread(thread_id: int) -> Plan | None:
    """Decide on a conversation's due rows (dropped, skipped, postponed), and
    return those to send now, if any."""
    rows = chat_selectors.list_pending_outbox(channel=channel(), thread_id=thread_id)
    if not rows:
        return None
    thread = rows[0].thread
    chat = visitor_selectors.get_verified_chat_of_visitor(visitor_id=thread.visitor_id)
    if chat is None:
        chat_services.drop_outbox(entry_ids=[row.pk for row in rows])
        return None
    read = [row for row in rows if (row.message_id or 0) <= thread.visitor_read_up_to]
    if read:
        chat_services.skip_outbox(
            entry_ids=[row.pk for row in read], note="read on the page"
        )
    unread = [row for row in rows if row not in read]
    if not unread:
        return None
    if presence.is_online(presence.visitor_key(thread_id)):
        postpone_outbox(
            entry_id=unread[0].pk,
            note="the visitor is on the page",
            delay_seconds=RECHECK,
        )
        return None
    return Plan(chat.telegram_user_id, chat.language_code, unread)


class VisitorDelivery:
    """``deliver_next`` is one step: one conversation's due rows."""

    def __init__(
        self,
        bot: Bot,
        *,
        pacer: Pacer,
        on_error: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.bot = bot
        self.pacer = pacer
        self.on_error = on_error

    async def deliver_next(self) -> bool:
        """False when nothing was due. Raises nothing Telegram answers."""
        heads = await database_sync_to_async(chat_selectors.list_outbox_heads)(
            channel=channel()
        )
        now = timezone.now()
        for head in heads:
            if head.next_attempt_at > now:
                continue
            plan = await database_sync_to_async(plan_thread)(head.thread_id)
            if plan is None:
                return True
            if self.pacer.ready_in(plan.user_id) > LONG_WAIT:
                continue
            await self._send(plan)
            return True
        return False

    async def _send(self, plan: Plan) -> None:
        async with self.pacer.turn(plan.user_id) as turn:
            for entry in plan.entries:
                try:
                    with translation.override(language_of(plan.language)):
                        await self._send_one(plan.user_id, entry, turn)
                except TelegramError as exc:
                    await self._failed(plan, entry, exc)
                    return
                except Exception as exc:  # a bug or the storage: never wedge
                    logger.exception("visitor delivery %s failed", entry.pk)
                    await database_sync_to_async(chat_services.retry_outbox)(
                        entry_id=entry.pk,
                        error=f"{type(exc).__name__}: {exc}",
                        delay_seconds=backoff(entry.attempts + 1),
                    )
                    return
                await database_sync_to_async(chat_services.complete_outbox)(
                    entry_ids=[entry.pk]
                )

    async def _send_one(self, user_id: int, entry: OutboxEntry, turn: Turn) -> None:
        message = entry.message
        if message is None:
            return
        name = message.author_name or _("Support")
        text = f"{name}: {message.body}".strip() if message.body.strip() else ""
        attachment = message.attachment
        if attachment is None:
            for part in split_text(text or name):

                def post(part: str = part) -> Awaitable[Any]:
                    return self.bot.send_message(chat_id=user_id, text=part)

                await turn.call(post)
            return
        content = await sync_to_async(_read_file)(attachment)
        caption, rest = (text or name), ""
        if utf16_len(caption) > CAPTION_LIMIT:
            caption, rest = name, text
        await turn.call(
            lambda: _send_file(self.bot, user_id, attachment, content, caption)
        )
        for part in split_text(rest) if rest else []:

            def post_rest(part: str = part) -> Awaitable[Any]:
                return self.bot.send_message(chat_id=user_id, text=part)

            await turn.call(post_rest)

    async def _failed(self, plan: Plan, entry: OutboxEntry, exc: TelegramError) -> None:
        error = describe(exc, chat_id=plan.user_id)
        if self.on_error is not None:
            await self.on_error(f"visitor delivery: {error}")
        if isinstance(exc, Forbidden):  # the visitor blocked the bot, or left
            await database_sync_to_async(visitor_services.stop_chat)(
                telegram_user_id=plan.user_id
            )
            await database_sync_to_async(chat_services.skip_outbox)(
                entry_ids=[e.pk for e in plan.entries], note=error
            )
            return
        verdict = classify(exc)
        if verdict is Verdict.WAIT:
            await database_sync_to_async(chat_services.note_outbox_wait)(
                entry_id=entry.pk, error=error
            )
        elif verdict is Verdict.REFUSED or entry.attempts + 1 >= MAX_ATTEMPTS:
            await database_sync_to_async(chat_services.fail_outbox)(
                entry_ids=[entry.pk], error=error
            )
        else:
            await database_sync_to_async(chat_services.retry_outbox)(
                entry_id=entry.pk,
                error=error,
                delay_seconds=backoff(entry.attempts + 1),
            )


def _send_file(
    bot: Bot, user_id: int, attachment: Attachment, content: bytes, caption: str
) -> Awaitable[Any]:
    common: dict[str, Any] = {"chat_id": user_id, "caption": caption or None}
    file = InputFile(content, filename=attachment.name)
    if attachment.kind == Attachment.Kind.IMAGE:
        return bot.send_photo(photo=file, **common)
    if attachment.content_type == "audio/ogg":
        return bot.send_voice(voice=file, **common)
    if attachment.kind == Attachment.Kind.AUDIO:
        return bot.send_audio(audio=file, **common)
    return bot.send_document(document=file, **common)


def _read_file(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()
