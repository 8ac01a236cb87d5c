"""The bridge process: wiring (``build_application``) and its loops.

One bridge polls at a time (a lease in the database). It runs four loops: inbound
updates (our own long polling: the offset is stored with each update's effects),
outbound deliveries (the outbox), visitor state mirrored from the channel layer
(typing, read, leaving), and the lease with its heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import (
    Audio,
    Bot,
    Document,
    PhotoSize,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
    Voice,
)
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from chat import events, hub, presence
from telegram_bridge import handlers, selectors, services
from telegram_bridge.outbox import OutboxDelivery, Pause, _seconds, sleep_until

logger = logging.getLogger(__name__)

POLL_TIMEOUT = 25
OUTBOX_IDLE = 2.0
ALLOWED_UPDATES = ["message", "edited_message"]
READ_REACTION = "👀"


def build_application(
    *,
    token: str,
    chat_id: int,
    base_url: str = "https://api.telegram.org",
    owner: str | None = None,
    poll_timeout: int = POLL_TIMEOUT,
) -> Bridge:
    """A bridge for this bot and operator chat. ``base_url`` is the Bot API server
    (``TELEGRAM_API_URL``; the tests point it at a fake one on 127.0.0.1)."""
    base = base_url.rstrip("/")
    bot = Bot(
        token=token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(
            connection_pool_size=8, read_timeout=20, connect_timeout=10
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=1, connect_timeout=10),
    )
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return Bridge(bot, chat_id=chat_id, owner=owner, poll_timeout=poll_timeout)


class Bridge:
    def __init__(
        self, bot: Bot, *, chat_id: int, owner: str, poll_timeout: int
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.owner = owner
        self.poll_timeout = poll_timeout
        self.is_forum = False
        self.bot_id = 0
        self.bot_username = ""
        self.lease_seconds = float(settings.TELEGRAM_LEASE_SECONDS)
        self._wake_outbox = asyncio.Event()
        self._last_error: str | None = None

    # --- Running -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (SIGTERM) or the lease is lost."""
        if not await self._wait_for_lease(stop):
            return
        try:
            await self.bot.initialize()
            me = await self.bot.get_me()
            chat = await self.bot.get_chat(self.chat_id)
            self.bot_id, self.bot_username = me.id, me.username or ""
            self.is_forum = bool(getattr(chat, "is_forum", False))
            await database_sync_to_async(services.record_bot)(
                bot_username=self.bot_username, chat_is_forum=self.is_forum
            )
            logger.info(
                "bridge running as @%s for chat %s (%s)",
                self.bot_username,
                self.chat_id,
                "forum topics" if self.is_forum else "replies",
            )
            loops = [
                asyncio.create_task(self._poll_loop(stop), name="telegram-poll"),
                asyncio.create_task(self._outbox_loop(stop), name="telegram-outbox"),
                asyncio.create_task(self._layer_loop(stop), name="telegram-layer"),
                asyncio.create_task(self._lease_loop(stop), name="telegram-lease"),
            ]
            stopper = asyncio.create_task(stop.wait())
            done, _pending = await asyncio.wait(
                [*loops, stopper], return_when=asyncio.FIRST_COMPLETED
            )
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
        finally:
            await database_sync_to_async(services.release_lease)(owner=self.owner)
            try:
                await self.bot.shutdown()
            except Exception:  # noqa: S110 - closing a client that failed to start
                pass
            logger.info("bridge stopped")

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
            await sleep_until(time.monotonic() + self.lease_seconds / 6, stop)
        return False

    async def _lease_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await sleep_until(time.monotonic() + self.lease_seconds / 3, stop)
            if stop.is_set():
                return
            if not await database_sync_to_async(services.acquire_lease)(
                owner=self.owner, ttl_seconds=self.lease_seconds
            ):
                raise services.LeaseLost(self.owner)

    # --- Inbound -----------------------------------------------------------------

    async def _poll_loop(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            offset = await database_sync_to_async(selectors.get_offset)()
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
                failures = 0
            except RetryAfter as exc:
                await sleep_until(time.monotonic() + _seconds(exc.retry_after), stop)
                continue
            except (TimedOut, NetworkError, TelegramError) as exc:
                failures += 1
                await self._note_error(f"getUpdates: {exc}")
                await sleep_until(time.monotonic() + min(30.0, 2.0**failures), stop)
                continue
            for update in updates:
                if update.update_id < offset:
                    continue  # already applied (a duplicate delivery)
                try:
                    await self._apply(update)
                except (TimedOut, NetworkError) as exc:
                    # Fetching the update's file failed: not applied, offset kept,
                    # so the same update comes again on the next poll.
                    failures += 1
                    await self._note_error(f"file download: {exc}")
                    await sleep_until(time.monotonic() + min(30.0, 2.0**failures), stop)
                    break

    async def _apply(self, update: Update) -> None:
        context = handlers.Context(
            owner=self.owner,
            chat_id=self.chat_id,
            is_forum=self.is_forum,
            bot_id=self.bot_id,
            bot_username=self.bot_username,
        )
        download = await self._prefetch(update)
        try:
            outcome, sent = await database_sync_to_async(events.call_collecting)(
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
            await database_sync_to_async(_skip)(
                owner=self.owner, update_id=update.update_id
            )
            return
        await events.send_events(sent)
        if outcome.availability_changed:
            online = await database_sync_to_async(presence.is_online)(
                presence.OPERATORS
            )
            await events.broadcast_now(
                events.VISITORS_GROUP,
                {"type": events.PRESENCE, "operators_online": online},
            )
        for reply in outcome.replies:
            await self._say(reply)
        self._wake_outbox.set()

    async def _prefetch(self, update: Update) -> handlers.Download | None:
        """Download the file an operator sent, before the update's transaction.

        A network failure raises (the update is fetched again later); a file that
        cannot be relayed becomes a note for the operator.
        """
        message = update.message
        if message is None or message.chat.id != self.chat_id:
            return None
        found = message.effective_attachment
        if found is None or message.from_user is None:
            return None
        if isinstance(found, tuple | list):  # photo sizes: take the largest
            found = found[-1] if found else None
        name = _file_name(found)
        if name is None or not isinstance(found, PhotoSize | Voice | Audio | Document):
            return handlers.Download(
                None,
                "",
                _("Only photos, voice notes, audio and documents are relayed."),
            )
        size = getattr(found, "file_size", None) or 0
        limit = settings.TELEGRAM_DOWNLOAD_LIMIT_BYTES
        if size > limit:
            return handlers.Download(
                None,
                name,
                _(
                    "This file is too big for the bot to fetch (%(mb)s MB at most); "
                    "it was not sent to the visitor."
                )
                % {"mb": limit // (1024 * 1024)},
            )
        try:
            remote = await self.bot.get_file(found.file_id)
            content = bytes(await remote.download_as_bytearray())
        except BadRequest as exc:
            return handlers.Download(
                None,
                name,
                _("This file could not be fetched from Telegram.")
                + f" ({exc.message})",
            )
        return handlers.Download(content, name)

    async def _say(self, reply: handlers.Reply) -> None:
        try:
            await self.bot.send_message(
                chat_id=reply.chat_id,
                text=reply.text,
                message_thread_id=reply.message_thread_id,
                reply_parameters=(
                    ReplyParameters(reply.reply_to, allow_sending_without_reply=True)
                    if reply.reply_to
                    else None
                ),
                disable_notification=reply.silent,
            )
        except TelegramError as exc:
            logger.warning("bot reply not sent: %s", exc)

    # --- Outbound ----------------------------------------------------------------

    async def _outbox_loop(self, stop: asyncio.Event) -> None:
        delivery = OutboxDelivery(
            self.bot, chat_id=self.chat_id, is_forum=self.is_forum
        )
        last_beat = 0.0
        while not stop.is_set():
            self._wake_outbox.clear()
            pause = 0.0
            backlog = 0
            try:
                backlog = await delivery.deliver_pending()
            except Pause as exc:
                pause = exc.seconds
                await self._note_error(f"rate limited by Telegram for {pause:.0f}s")
            now = time.monotonic()
            if now - last_beat > 5 or self._last_error is not None:
                await database_sync_to_async(services.record_heartbeat)(
                    backlog=backlog, error=self._last_error
                )
                self._last_error = None
                last_beat = now
            if pause:
                await sleep_until(time.monotonic() + pause, stop)
                continue
            try:
                await asyncio.wait_for(self._wake_outbox.wait(), timeout=OUTBOX_IDLE)
            except TimeoutError:
                pass

    async def _note_error(self, text: str) -> None:
        logger.warning("%s", text)
        self._last_error = text

    # --- Visitor state from the channel layer --------------------------------------

    async def _layer_loop(self, stop: asyncio.Event) -> None:
        # The operators' group reaches a process through its hub (chat.hub), as
        # for the inbox's sockets.
        the_hub = hub.get_hub(DEFAULT_CHANNEL_LAYER)
        if the_hub is None:  # no channel layer configured: nothing to mirror
            await stop.wait()
            return
        inbox = hub.Inbox()
        await the_hub.join(events.OPERATORS_GROUP, inbox)
        try:
            while not stop.is_set():
                event = await inbox.get()
                try:
                    await self._on_layer_event(event)
                except Exception:
                    logger.exception("visitor state not mirrored to Telegram")
        finally:
            the_hub.leave(events.OPERATORS_GROUP, inbox)

    async def _on_layer_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == events.MESSAGES:
            self._wake_outbox.set()
        elif (
            kind == events.TYPING
            and event.get("author") == "visitor"
            and event.get("active")
        ):
            target = await self._topic_of(event["thread"])
            if target is not None:
                await self.bot.send_chat_action(
                    chat_id=self.chat_id,
                    action=ChatAction.TYPING,
                    message_thread_id=target,
                )
        elif kind == events.READ and event.get("by") == "visitor":
            await self._react_to_read(event["thread"], event["up_to"])
        elif kind == events.PRESENCE and event.get("visitor_online") is False:
            target = await self._topic_of(event["thread"])
            if target is not None:
                with translation.override(settings.LANGUAGE_CODE):
                    text = _("The visitor left the page.")
                await self.bot.send_message(
                    chat_id=self.chat_id,
                    text="· " + text,
                    message_thread_id=target,
                    disable_notification=True,
                )

    async def _topic_of(self, thread_id: int) -> int | None:
        """The topic of a thread that already has one (state is not worth a topic)."""
        if not self.is_forum:
            return None
        topic = await database_sync_to_async(_topic_for_thread)(
            chat_id=self.chat_id, thread_id=thread_id
        )
        return topic

    async def _react_to_read(self, thread_id: int, up_to: int) -> None:
        links = await database_sync_to_async(selectors.list_unreacted_operator_links)(
            thread_id=thread_id, up_to=up_to
        )
        done = []
        for link in links:
            try:
                await self.bot.set_message_reaction(
                    chat_id=link.chat_id,
                    message_id=link.telegram_message_id,
                    reaction=[ReactionTypeEmoji(READ_REACTION)],
                )
            except TelegramError as exc:
                logger.info("read reaction not set: %s", exc)
            done.append(link.pk)
        if done:
            await database_sync_to_async(services.mark_reacted)(link_ids=done)


def _topic_for_thread(*, chat_id: int, thread_id: int) -> int | None:
    from chat.models import Thread

    visitor_id = (
        Thread.objects.filter(pk=thread_id).values_list("visitor_id", flat=True).first()
    )
    if visitor_id is None:
        return None
    topic = selectors.get_topic(chat_id=chat_id, visitor_id=visitor_id)
    return topic.message_thread_id if topic else None


def _skip(*, owner: str, update_id: int) -> None:
    services.advance_offset(owner=owner, update_id=update_id)


def _file_name(found: object) -> str | None:
    """A name for a relayed Telegram file (its own when it has one)."""
    if isinstance(found, PhotoSize):
        return "photo.jpg"
    if isinstance(found, Voice):
        return "voice-note.ogg"
    if isinstance(found, Audio | Document):
        return found.file_name or ("audio" if isinstance(found, Audio) else "file")
    return None
