"""One channel-layer subscription per process: its ``Hub`` hears every event once
(``realtime.delivery`` publishes a batch's events as one ``hub.events`` event) and
hands each to the inboxes of the process's sockets in the event's group, in order.
A socket has no channel of its own: no subscription, queue or task per socket, one
publish per batch whatever the number of groups and members.

New messages also reach the storing process's own sockets at once (``deliver`` from
``delivery.deliver_here``), when the hub has handed on the message before each in its
thread (``in_order``); the copy the layer brings back is skipped. Live delivery is an
optimisation: a socket that misses an event finds the ``seq`` gap and syncs.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from channels.layers import DEFAULT_CHANNEL_LAYER, BaseChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

HUB_GROUP = "sohbet.hub"
# How many threads a hub remembers the last message it handed on of (Hub.in_order);
# a thread it forgot sends its next message through the layer, then it knows again.
REMEMBERED_THREADS = 10_000
# {"events": [[group, event], ...], "origin"?: channel, "here"?: how many of the
# events the origin's hub delivered when they were sent (the first ones)}
HUB_EVENTS = "hub.events"
# The one event type the engine reads: its items carry id, thread and seq (in_order).
MESSAGES: Final = "chat.messages"
# Layers may forget a group member after a while (the in-memory layer after a day):
# the hub renews its membership this often.
RENEW_AFTER = 3600.0
# Handlers, by event type, of events sent to one hub's own channel
# (``Hub.address``) rather than to every hub: the HTTP fallback's frames
# (realtime.fallback) reach the process that holds their stream this way.
direct_handlers: dict[str, Callable[[Mapping[str, Any]], None]] = {}


class Mailbox:
    """An ``asyncio.Queue`` without what one reader never uses (a size limit, putters
    waiting, task accounting): one list instead of four deques (an empty deque holds
    a 0.5-KiB block), about 2.5 KiB less for each of thousands of idle sockets
    (docs/performance.md). A socket's backlog is short, so taking from the front of a
    list costs nothing worth a deque. One task at a time gets from it."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("a Mailbox has one reader at a time")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> Any:
        return self._items.pop(0)  # IndexError when empty


