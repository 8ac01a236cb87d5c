from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telegram_bridge.bot import BridgeConfigError, build_application
from telegram_bridge.pacer import Limits

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the Telegram bridge: every conversation in the operators' Telegram chat, "
        "both ways. Needs TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID and REDIS_URL."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--poll-timeout",
            type=int,
            default=25,
            help="Seconds of Telegram long polling per request (default 25).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather."
            )
        if not settings.TELEGRAM_CHAT_ID:
            raise CommandError(
                "TELEGRAM_CHAT_ID is not set: the id of the operators' group "
                "(see docs/telegram.md)."
            )
        try:
            chat_id = int(settings.TELEGRAM_CHAT_ID)
        except ValueError:
            raise CommandError(
                "TELEGRAM_CHAT_ID must be a number, like -1001234567890."
            ) from None
        try:
            Limits.from_settings()
        except ValueError as exc:
            raise CommandError(
                f"TELEGRAM_RATE_PER_CHAT, _PER_GROUP and _OVERALL are count/seconds, "
                f"like 20/60: {exc}"
            ) from None
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        if "InMemory" in backend:
            raise CommandError(
                "The bridge runs in its own process and needs the channel layer shared "
                "with the web processes: set REDIS_URL (the in-memory layer only "
                "reaches its own process)."
            )
        bridge = build_application(
            token=settings.TELEGRAM_BOT_TOKEN,
            chat_id=chat_id,
            base_url=settings.TELEGRAM_API_URL,
            poll_timeout=options["poll_timeout"],
        )
        try:
            asyncio.run(self._run(bridge))
        except BridgeConfigError as exc:
            logger.error("bridge not started: %s", exc)
            raise CommandError(str(exc)) from None

    async def _run(self, bridge: Any) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await bridge.run(stop)
