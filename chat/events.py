"""Group names, channel-layer event types and the wire payloads.

``broadcast_on_commit`` is the only way a change leaves the process, and this module
is the only caller of ``group_send``. Events queued in one transaction are sent after
it commits; consecutive message events to the same group are sent as one
``chat.messages`` event, and everything for the sockets' shared groups (thread
groups, the visitors', the operators') travels as one event to the processes' hubs
(``realtime.hub``), so a batch of N messages costs one publish rather than one per message
and member.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from realtime.hub import HUB_EVENTS, HUB_GROUP, running_hub
from realtime.hub import MESSAGES as _MESSAGES

if TYPE_CHECKING:
    from chat.models import Attachment, Message, Thread

logger = logging.getLogger(__name__)
T = TypeVar("T")

OPERATORS_GROUP = "operators"
VISITORS_GROUP = "visitors"
PROBE_GROUP = "probe"  # nobody joins it (is_layer_available)

# Channel-layer event types (consumer handler names with "." -> "_").
MESSAGES = _MESSAGES  # "chat.messages": {"messages": [payload, ...]}
THREAD = "chat.thread"  # {"thread": payload}
THREADS = "chat.threads"  # {"threads": [payload, ...]}: THREAD events merged
TYPING = "chat.typing"  # {"thread", "author", "active", "name", "origin"}
READ = "chat.read"  # {"thread", "by", "up_to"}
DELIVERED = "chat.delivered"  # {"thread", "up_to"}
PRESENCE = "chat.presence"  # {"thread"?, "visitor_online"? | "operators_online"?}
SESSION_ENDED = "session.ended"  # the login signed out: the socket is refused
RIGHTS_CHANGED = "rights.changed"  # reconnect: the new socket is checked again
SESSION_ROTATED = "session.rotated"  # {"session": session_group(old key)}: visitors

Event = tuple[str, dict[str, Any]]  # (group, event)


def thread_group(thread_id: int) -> str:
    """The group of a thread's visitor sockets (all their tabs)."""
    return f"thread.{thread_id}"


def session_group(session_key: str) -> str:
    """The group of the operator sockets opened with one login session (its name
    also stands for the session in events: a digest, never the key)."""
    import hashlib

    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def operator_group(user_id: int) -> str:
    """The group of one operator's sockets, in every login session and process."""
    return f"operator.{user_id}"


def iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def message_payload(message: Message) -> dict[str, Any]:
    """The wire form of a message (docs/protocol.md)."""
    return {
        "id": message.pk,
        "thread": message.thread_id,
        "seq": message.seq,
        "client_id": str(message.client_id),
        "author": message.author,
        "author_name": message.author_name,
        "body": message.body,
        "created": iso(message.created_at),
        "source": message.source,
        "edited": iso(message.edited_at),
        "attachment": (
            attachment_payload(message.attachment) if message.attachment else None
        ),
    }


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    """The wire form of an attachment; its URL is permission-checked by the server."""
    payload: dict[str, Any] = {
        "id": attachment.pk,
        "kind": attachment.kind,
        "url": reverse("attachment", args=[attachment.pk, attachment.name]),
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }
    if attachment.width and attachment.height:
        payload["width"], payload["height"] = attachment.width, attachment.height
    return payload


def thread_payload(thread: Thread, *, visitor_online: bool = False) -> dict[str, Any]:
    """The wire form of a thread for operators. Expects visitor, assigned_to and
    last_message loaded (see selectors.THREAD_RELATED)."""
    assigned = thread.assigned_to
    return {
        "id": thread.pk,
        "status": thread.status,
        "visitor_id": thread.visitor_id,
        "visitor_name": thread.visitor.name,
        "assigned_to": (
            {"id": assigned.pk, "name": assigned.display_name} if assigned else None
        ),
        "unread": thread.operator_unread_count,
        "last_message": (
            message_payload(thread.last_message) if thread.last_message else None
        ),
        "updated": iso(thread.updated_at),
        "created": iso(thread.created_at),
        "visitor_online": visitor_online,
        "visitor_read_up_to": thread.visitor_read_up_to,
    }


def visitor_thread_payload(thread: Thread) -> dict[str, Any]:
    """What a visitor may know of their thread (the ``thread`` frame to visitors)."""
    return {"id": thread.pk, "status": thread.status}


# --- Sending ------------------------------------------------------------------

_collector = threading.local()


@contextmanager
def collecting() -> Iterator[list[Event]]:
    """Collect the events committed inside the block instead of sending them.

    An async caller that ran a service in a worker thread sends them itself with
    ``send_events`` (no blocking hop back into the event loop from the DB thread).
    """
    events: list[Event] = []
    previous = getattr(_collector, "events", None)
    _collector.events = events
    try:
        yield events
    finally:
        _collector.events = previous


