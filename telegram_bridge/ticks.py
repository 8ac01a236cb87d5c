"""The visitor's ticks when the team answers in Telegram: "delivered" once the
bridge posted their message in the operators' group, "read" once a linked operator
answered in its topic (or as a reply) or reacted to it there.

Both go through chat.services (``mark_delivered``, ``mark_read``), so the visitor's
page hears them as it hears the web inbox's.
"""

from __future__ import annotations

from collections.abc import Iterable

from telegram import MessageReactionUpdated

from accounts import selectors as account_selectors
from chat import services as chat_services
from chat.models import Message
from telegram_bridge import selectors


def visitor_up_to(messages: Iterable[Message]) -> int | None:
    """The last visitor message among those just posted in the group."""
    ids = [m.pk for m in messages if m.author == Message.Author.VISITOR]
    return max(ids) if ids else None


def answered(*, thread_id: int, message_id: int) -> None:
    """An operator answered in Telegram: the visitor's messages before it are read."""
    chat_services.mark_read(thread_id=thread_id, by="operator", up_to=message_id)


def on_reaction(reaction: MessageReactionUpdated, *, chat_id: int) -> None:
    """A reaction in the operators' group: set by a linked operator on a bridged
    message, it reads that message and the ones before it."""
    if reaction.chat.id != chat_id or not reaction.new_reaction:
        return  # another chat, or a reaction taken back
    user = reaction.user
    if user is None or user.is_bot:
        return  # anonymous admins react as the chat
    if account_selectors.get_operator_by_telegram_id(telegram_user_id=user.id) is None:
        return
    link = selectors.get_link(chat_id=chat_id, telegram_message_id=reaction.message_id)
    if link is None or link.message_id is None:
        return
    chat_services.mark_read(
        thread_id=link.thread_id, by="operator", up_to=link.message_id
    )
