"""The running bridge's loops: inbound updates (``telegram_bridge.inbound``),
outbound deliveries with the heartbeat, visitor state from the channel layer
(``telegram_bridge.mirror``) and the lease. ``Loops`` is the half of
``telegram_bridge.bot.Bridge`` that runs once it has started. Each loop records
what failed, waits, and goes on; only a lost lease or ``stop`` ends them.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from chat import events
from realtime import subscribe
from telegram_bridge import services
from telegram_bridge.inbound import Inbound
from telegram_bridge.mirror import Mirror
from telegram_bridge.outbox import OutboxDelivery
from telegram_bridge.pacer import Clock
from telegram_bridge.visitor_outbox import VisitorDelivery

logger = logging.getLogger(__name__)

OUTBOX_IDLE = 2.0
HEARTBEAT_EVERY = 5.0


class Loops:
    """The bridge's loops, on the parts ``Bridge.configure`` wires."""

    owner: str
    clock: Clock
    lease_seconds: float
    inbound: Inbound
    delivery: OutboxDelivery
    visitors: VisitorDelivery
    mirror: Mirror
    _wake_outbox: asyncio.Event
    _last_error: str | None

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
        """One getUpdates, its updates applied (``telegram_bridge.inbound``).
        Returns the seconds to wait before the next."""
        return await self.inbound.poll_once()

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