def call_collecting(
    function: Callable[..., T], /, **kwargs: Any
) -> tuple[T, list[Event]]:
    """Call ``function`` and return its result with the events it committed."""
    with collecting() as sent:
        result = function(**kwargs)
    return result, sent


def broadcast_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits."""
    transaction.on_commit(lambda: _emit(group, event))


def broadcast_all_on_commit(batch: list[Event]) -> None:
    """``broadcast_on_commit`` for many events, in order, with one commit hook."""
    transaction.on_commit(lambda: _emit_all(batch))


def _emit(group: str, event: dict[str, Any]) -> None:
    _emit_all([(group, event)])


def _emit_all(batch: list[Event]) -> None:
    sink = getattr(_collector, "events", None)
    if sink is not None:
        sink.extend(batch)
        return
    async_to_sync(send_events)(batch)


def coalesce(events: list[Event]) -> list[Event]:
    """Merge the message events for each group into as few events as possible, and
    the thread events likewise.

    An event joins the group's previous event when both are message events (or both
    thread events), so each group still receives everything in the order it was
    committed (events of different groups have no order to keep).
    """
    merged: list[Event] = []
    last_for_group: dict[str, dict[str, Any]] = {}
    for group, event in events:
        previous = last_for_group.get(group)
        kind = event["type"]
        if kind == MESSAGES:
            if previous is not None and previous["type"] == MESSAGES:
                previous["messages"].extend(event["messages"])
                continue
            event = {**event, "messages": list(event["messages"])}
        elif kind in (THREAD, THREADS):
            threads = event["threads"] if kind == THREADS else [event["thread"]]
            if previous is not None and previous["type"] == THREADS:
                previous["threads"].extend(threads)
                continue
            event = {"type": THREADS, "threads": list(threads)}
        merged.append((group, event))
        last_for_group[group] = event
    return merged


def is_hub_group(group: str) -> bool:
    """Whether a group's members hear it through their process's hub (``realtime.hub``)
    rather than a channel of their own: every group but an operator login's."""
    return group in (VISITORS_GROUP, OPERATORS_GROUP) or group.startswith("thread.")


def route(events: list[Event]) -> list[Event]:
    """Coalesced events, with all those for the hub's groups in one hub event
    (first, in their order) and the rest as they were."""
    merged = coalesce(events)
    for_hub = [[group, event] for group, event in merged if is_hub_group(group)]
    direct = [(group, event) for group, event in merged if not is_hub_group(group)]
    if for_hub:
        direct.insert(0, (HUB_GROUP, {"type": HUB_EVENTS, "events": for_hub}))
    return direct


def deliver_here(events: list[Event]) -> list[Event]:
    """``route`` the events for ``publish``, the new messages that this process's
    hub may hand on now without getting ahead of their thread (``Hub.in_order``)
    handed to it at once (its sockets need not wait for the round trip through the
    layer) and marked with it as their origin: it skips them when the layer brings
    them back (``realtime.hub``). Everything else goes through the layer, after them."""
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
    if routed and routed[0][0] == HUB_GROUP:
        hub_event = routed[0][1]
        hub.deliver(hub_event)
        routed[0] = (HUB_GROUP, {**hub_event, "origin": hub.channel_name})
    return join_routed(routed, route(later))


def join_routed(first: list[Event], then: list[Event]) -> list[Event]:
    """Two batches' routed events as one list, in order; a hub event right after
    another of the same origin joins it (one publish for both)."""
    joined = list(first)
    for group, event in then:
        if group == HUB_GROUP and joined:
            last_group, last = joined[-1]
            if last_group == HUB_GROUP and last.get("origin") == event.get("origin"):
                joined[-1] = (
                    HUB_GROUP,
                    {**last, "events": last["events"] + event["events"]},
                )
                continue
        joined.append((group, event))
    return joined


async def publish(routed: list[Event]) -> None:
    """Send routed events through the channel layer, one ``group_send`` each. Live
    delivery is an optimisation: a layer failure is logged, never raised (the
    database is the record; clients recover with ``sync``)."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in routed:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.warning("channel layer send to %s failed", group, exc_info=True)


async def send_events(events: list[Event]) -> None:
    """Send events now: those for the hub's groups together (``route``), the new
    messages this process's hub may hand on in order to it at once
    (``deliver_here``), and one publish for all hubs and for each other group. Logs
    a layer failure, never raises."""
    await publish(deliver_here(events))


async def broadcast_now(group: str, event: dict[str, Any]) -> None:
    """Send an ephemeral event (typing, presence) that changes no row."""
    await send_events([(group, event)])


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
