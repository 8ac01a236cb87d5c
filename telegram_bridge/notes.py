"""Private notes in Telegram (outbound): a note written on the web, marked, in its
conversation's place; a mention, to the private chat of each operator it names who
linked Telegram. Sent by ``sending.Sending`` for NOTE and MENTION rows."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import TelegramLink
from chat.models import Note, OutboxEntry, Thread
from telegram_bridge.pacer import Turn
from telegram_bridge.render import TEXT_LIMIT, header

if TYPE_CHECKING:
    from telegram_bridge.sending import Sending

# A mention's private message quotes this much of the note.
MENTION_QUOTE = 1000


def render_note(note: Note, thread: Thread, *, is_forum: bool) -> str:
    """The Telegram text of a private note: never mistaken for a message the
    visitor saw."""
    text = _("🔒 Note by %(name)s: %(body)s") % {
        "name": note.author_name,
        "body": note.body,
    }
    return text if is_forum else f"{header(thread)}\n{text}"


def render_mention(note: Note, thread: Thread) -> str:
    """What an operator mentioned in a note is sent privately."""
    body = note.body
    if len(body) > MENTION_QUOTE:
        body = body[:MENTION_QUOTE] + "…"
    text = _(
        "🔔 %(name)s mentioned you in a private note (conversation #%(id)s, "
        "%(visitor)s):\n%(body)s\n%(url)s"
    ) % {
        "name": note.author_name,
        "id": thread.pk,
        "visitor": thread.visitor.display_name,
        "body": body,
        "url": inbox_url(thread.pk),
    }
    return text[:TEXT_LIMIT]


def inbox_url(thread_id: int) -> str:
    return f"{settings.SOHBET_PUBLIC_URL}{reverse('inbox')}#thread-{thread_id}"


def list_mention_chats(*, note_id: int) -> list[int]:
    """The private chats (Telegram user ids) of the active operators a note
    mentions who linked Telegram."""
    return list(
        TelegramLink.objects.filter(
            user__in=Note.mentions.through.objects.filter(note_id=note_id).values(
                "user_id"
            ),
            user__is_active=True,
        ).values_list("telegram_user_id", flat=True)
    )


async def send_note(delivery: Sending, entry: OutboxEntry, turn: Turn) -> list[int]:
    """Deliver a NOTE row (in the conversation's place: the ids of what was posted
    there) or a MENTION row (privately, to each mentioned operator's chat)."""
    thread, note = entry.thread, entry.note
    if note is None:  # pragma: no cover - the row goes with its note
        return []
    if entry.kind == OutboxEntry.Kind.NOTE:
        text = render_note(note, thread, is_forum=delivery.is_forum)
        return await delivery._send_text(thread, text, turn)
    text = render_mention(note, thread)
    for chat_id in await database_sync_to_async(list_mention_chats)(note_id=note.pk):

        def post(chat_id: int = chat_id) -> Awaitable[Any]:
            return delivery.bot.send_message(chat_id=chat_id, text=text)

        await delivery.pacer.call(chat_id, post)
    return []
