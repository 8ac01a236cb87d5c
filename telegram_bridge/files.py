"""Files operators send in Telegram, fetched before their update is applied.

Whatever Telegram answers, ``fetch`` returns: a 429 is waited out, the network and
a file path the file server no longer knows (a 404, which python-telegram-bot
reports as ``InvalidToken``) are tried again, a bounded number of times and within
a bounded wait; then the file is given up with a note for the operator, and the
update goes on without it. An update must never stop the bridge.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from telegram import Audio, Bot, Document, PhotoSize, Update, Voice
from telegram.error import (
    BadRequest,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from telegram_bridge.pacer import Clock, retry_after_seconds

logger = logging.getLogger(__name__)

FETCH_ATTEMPTS = 4
FETCH_MAX_WAIT = 60.0  # seconds of waiting for one file, at most


@dataclass(frozen=True, slots=True)
class Download:
    """A file of the update, fetched from Telegram before the transaction."""

    content: bytes | None
    name: str
    problem: str | None = None


class FileFetcher:
    def __init__(
        self,
        bot: Bot,
        *,
        chat_id: int,
        clock: Clock,
        on_error: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.clock = clock
        self.on_error = on_error

    async def fetch(self, update: Update, *, private: bool = False) -> Download | None:
        """The file an operator sent in the operator chat, or (``private``) a visitor
        in their own chat with the bot (None when there is none); a file that cannot
        be relayed comes back with a note for the sender."""
        message = update.message
        if message is None or (message.chat.id != self.chat_id and not private):
            return None
        found = message.effective_attachment
        if found is None or message.from_user is None:
            return None
        if isinstance(found, tuple | list):  # photo sizes: take the largest
            found = found[-1] if found else None
        name = file_name(found)
        if name is None or not isinstance(found, PhotoSize | Voice | Audio | Document):
            return Download(
                None,
                "",
                _("Only photos, voice notes, audio and documents are relayed."),
            )
        size = getattr(found, "file_size", None) or 0
        limit = settings.TELEGRAM_DOWNLOAD_LIMIT_BYTES
        if size > limit:
            return Download(
                None,
                name,
                _(
                    "This file is too big for the bot to fetch (%(mb)s MB at most); "
                    "it was not sent to the visitor."
                )
                % {"mb": limit // (1024 * 1024)},
            )
        return await self._download(found.file_id, name, update.update_id)

    async def _download(self, file_id: str, name: str, update_id: int) -> Download:
        waited = 0.0
        reason = ""
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                remote = await self.bot.get_file(file_id)
                content = bytes(await remote.download_as_bytearray())
                return Download(content, name)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                reason = str(exc)
            except InvalidToken as exc:  # the file server's 404: ask for a new path
                wait, reason = 0.0, f"file server: {exc.message}"
            except BadRequest as exc:  # an invalid file id, a file too big
                reason = exc.message
                break
            except NetworkError as exc:  # timeouts, Telegram's 5xx: may pass
                wait, reason = min(2.0**attempt, 8.0), exc.message
            except TelegramError as exc:  # Forbidden, ChatMigrated...: will not pass
                reason = exc.message
                break
            if attempt == FETCH_ATTEMPTS or waited + wait > FETCH_MAX_WAIT:
                break
            waited += wait
            await self.clock.sleep(wait)
        error = f"file of update {update_id} not fetched: {reason}"
        if self.on_error is not None:
            await self.on_error(error)
        else:
            logger.warning("%s", error)
        return Download(
            None,
            name,
            _(
                "This file could not be fetched from Telegram, so it was not sent to "
                "the visitor. Please send it again."
            ),
        )


def file_name(found: object) -> str | None:
    """A name for a relayed Telegram file (its own when it has one)."""
    if isinstance(found, PhotoSize):
        return "photo.jpg"
    if isinstance(found, Voice):
        return "voice-note.ogg"
    if isinstance(found, Audio | Document):
        return found.file_name or ("audio" if isinstance(found, Audio) else "file")
    return None
