"""Outbound: chat.OutboxEntry rows of the "telegram" channel, in order per thread,
paced under Telegram's limits (``telegram_bridge.pacer``).

``deliver_next`` delivers one thing of one thread: threads take turns, a new one
first; what piled up while the group's budget was short goes as one message. A
failure is waited out, tried again with back-off or given up, by what it means
(``telegram_bridge.errors``); the operators are told, once, of those given up.

A delivery is recorded only after Telegram accepted it: a bridge that dies between
the two sends it again on restart (Telegram may show it twice; nothing is lost).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext
from telegram import Bot
from telegram.error import ChatMigrated, TelegramError

from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import OutboxEntry
from chat.selectors import OutboxHead
from telegram_bridge import selectors, services
from telegram_bridge.errors import Verdict, classify, describe
from telegram_bridge.pacer import Pacer, Turn
from telegram_bridge.sending import Sending, has_file, text_batch
from telegram_bridge.topics import Topics

logger = logging.getLogger(__name__)

CHANNEL = selectors.CHANNEL
NOTE_KINDS = frozenset({OutboxEntry.Kind.NOTE, OutboxEntry.Kind.MENTION})
THREAD_EVENTS = frozenset(
    {OutboxEntry.Kind.THREAD_CLOSED, OutboxEntry.Kind.THREAD_REOPENED}
)
MAX_ATTEMPTS = 8
BACKOFF_CAP = 300.0
# A wait longer than this is not waited inside a step: the loop idles meanwhile.
LONG_WAIT = 2.0
# When the group's budget is short of the threads waiting, a thread whose visitor is
# still writing waits until they pause this long (what they write meanwhile goes in
# the same message), but no longer than HOLD_AT_MOST after its first message waited.
SETTLE = 2.0
HOLD_AT_MOST = 12.0


def backoff(attempts: int) -> float:
    """Seconds before try number ``attempts + 1``: doubling, capped, jittered."""
    return min(BACKOFF_CAP, 2.0**attempts) * random.uniform(0.5, 1.0)  # noqa: S311


class OutboxDelivery(Sending):
    """The outbox of one operator chat; ``deliver_next`` is one step."""

    def __init__(
        self,
        bot: Bot,
        *,
        chat_id: int,
        is_forum: bool,
        pacer: Pacer,
        on_error: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.is_forum = is_forum
        self.pacer = pacer
        self.on_error = on_error
        self._served: dict[int, int] = {}
        # thread -> (first and last pending ids, when first seen, when last changed)
        self._seen: dict[int, tuple[int, int, float, float]] = {}
        self._turns = itertools.count()
        self.topics = Topics(bot, chat_id=chat_id, is_forum=is_forum)
        self._tell_failures = True
        self._tell_failures_after = 0.0
        self._told: set[str] = set()

    def request_rename(self, thread_id: int) -> None:
        """The visitor's name may have changed: check the topic's name."""
        self.topics.request_rename(thread_id)

    async def deliver_next(self) -> bool:
        """Deliver one thing if something is due and the chat can take it soon;
        False when there was nothing to do now. Raises nothing Telegram answers."""
        if self.pacer.ready_in(self.chat_id) > LONG_WAIT:
            return False
        if self._tell_failures and self.pacer.clock.now() >= self._tell_failures_after:
            if await self._tell_of_failures():
                return True
        heads = await self._due_heads()
        if not heads:
            try:
                return await self.topics.rename_next(self.pacer)
            except TelegramError as exc:
                await self._say_once(describe(exc, chat_id=self.chat_id), exc)
                return True
        if not self._settled(heads):
            return False
        async with self.pacer.turn(self.chat_id) as turn:
            await turn.ready()
            heads = self._settled(await self._due_heads())  # what came meanwhile too
            if not heads:
                return True
            head = min(
                heads, key=lambda h: (self._served.get(h.thread_id, -1), h.first_id)
            )
            rows = await database_sync_to_async(chat_selectors.list_pending_outbox)(
                channel=CHANNEL, thread_id=head.thread_id
            )
            if rows:
                with translation.override(settings.LANGUAGE_CODE):
                    await self._serve(rows, turn)
        if len(self._served) > 10_000:
            self._served.clear()  # only the order matters; start it over
        self._served[head.thread_id] = next(self._turns)
        return True

    async def backlog(self) -> int:
        return await database_sync_to_async(chat_selectors.count_pending_outbox)(
            channel=CHANNEL
        )

    async def _due_heads(self) -> list[OutboxHead]:
        heads = await database_sync_to_async(chat_selectors.list_outbox_heads)(
            channel=CHANNEL
        )
        now = timezone.now()
        return [head for head in heads if head.next_attempt_at <= now]

    def _settled(self, heads: list[OutboxHead]) -> list[OutboxHead]:
        """The threads to serve now: all of them while the budget lasts, else those
        whose visitor paused (or that waited long enough)."""
        now = self.pacer.clock.now()
        seen = {}
        for head in heads:
            first, last, since, changed = self._seen.get(
                head.thread_id, (0, 0, now, now)
            )
            if first != head.first_id:
                since = changed = now
            elif last != head.last_id:
                changed = now
            seen[head.thread_id] = (head.first_id, head.last_id, since, changed)
        self._seen = seen
        if self.pacer.budget(self.chat_id) >= len(heads):
            return heads
        return [
            head
            for head in heads
            if now - seen[head.thread_id][3] >= SETTLE
            or now - seen[head.thread_id][2] >= HOLD_AT_MOST
        ]

    # --- One step ----------------------------------------------------------------

    async def _serve(self, rows: list[OutboxEntry], turn: Turn) -> None:
        head = rows[0]
        send: Callable[[list[OutboxEntry], Turn], Awaitable[None]]
        if head.kind == OutboxEntry.Kind.RATING:
            batch, send = [head], self._send_rating
        elif head.kind in NOTE_KINDS:
            batch, send = [head], self._send_note
        elif head.kind != OutboxEntry.Kind.MESSAGE:
            batch = list(itertools.takewhile(lambda r: r.kind in THREAD_EVENTS, rows))
            send = self._send_thread_event
        elif has_file(head):
            batch, send = [head], self._send_file_message
        else:
            batch, send = text_batch(rows), self._send_messages
        try:
            await send(batch, turn)
        except TelegramError as exc:
            await self._failed(batch, exc, classify(exc))
        except Exception as exc:  # a bug or the storage: never wedge the bridge
            logger.exception("telegram delivery %s failed", head.pk)
            await self._failed(batch, exc, Verdict.RETRY)

    async def _failed(
        self, batch: list[OutboxEntry], exc: Exception, verdict: Verdict
    ) -> None:
        head = batch[0]
        ids = [entry.pk for entry in batch]
        error = (
            describe(exc, chat_id=self.chat_id)
            if isinstance(exc, TelegramError)
            else f"{type(exc).__name__}: {exc}"
        )
        await self._say_once(error, exc)
        if verdict is Verdict.WAIT:
            await database_sync_to_async(chat_services.note_outbox_wait)(
                entry_id=head.pk, error=error
            )
            return
        attempts = head.attempts + 1
        if verdict is Verdict.REFUSED or attempts >= MAX_ATTEMPTS:
            logger.warning("telegram delivery %s given up: %s", ids, error)
            await database_sync_to_async(chat_services.fail_outbox)(
                entry_ids=ids, error=error
            )
            self._tell_failures = True
            return
        delay = 0.0 if verdict is Verdict.TOPIC_GONE else backoff(attempts)
        await database_sync_to_async(chat_services.retry_outbox)(
            entry_id=head.pk, error=error, delay_seconds=delay
        )
        if verdict is Verdict.CHAT:
            self.pacer.hold(self.chat_id, delay)

    async def _say_once(self, error: str, exc: Exception) -> None:
        """Log a failure (what the site owner must set, once, as an error) and pass
        it on to the heartbeat."""
        if isinstance(exc, ChatMigrated) and error not in self._told:
            self._told.add(error)
            logger.error("%s", error)
        if self.on_error is not None:
            await self.on_error(f"delivery: {error}")
        else:
            logger.warning("telegram delivery failed: %s", error)

    # --- Telling the operators of failures ----------------------------------------

    async def _tell_of_failures(self) -> bool:
        """Post, once, how many deliveries failed since the operators were last told
        (with a link to them in the admin). True when a call was made."""
        checked_at = timezone.now()
        state = await database_sync_to_async(selectors.get_state)()
        count = await database_sync_to_async(chat_selectors.count_failed_outbox)(
            channel=CHANNEL, since=state.failures_told_at if state else None
        )
        if not count:
            self._tell_failures = False
            return False
        with translation.override(settings.LANGUAGE_CODE):
            text = "⚠️ " + ngettext(
                "%(count)d message could not be delivered here. It is listed in "
                "the admin: %(url)s",
                "%(count)d messages could not be delivered here. They are listed "
                "in the admin: %(url)s",
                count,
            ) % {"count": count, "url": failed_deliveries_url()}
        try:
            await self.pacer.call(
                self.chat_id,
                lambda: self.bot.send_message(chat_id=self.chat_id, text=text),
                attempts=1,
            )
        except TelegramError as exc:
            error = describe(exc, chat_id=self.chat_id)
            await self._say_once(error, exc)
            delay = backoff(3)
            if classify(exc) is Verdict.CHAT:
                self.pacer.hold(self.chat_id, delay)
            self._tell_failures_after = self.pacer.clock.now() + delay
            return True
        await database_sync_to_async(services.record_failures_told)(at=checked_at)
        self._tell_failures = False
        return True


def failed_deliveries_url() -> str:
    """The admin's list of the deliveries to Telegram that failed."""
    path = reverse("admin:chat_outboxentry_changelist")
    query = f"?channel__exact={CHANNEL}&status__exact={OutboxEntry.Status.FAILED}"
    return f"{settings.SOHBET_PUBLIC_URL}{path}{query}"
