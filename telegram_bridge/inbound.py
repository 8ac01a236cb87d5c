"""The bridge's inbound part: one getUpdates, then each update in turn: its file
fetched (``telegram_bridge.files``), its effects stored with the offset past it
(``telegram_bridge.handlers``), then the bot's replies sent, paced. Nothing
Telegram answers and no update that fails stops it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _
from telegram import (
    Bot,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import RetryAfter, TelegramError

from realtime import run_in_db
from telegram_bridge import handlers, selectors, services, visitor_selectors
from telegram_bridge.errors import describe
from telegram_bridge.files import Download, FileFetcher
from telegram_bridge.pacer import Pacer, retry_after_seconds
from telegram_bridge.updates import Context, Reply

logger = logging.getLogger(__name__)

# message_reaction: Telegram sends it only when asked for (the visitor's "read").
ALLOWED_UPDATES = ["message", "edited_message", "message_reaction"]


class Inbound:
    """Updates for the bot (the operator chat, visitors' private chats);
    ``poll_once`` is one step."""

    def __init__(
        self,
        bot: Bot,
        *,
        context: Context,
        poll_timeout: int,
        pacer: Pacer,
        files: FileFetcher,
        on_error: Callable[[str], Awaitable[None]],
        on_applied: Callable[[], None],
    ) -> None:
        self.bot = bot
        self.context = context
        self.poll_timeout = poll_timeout
        self.pacer = pacer
        self.files = files
        self.on_error = on_error
        self.on_applied = on_applied
        self._poll_failures = 0

    async def poll_once(self) -> float:
        """One getUpdates, its updates applied. Returns the seconds to wait before
        the next (Telegram's retry_after, or back-off while it fails)."""
        offset = await database_sync_to_async(selectors.get_offset)()
        try:
            updates = await self.bot.get_updates(
                offset=offset,
                timeout=self.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
            )
        except RetryAfter as exc:
            return retry_after_seconds(exc)
        except TelegramError as exc:
            self._poll_failures += 1
            chat_id = self.context.chat_id
            await self.on_error(f"getUpdates: {describe(exc, chat_id=chat_id)}")
            return min(30.0, 2.0**self._poll_failures)
        self._poll_failures = 0
        for update in updates:
            if update.update_id >= offset:  # else already applied (a redelivery)
                await self._apply(update)
        return 0.0

    async def _apply(self, update: Update) -> None:
        try:
            download = await self.files.fetch(
                update, private=await _from_visitor_chat(update)
            )
        except Exception:  # never raised by Telegram's answers; a bug must not wedge
            logger.exception("file of update %s not fetched", update.update_id)
            download = Download(None, "", _("This file could not be relayed."))
        try:
            # What it stores goes to the sockets after (realtime.run_in_db).
            outcome = await run_in_db(
                handlers.handle_update,
                update=update,
                context=self.context,
                download=download,
            )
        except services.LeaseLost:
            raise
        except Exception:
            # A bug must not wedge the bridge on one update forever: skip it, say so.
            logger.exception(
                "update %s could not be applied; skipped", update.update_id
            )
            await database_sync_to_async(services.advance_offset)(
                owner=self.context.owner, update_id=update.update_id
            )
            return
        for reply in outcome.replies:
            await self._say(reply)
        self.on_applied()

    async def _say(self, reply: Reply) -> None:
        """A reply of the bot (to a command, a refused message): paced, a 429
        waited out; not sent after a few tries."""
        try:
            await self.pacer.call(
                reply.chat_id,
                lambda: self.bot.send_message(
                    chat_id=reply.chat_id,
                    text=reply.text,
                    message_thread_id=reply.message_thread_id,
                    reply_parameters=(
                        ReplyParameters(
                            reply.reply_to, allow_sending_without_reply=True
                        )
                        if reply.reply_to
                        else None
                    ),
                    disable_notification=reply.silent,
                    reply_markup=_keyboard(reply),
                ),
            )
        except TelegramError as exc:
            logger.warning(
                "bot reply not sent: %s", describe(exc, chat_id=reply.chat_id)
            )


def _keyboard(
    reply: Reply,
) -> ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if reply.contact_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_button, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    return ReplyKeyboardRemove() if reply.remove_keyboard else None


async def _from_visitor_chat(update: Update) -> bool:
    """The update is a message in the private chat of a visitor who continues in
    Telegram (only theirs have files worth fetching)."""
    message = update.message
    if message is None or message.chat.type != "private":
        return False
    return await database_sync_to_async(visitor_selectors.is_verified_chat)(
        telegram_user_id=message.chat.id
    )
