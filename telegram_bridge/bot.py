"""The bridge process: wiring (``build_application``), start-up and shut-down.

One bridge polls at a time (a lease in the database). Once Telegram has said who
the bot is and what the chat is, it runs its loops (``telegram_bridge.loops``);
every call to a chat goes through one pacer (``telegram_bridge.pacer``). Nothing
Telegram answers stops the bridge; only a configuration the site owner must change
stops it at start-up, with a line saying what to set (``BridgeConfigError``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from telegram_bridge import services
from telegram_bridge.errors import describe, migration_advice
from telegram_bridge.files import FileFetcher
from telegram_bridge.inbound import Inbound
from telegram_bridge.loops import Loops
from telegram_bridge.mirror import Mirror
from telegram_bridge.outbox import OutboxDelivery
from telegram_bridge.pacer import Clock, Limits, Pacer, SystemClock, retry_after_seconds
from telegram_bridge.updates import Context
from telegram_bridge.visitor_outbox import VisitorDelivery

logger = logging.getLogger(__name__)

POLL_TIMEOUT = 25


class BridgeConfigError(Exception):
    """Telegram refuses the configuration: only the site owner can change it."""


def build_application(
    *,
    token: str,
    chat_id: int,
    base_url: str = "https://api.telegram.org",
    owner: str | None = None,
    poll_timeout: int = POLL_TIMEOUT,
    clock: Clock | None = None,
    read_timeout: float = 20,
) -> Bridge:
    """A bridge for this bot and operator chat. ``base_url`` is the Bot API server
    (``TELEGRAM_API_URL``; the tests point it at a fake one on 127.0.0.1)."""
    base = base_url.rstrip("/")
    bot = Bot(
        token=token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(
            connection_pool_size=8, read_timeout=read_timeout, connect_timeout=10
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=1, connect_timeout=10),
    )
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return Bridge(
        bot, chat_id=chat_id, owner=owner, poll_timeout=poll_timeout, clock=clock
    )


class Bridge(Loops):
    def __init__(
        self,
        bot: Bot,
        *,
        chat_id: int,
        owner: str,
        poll_timeout: int,
        clock: Clock | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.owner = owner
        self.poll_timeout = poll_timeout
        self.clock = clock or SystemClock()
        self.pacer = Pacer(Limits.from_settings(), self.clock)
        self.is_forum = False
        self.bot_id = 0
        self.bot_username = ""
        self.lease_seconds = float(settings.TELEGRAM_LEASE_SECONDS)
        self._wake_outbox = asyncio.Event()
        self._last_error = None
        self.configure(bot_id=0, bot_username="", is_forum=False)

    def configure(self, *, bot_id: int, bot_username: str, is_forum: bool) -> None:
        """Wire the parts for what Telegram said of the bot and the chat."""
        self.bot_id, self.bot_username, self.is_forum = bot_id, bot_username, is_forum
        common: dict[str, Any] = {"chat_id": self.chat_id, "is_forum": is_forum}
        self.delivery = OutboxDelivery(
            self.bot, pacer=self.pacer, on_error=self._note_error, **common
        )
        self.visitors = VisitorDelivery(
            self.bot, pacer=self.pacer, on_error=self._note_error
        )
        self.files = FileFetcher(
            self.bot, chat_id=self.chat_id, clock=self.clock, on_error=self._note_error
        )
        self.mirror = Mirror(
            self.bot,
            pacer=self.pacer,
            leave_after=float(settings.TELEGRAM_LEAVE_NOTE_SECONDS),
            on_messages=self.wake_outbox,
            on_rename=self._rename,
            **common,
        )
        self.inbound = Inbound(
            self.bot,
            context=Context(
                owner=self.owner,
                chat_id=self.chat_id,
                is_forum=is_forum,
                bot_id=bot_id,
                bot_username=bot_username,
            ),
            poll_timeout=self.poll_timeout,
            pacer=self.pacer,
            files=self.files,
            on_error=self._note_error,
            on_applied=self.wake_outbox,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (SIGTERM) or the lease is lost. Raises
        BridgeConfigError when Telegram refuses the token or the chat."""
        if not await self._wait_for_lease(stop):
            return
        try:
            if not await self.connect(stop):
                return
            logger.info(
                "bridge running as @%s for chat %s (%s)",
                self.bot_username,
                self.chat_id,
                "forum topics" if self.is_forum else "replies",
            )
            await self._run_loops(stop)
        finally:
            self.mirror.close()
            await database_sync_to_async(services.release_lease)(owner=self.owner)
            try:
                await self.bot.shutdown()
            except Exception:  # noqa: S110 - closing a client that failed to start
                pass
            logger.info("bridge stopped")

    async def connect(self, stop: asyncio.Event) -> bool:
        """Ask Telegram who the bot is and what the chat is, until it answers."""
        failures = 0
        while not stop.is_set():
            try:
                await self.bot.initialize()
                me = await self.bot.get_me()
                chat = await self.bot.get_chat(self.chat_id)
            except ChatMigrated as exc:
                raise BridgeConfigError(
                    migration_advice(self.chat_id, exc.new_chat_id)
                ) from None
            except (InvalidToken, Forbidden) as exc:
                raise BridgeConfigError(describe(exc, chat_id=self.chat_id)) from None
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    raise BridgeConfigError(
                        f"Telegram knows no chat {self.chat_id} for this bot: check "
                        "TELEGRAM_CHAT_ID and that the bot is a member of the group"
                    ) from None
                failures += 1
                await self._note_error(f"start: {describe(exc, chat_id=self.chat_id)}")
                await self._pause(min(60.0, 2.0**failures), stop)
                continue
            except RetryAfter as exc:
                await self._pause(retry_after_seconds(exc), stop)
                continue
            except TelegramError as exc:
                failures += 1
                await self._note_error(f"start: {describe(exc, chat_id=self.chat_id)}")
                await self._pause(min(60.0, 2.0**failures), stop)
                continue
            self.configure(
                bot_id=me.id,
                bot_username=me.username or "",
                is_forum=bool(getattr(chat, "is_forum", False)),
            )
            await database_sync_to_async(services.record_bot)(
                bot_username=self.bot_username, chat_is_forum=self.is_forum
            )
            return True
        return False
