"""Reads of "Continue in Telegram"."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from chat.models import Message, Thread
from telegram_bridge.visitor_models import VisitorChat


def get_chat_of_user(*, telegram_user_id: int) -> VisitorChat | None:
    return VisitorChat.objects.filter(telegram_user_id=telegram_user_id).first()


def get_verified_chat_of_visitor(*, visitor_id: int) -> VisitorChat | None:
    """The visitor's private chat, once their phone number is verified."""
    return VisitorChat.objects.filter(
        visitor_id=visitor_id, verified_at__isnull=False
    ).first()


def is_verified_chat(*, telegram_user_id: int) -> bool:
    return VisitorChat.objects.filter(
        telegram_user_id=telegram_user_id, verified_at__isnull=False
    ).exists()


def latest_thread(*, visitor_id: int) -> Thread | None:
    """The visitor's newest conversation: where their Telegram messages go."""
    return Thread.objects.filter(visitor_id=visitor_id).order_by("-pk").first()


def count_recent_messages(*, visitor_id: int, seconds: int = 60) -> int:
    """The visitor's messages from Telegram in the last ``seconds``."""
    return Message.objects.filter(
        thread__visitor_id=visitor_id,
        author=Message.Author.VISITOR,
        source=Message.Source.TELEGRAM,
        created_at__gte=timezone.now() - dt.timedelta(seconds=seconds),
    ).count()
