"""Blocks and ratings in Telegram: ``/block reason`` and ``/unblock`` in a
conversation's topic (commands.py hands them here), and the line a visitor's rating
makes in the topic (outbox.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from chat import safety
from chat import services as chat_services
from chat.models import Block, Thread

COMMANDS = ("block", "unblock")


def run_command(command: str, argument: str, *, thread: Thread, operator: Any) -> str:
    """Block or unblock the thread's visitor; what to answer in the topic."""
    if command == "block":
        if safety.get_active_block(visitor_id=thread.visitor_id) is not None:
            return _("This visitor is already blocked. /unblock to let them back.")
        chat_services.block_visitor(
            visitor_id=thread.visitor_id,
            reason=argument,
            by=operator,
            source=Block.Source.TELEGRAM,
        )
        return _(
            "🚫 Visitor blocked: nothing they send is stored or delivered any more. "
            "/unblock to let them back."
        )
    if not chat_services.unblock_visitor(visitor_id=thread.visitor_id, by=operator):
        return _("This visitor is not blocked.")
    return _("Visitor unblocked: their messages reach you again.")


def help_lines() -> list[str]:
    return [
        _("/block reason — block this visitor (nothing they send is stored)"),
        _("/unblock — let them back"),
    ]


def rating_text(thread_id: int, *, is_forum: bool) -> str:
    """The thread's newest rating as one line ("" when it is gone): ⭐ 4/5: text."""
    rating = safety.get_latest_rating(thread_id=thread_id)
    if rating is None:
        return ""
    text = f"⭐ {rating.score}/5"
    if not is_forum:
        text += f" · #{thread_id}"
    if rating.comment:
        text += f": {rating.comment}"
    return text
