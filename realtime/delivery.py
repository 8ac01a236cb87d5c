"""How events leave a process: after the transaction that caused them commits, merged,
in one publish to every process's hub (``realtime.hub``).

An event is ``(group, {"type": ..., ...})``. Domain code sends events with
``send_on_commit``, and only the rare event that changes no row (typing, presence)
with ``send_now``. Everything else here is the engine's own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.hub import HUB_EVENTS, HUB_GROUP, MESSAGES, running_hub

logger = logging.getLogger(__name__)

Event = tuple[str, Mapping[str, Any]]  # (group, event)
PROBE_GROUP = "probe"  # nobody joins it (is_layer_available)

_collector = threading.local()


def send_on_commit(*events: Event) -> None:
    """Send ``events``, in order, once the current transaction commits (at once
    outside a transaction). Live delivery is an optimisation: a failure is logged,
    never raised; clients recover from the database."""
    batch = list(events)
    if batch:
        transaction.on_commit(lambda: _emit(batch))


async def send_now(*events: Event) -> None:
    """Send ``events`` now: for what changes no row (typing, presence)."""
    await send(list(events))


def _emit(batch: list[Event]) -> None:
    sink = getattr(_collector, "events", None)
    if sink is not None:
        sink.extend(batch)
        return
    async_to_sync(send)(batch)


@contextmanager
def collecting() -> Iterator[list[Event]]:
    """Collect the events committed inside the block instead of sending them: the
    engine's threads (``realtime.db``, the writer) hand them to the event loop, which
    sends them (no blocking hop back into it from a thread)."""
    events: list[Event] = []
    previous = getattr(_collector, "events", None)
    _collector.events = events
    try:
        yield events
    finally:
        _collector.events = previous


async def send(events: list[Event]) -> None:
    """Send events now: the new messages this process's hub may hand on in order
    handed to it at once, and one publish for all hubs. Logs a layer failure, never
    raises."""
    await publish(deliver_here(events))


def coalesce(events: list[Event]) -> list[Event]:
    """Consecutive message events to the same group merged into one, so that each
    group still receives everything in the order it was committed (events of
    different groups have no order to keep)."""
    merged: list[Event] = []
    last_for_group: dict[str, dict[str, Any]] = {}
    for group, event in events:
        previous = last_for_group.get(group)
        if event["type"] == MESSAGES:
            if previous is not None and previous["type"] == MESSAGES:
                previous["messages"].extend(event["messages"])
                continue
            copy = {**event, "messages": list(event["messages"])}
        else:
            copy = dict(event)
        merged.append((group, copy))
        last_for_group[group] = copy
    return merged


def route(events: list[Event]) -> list[Event]:
    """The events, coalesced, as one event to every process's hub (or none)."""
    merged = coalesce(events)
    if not merged:
        return []
    return [(HUB_GROUP, {"type": HUB_EVENTS, "events": [list(e) for e in merged]})]


def deliver_here(events: list[Event]) -> list[Event]:
    """``route`` the events for ``publish``, the new messages that this process's hub
    may hand on now without getting ahead of their thread (``Hub.in_order``) handed
    to it at once: the hub event names it as their ``origin`` and how many of its
    events it delivered (``here``, the first ones), which it skips when the layer
    brings them back. Everything else goes through the layer, after them."""
    layer = get_channel_layer()
    hub = running_hub(layer) if layer is not None else None
    if hub is None:
        return route(events)
    messages = [
        m for _, event in events if event["type"] == MESSAGES for m in event["messages"]
    ]
    now = hub.in_order(messages) if messages else set()
    if not now:
        return route(events)
    here: list[Event] = []
    later: list[Event] = []
    for group, event in events:
        if event["type"] != MESSAGES:
            later.append((group, event))
            continue
        ready = [m for m in event["messages"] if m["id"] in now]
        if len(ready) == len(event["messages"]):  # the usual case: as it is
            here.append((group, event))
            continue
        waiting = [m for m in event["messages"] if m["id"] not in now]
        if ready:
            here.append((group, {**event, "messages": ready}))
        later.append((group, {**event, "messages": waiting}))
    routed = route(here)
    if routed:
        hub_event = routed[0][1]
        hub.deliver(hub_event)
        routed[0] = (
            HUB_GROUP,
            {**hub_event, "origin": hub.channel_name, "here": len(hub_event["events"])},
        )
    return join_routed(routed, route(later))


def join_routed(first: list[Event], then: list[Event]) -> list[Event]:
    """Two routed lists as one, in order; a hub event right after another joins it
    (one publish for both) when the events its origin delivered stay the first."""
    joined = list(first)
    for group, event in then:
        if group == HUB_GROUP and joined and joined[-1][0] == HUB_GROUP:
            both = _join(joined[-1][1], event)
            if both is not None:
                joined[-1] = (HUB_GROUP, both)
                continue
        joined.append((group, event))
    return joined


def _join(first: Mapping[str, Any], then: Mapping[str, Any]) -> dict[str, Any] | None:
    events = first["events"] + then["events"]
    if not then.get("here"):  # for every hub, its origin's too
        return {**first, "events": events}
    if then.get("origin") == first.get("origin") and first["here"] == len(
        first["events"]
    ):
        return {**first, "events": events, "here": first["here"] + then["here"]}
    return None


async def publish(routed: list[Event]) -> None:
    """Send routed events through the channel layer, one ``group_send`` each. A
    layer failure is logged, never raised (the database is the record)."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in routed:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.warning("channel layer send to %s failed", group, exc_info=True)


async def is_layer_available() -> bool:
    """Whether the channel layer takes a send right now (an event to a group that
    nobody joins)."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(PROBE_GROUP, {"type": "probe"})
    except Exception:
        return False
    return True
