"""Reads of the bridge."""

from __future__ import annotations

from chat.models import Message, Thread
from telegram_bridge.models import BridgeState, MessageLink, TopicLink


def get_state() -> BridgeState | None:
    return BridgeState.objects.filter(pk=1).first()


def get_offset() -> int:
    state = get_state()
    return state.update_offset if state else 0


def get_topic(*, chat_id: int, visitor_id: int) -> TopicLink | None:
    return TopicLink.objects.filter(chat_id=chat_id, visitor_id=visitor_id).first()


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
