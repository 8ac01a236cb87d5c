"""The bridge process: wiring (``build_application``) and its loops.

One bridge polls at a time (a lease in the database). It runs four loops: inbound
updates (our own long polling: the offset is stored with each update's effects),
outbound deliveries (``telegram_bridge.outbox``), visitor state mirrored from the
channel layer (``telegram_bridge.mirror``), and the lease with its heartbeat. Every
call to a chat goes through one pacer (``telegram_bridge.pacer``).

Nothing Telegram answers stops the bridge: each loop records what failed and goes
on. Only a configuration the site owner must change stops it at start-up, with a
line saying what to set (``BridgeConfigError``).
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
from django.utils.translation import gettext as _
from telegram import (
    Bot,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from chat import events
from realtime import run_in_db, subscribe
from telegram_bridge import handlers, selectors, services, visitor_selectors
from telegram_bridge.errors import describe, migration_advice
from telegram_bridge.files import Download, FileFetcher
from telegram_bridge.mirror import Mirror
from telegram_bridge.outbox import OutboxDelivery
from telegram_bridge.pacer import Clock, Limits, Pacer, SystemClock, retry_after_seconds
from telegram_bridge.visitor_outbox import VisitorDelivery

logger = logging.getLogger(__name__)

POLL_TIMEOUT = 25
OUTBOX_IDLE = 2.0
HEARTBEAT_EVERY = 5.0
# message_reaction: Telegram sends it only when asked for (the visitor's "read").
ALLOWED_UPDATES = ["message", "edited_message", "message_reaction"]


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


class Bridge:
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
        self.clock: Clock = clock or SystemClock()
        self.pacer = Pacer(Limits.from_settings(), self.clock)
        self.is_forum = False
        self.bot_id = 0
        self.bot_username = ""
        self.lease_seconds = float(settings.TELEGRAM_LEASE_SECONDS)
        self._wake_outbox = asyncio.Event()
        self._last_error: str | None = None
        self._poll_failures = 0
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

    # --- Running -----------------------------------------------------------------

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

    async def _run_loops(self, stop: asyncio.Event) -> None:
        loops = [
            asyncio.create_task(self._poll_loop(stop), name="telegram-poll"),
            asyncio.create_task(self.deliver_outbox(stop), name="telegram-outbox"),
            asyncio.create_task(self._layer_loop(stop), name="telegram-layer"),
            asyncio.create_task(self._lease_loop(stop), name="telegram-lease"),
        ]
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([*loops, stopper], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for task in [*loops, stopper]:
            task.cancel()
        results = await asyncio.gather(*loops, return_exceptions=True)
        for result in results:
            if isinstance(result, services.LeaseLost):
                logger.warning("another bridge took over; stopping")
            elif isinstance(result, BaseException) and not isinstance(
                result, asyncio.CancelledError
            ):
                raise result

    async def _wait_for_lease(self, stop: asyncio.Event) -> bool:
        said = False
        while not stop.is_set():
            if await database_sync_to_async(services.acquire_lease)(
                owner=self.owner, ttl_seconds=self.lease_seconds
            ):
                return True
            if not said:
                logger.warning(
                    "another bridge is running; waiting to take over if it stops"
                )
                said = True
            await self._pause(self.lease_seconds / 6, stop)
        return False

    async def _lease_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._pause(self.lease_seconds / 3, stop)
            if stop.is_set():
                return
            if not await database_sync_to_async(services.acquire_lease)(
                owner=self.owner, ttl_seconds=self.lease_seconds
            ):
                raise services.LeaseLost(self.owner)

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        """Wait ``seconds`` on the bridge's clock, or until asked to stop."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    # --- Inbound -----------------------------------------------------------------

    async def _poll_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                delay = await self.poll_once()
            except services.LeaseLost:
                raise
            except Exception as exc:  # the database, a bug: polling goes on
                logger.exception("polling Telegram failed")
                await self._note_error(f"polling: {exc!r}")
                delay = 5.0
            if delay:
                await self._pause(delay, stop)

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
            await self._note_error(f"getUpdates: {describe(exc, chat_id=self.chat_id)}")
            return min(30.0, 2.0**self._poll_failures)
        self._poll_failures = 0
        for update in updates:
            if update.update_id >= offset:  # else already applied (a redelivery)
                await self._apply(update)
        return 0.0

    async def _apply(self, update: Update) -> None:
        context = handlers.Context(
            owner=self.owner,
            chat_id=self.chat_id,
            is_forum=self.is_forum,
            bot_id=self.bot_id,
            bot_username=self.bot_username,
        )
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
                context=context,
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
                owner=self.owner, update_id=update.update_id
            )
            return
        for reply in outcome.replies:
            await self._say(reply)
        self.wake_outbox()

    async def _say(self, reply: handlers.Reply) -> None:
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

    # --- Outbound ----------------------------------------------------------------

    def wake_outbox(self) -> None:
        """Something was queued: deliver it now rather than at the next look."""
        self._wake_outbox.set()

    async def deliver_outbox(self, stop: asyncio.Event) -> None:
        """The outbox loop: deliver what is due, step by step, until ``stop``; look
        again when woken (``wake_outbox``) or every OUTBOX_IDLE seconds."""
        last_beat = float("-inf")
        failures = 0
        while not stop.is_set():
            self._wake_outbox.clear()
            try:
                worked = await self.delivery.deliver_next()
                if settings.TELEGRAM_VISITOR_CHATS:  # visitors' own chats, in turn
                    worked = await self.visitors.deliver_next() or worked
                failures = 0
            except Exception as exc:  # the database, a bug: delivery goes on
                failures += 1
                logger.exception("outbox delivery failed")
                await self._note_error(f"outbox: {exc!r}")
                await self._pause(min(30.0, 2.0**failures), stop)
                continue
            now = self.clock.now()
            if now - last_beat > HEARTBEAT_EVERY or self._last_error is not None:
                await self._heartbeat()
                last_beat = now
            if not worked:
                try:
                    await asyncio.wait_for(
                        self._wake_outbox.wait(), timeout=OUTBOX_IDLE
                    )
                except TimeoutError:
                    pass

    async def _heartbeat(self) -> None:
        try:
            backlog = await self.delivery.backlog()
            await database_sync_to_async(services.record_heartbeat)(
                backlog=backlog, error=self._last_error
            )
            self._last_error = None
        except Exception:
            logger.exception("bridge heartbeat not recorded")

    async def _note_error(self, text: str) -> None:
        logger.warning("%s", text)
        self._last_error = text

    def _rename(self, thread_id: int) -> None:
        self.delivery.request_rename(thread_id)
        self.wake_outbox()

    # --- Visitor state from the channel layer --------------------------------------

    async def _layer_loop(self, stop: asyncio.Event) -> None:
        # The operators' group, heard as the inbox's sockets hear it.
        async with subscribe(events.OPERATORS_GROUP) as inbox:
            if inbox is None:  # no channel layer configured: nothing to mirror
                await stop.wait()
                return
            while not stop.is_set():
                event = await inbox.get()
                try:
                    await self.mirror.on_event(event)
                except Exception:
                    logger.exception("visitor state not mirrored to Telegram")


def _keyboard(
    reply: handlers.Reply,
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