class Inbox(Mailbox):
    """What a socket has yet to handle, in order: its client's frames, its layer
    events, the hub's events."""

    __slots__ = ("echoed", "flush")

    def __init__(self) -> None:
        super().__init__()
        # Ids of messages the socket already sent its client itself (the sender's
        # own copy, chat.consumers.VisitorConsumer.send_ack): the hub drops its copy
        # of them instead of waking the socket for nothing.
        self.echoed: dict[int, None] = {}
        # Set by the server (chatsite.server) when frames are waiting to be written:
        # the socket calls it once it has nothing more to handle, and they leave
        # now rather than on the event loop's next turn.
        self.flush: Callable[[], None] | None = None

    def put_event(self, event: Mapping[str, Any]) -> None:
        """``put_nowait`` for the hub's events, less the messages already sent."""
        if self.echoed and event.get("type") == MESSAGES:
            messages = event.get("messages") or []
            kept = self.not_echoed(messages)
            if not kept:
                return
            if len(kept) != len(messages):
                event = {**event, "messages": kept}
        self.put_nowait(event)

    def not_echoed(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages the socket has not sent itself; the others are forgotten
        (each copy is dropped once)."""
        echoed = self.echoed
        if not echoed:
            return messages
        kept = []
        for message in messages:
            if message.get("id") in echoed:
                del echoed[message["id"]]
            else:
                kept.append(message)
        return kept


class Hub:
    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.members: dict[str, set[Inbox]] = {}
        # thread id -> the highest seq of its messages handed on (least recent first)
        self.handed_on: dict[int, int] = {}
        self.channel_name: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def join(self, group: str, inbox: Inbox) -> None:
        """Deliver ``group``'s events to ``inbox`` from now on. Raises the layer's
        error when the hub cannot subscribe."""
        await self._subscribe()
        self.members.setdefault(group, set()).add(inbox)

    async def address(self) -> str:
        """This hub's own channel, where ``layer.send`` reaches this process only
        (``direct_handlers``). Raises the layer's error when the hub cannot
        subscribe."""
        await self._subscribe()
        return str(self.channel_name)  # set by _subscribe

    def leave(self, group: str, inbox: Inbox) -> None:
        members = self.members.get(group)
        if members is not None:
            members.discard(inbox)
            if not members:
                del self.members[group]

    def deliver(self, event: Mapping[str, Any]) -> None:
        """Hand a ``hub.events`` event's events to the inboxes of their groups."""
        for group, inner in event.get("events", ()):
            if inner.get("type") == MESSAGES:
                self._note(inner.get("messages") or ())
            for inbox in tuple(self.members.get(group, ())):
                inbox.put_event(inner)

    def _note(self, messages: Any) -> None:
        handed_on = self.handed_on
        for message in messages:
            thread, seq = message.get("thread"), message.get("seq")
            if isinstance(seq, int) and seq > handed_on.get(thread, 0):
                handed_on.pop(thread, None)  # the most recent last
                handed_on[thread] = seq
        while len(handed_on) > REMEMBERED_THREADS:
            del handed_on[next(iter(handed_on))]

    def in_order(self, messages: list[dict[str, Any]]) -> set[int]:
        """The ids of the new ``messages`` (payloads, in commit order) this hub may
        hand on now without getting ahead of its thread: the first of a thread, or
        the next after the last it handed on. After one that may not, none of its
        thread may: the earlier may still be on its way from another process."""
        now: set[int] = set()
        last: dict[int, int | None] = {}
        for message in messages:
            thread, seq = message["thread"], message["seq"]
            if message["id"] in now:
                continue
            known = last.get(thread, self.handed_on.get(thread, 0))
            if known is not None and (seq == 1 or known >= seq - 1):
                now.add(message["id"])
                last[thread] = max(known, seq)
            else:
                last[thread] = None
        return now

    async def _subscribe(self) -> None:
        if self._task is not None and not self._task.done():
            return
        async with self._lock:
            if self._task is not None and not self._task.done():
                return
            if self.channel_name is None:
                self.channel_name = await self.layer.new_channel()
            await self.layer.group_add(HUB_GROUP, self.channel_name)
            self._task = asyncio.create_task(
                self._run(self.channel_name), name="sohbet-hub"
            )

    async def _run(self, channel_name: str) -> None:
        renewing = asyncio.create_task(self._renew(channel_name))
        try:
            await self._receive(channel_name)
        finally:
            renewing.cancel()

    async def _renew(self, channel_name: str) -> None:
        """Stay in the group: some layers forget a member after a while (the
        in-memory layer after a day), and the hub lives as long as its process."""
        while True:
            await asyncio.sleep(RENEW_AFTER)
            try:
                await self.layer.group_add(HUB_GROUP, channel_name)
            except Exception as exc:  # the layer away: the next round tries again
                logger.warning("hub could not renew its group: %s", exc)

    async def _receive(self, channel_name: str) -> None:
        while True:
            try:
                event = await self.layer.receive(channel_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the layer's server away: wait, then again
                logger.warning("hub could not receive: %s", exc)
                await asyncio.sleep(1)
                continue
            kind = event.get("type")
            if kind != HUB_EVENTS:
                handler = direct_handlers.get(kind)
            else:
                handler = self.deliver
                if event.get("origin") == channel_name:  # delivered when sent
                    inner = event.get("events", ())
                    rest = inner[event.get("here", len(inner)) :]
                    if not rest:
                        continue
                    event = {"events": rest}
            if handler is None:
                continue
            try:
                handler(event)
            except Exception:  # a malformed event must not stop the hub
                logger.exception("hub could not deliver an event")


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = (
    weakref.WeakKeyDictionary()
)


def running_hub(layer: BaseChannelLayer) -> Hub | None:
    """The running event loop's hub on ``layer`` once it has subscribed (it has
    sockets to deliver to), else None (no loop, no socket yet, a reconfigured
    layer)."""
    try:
        hub = _hubs.get(asyncio.get_running_loop())
    except RuntimeError:
        return None
    if hub is None or hub.layer is not layer or hub.channel_name is None:
        return None
    return hub


def get_hub(alias: str) -> Hub | None:
    """The hub of the running event loop for channel layer ``alias`` (None without a
    layer)."""
    layer = get_channel_layer(alias)
    if layer is None:
        return None
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:  # the layers were reconfigured (tests)
        if hub is not None and hub._task is not None:
            hub._task.cancel()
        hub = _hubs[loop] = Hub(layer)
    return hub


@asynccontextmanager
async def subscribe(*groups: str) -> AsyncIterator[Inbox | None]:
    """An inbox that receives ``groups``' events for as long as the block runs
    (a process's listener that is not a socket: the bridge); None without a channel
    layer. Raises the layer's error when the hub cannot subscribe."""
    hub = get_hub(DEFAULT_CHANNEL_LAYER)
    if hub is None:
        yield None
        return
    inbox = Inbox()
    for group in groups:
        await hub.join(group, inbox)
    try:
        yield inbox
    finally:
        for group in groups:
            hub.leave(group, inbox)
