"""Reads of the bridge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chat.models import Message, Thread
from chat.selectors import get_pending_outbox_summary
from telegram_bridge.models import BridgeState, MessageLink, TopicLink

CHANNEL = "telegram"  # the outbox channel the bridge delivers


@dataclass(frozen=True, slots=True)
class Health:
    heartbeat_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    backlog: int  # pending deliveries
    oldest_pending_at: dt.datetime | None


def get_health() -> Health:
    """What /health/ shows of the bridge: its heartbeat, its last error, and the
    Telegram outbox (pending deliveries, the oldest's age). Two queries."""
    state = get_state()
    backlog, oldest_at = get_pending_outbox_summary(channel=CHANNEL)
    return Health(
        heartbeat_at=state.heartbeat_at if state else None,
        last_error=state.last_error if state else "",
        last_error_at=state.last_error_at if state else None,
        backlog=backlog,
        oldest_pending_at=oldest_at,
    )


def get_state() -> BridgeState | None:
    return BridgeState.objects.filter(pk=1).first()


def get_offset() -> int:
    state = get_state()
    return state.update_offset if state else 0


def get_topic(*, chat_id: int, visitor_id: int) -> TopicLink | None:
    return TopicLink.objects.filter(chat_id=chat_id, visitor_id=visitor_id).first()


def get_topic_of_thread(*, chat_id: int, thread_id: int) -> TopicLink | None:
    """The topic of a thread's visitor, if they have one."""
    visitor_id = (
        Thread.objects.filter(pk=thread_id).values_list("visitor_id", flat=True).first()
    )
    if visitor_id is None:
        return None
    return get_topic(chat_id=chat_id, visitor_id=visitor_id)


def get_topic_and_thread(
    *, chat_id: int, thread_id: int
) -> tuple[TopicLink, Thread] | None:
    """A thread (its visitor loaded) with its visitor's topic; None without one."""
    thread = Thread.objects.select_related("visitor").filter(pk=thread_id).first()
    if thread is None:
        return None
    topic = get_topic(chat_id=chat_id, visitor_id=thread.visitor_id)
    return (topic, thread) if topic is not None else None


def get_thread_for_topic(*, chat_id: int, message_thread_id: int) -> Thread | None:
    """The visitor's current thread of a topic."""
    topic = TopicLink.objects.filter(
        chat_id=chat_id, message_thread_id=message_thread_id
    ).first()
    if topic is None:
        return None
    return (
        Thread.objects.select_related("visitor")
        .filter(visitor_id=topic.visitor_id)
        .order_by("-pk")
        .first()
    )


def get_link(*, chat_id: int, telegram_message_id: int) -> MessageLink | None:
    return (
        MessageLink.objects.select_related("thread", "thread__visitor", "message")
        .filter(chat_id=chat_id, telegram_message_id=telegram_message_id)
        .first()
    )


def list_unreacted_operator_links(*, thread_id: int, up_to: int) -> list[MessageLink]:
    """Telegram messages of operators in a thread that the visitor has now read."""
    return list(
        MessageLink.objects.filter(
            thread_id=thread_id,
            direction=MessageLink.Direction.IN,
            reacted_at__isnull=True,
            message__isnull=False,
            message_id__lte=up_to,
            message__author=Message.Author.OPERATOR,
        ).order_by("pk")
    )
