"""Writes of "Continue in Telegram": the visitor's one-time link, their private chat
with the bot linked on ``/start``, verified by their own contact, ended by ``/stop``.

The link's token is random, stored as a keyed hash (SECRET_KEY), single use, valid
``TOKEN_LIFETIME``, and tied to the visitor whose browser asked for it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.translation import gettext as _

from chat.exceptions import ChatError, ErrorCode
from chat.services.phone import verify_visitor_phone
from chat.services.visitors import written_visitor
from telegram_bridge.visitor_models import VisitorChat, VisitorLinkToken

logger = logging.getLogger(__name__)

PREFIX = "v_"  # Telegram's start parameter: at most 64 of A-Z a-z 0-9 _ -
TOKEN_LENGTH = 32
TOKEN_LIFETIME = dt.timedelta(minutes=10)
TOKENS_PER_HOUR = 10  # per visitor


class VisitorLinkRefused(Exception):
    """The link cannot be used; ``str()`` is a translated sentence for the user."""


def _hash(token: str) -> str:
    return salted_hmac(
        "telegram_bridge.visitor_token", token, algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def issue_link_token(session: SessionBase) -> str:
    """A new start token for the session's visitor (their earlier unused ones stop
    working). Raises ChatError ``rate_limited`` past TOKENS_PER_HOUR, ``forbidden``
    without a chat."""
    visitor = written_visitor(session)
    now = timezone.now()
    recent = VisitorLinkToken.objects.filter(
        visitor=visitor, created_at__gte=now - dt.timedelta(hours=1)
    )
    if recent.count() >= TOKENS_PER_HOUR:
        raise ChatError(
            ErrorCode.RATE_LIMITED,
            _("Too many links were asked for. Please try again in an hour."),
        )
    VisitorLinkToken.objects.filter(
        visitor=visitor, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    token = PREFIX + get_random_string(TOKEN_LENGTH)
    VisitorLinkToken.objects.create(
        visitor=visitor,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    return token


def is_visitor_token(argument: str) -> bool:
    return argument.startswith(PREFIX) and len(argument) == len(PREFIX) + TOKEN_LENGTH


@transaction.atomic
def start_chat(*, token: str, telegram_user_id: int, language_code: str) -> VisitorChat:
    """Tie this Telegram user's private chat to the token's visitor, waiting for
    their phone number; the token is used up. A user who continued another visitor
    now continues this one. Raises VisitorLinkRefused."""
    found = (
        VisitorLinkToken.objects.select_for_update()
        .filter(token_hash=_hash(token))
        .first()
    )
    now = timezone.now()
    if found is None or found.used_at is not None:
        raise VisitorLinkRefused(
            _(
                "This link was already used or is not valid. Open “Continue in "
                "Telegram” on the website again."
            )
        )
    if found.expires_at <= now:
        raise VisitorLinkRefused(
            _(
                "This link has expired. Open “Continue in Telegram” on the website "
                "again."
            )
        )
    found.used_at = now
    found.save(update_fields=["used_at"])
    VisitorChat.objects.filter(telegram_user_id=telegram_user_id).exclude(
        visitor_id=found.visitor_id
    ).delete()
    chat, _created = VisitorChat.objects.update_or_create(
        visitor_id=found.visitor_id,
        defaults={
            "telegram_user_id": telegram_user_id,
            "language_code": language_code[:16],
            "created_at": now,
            "verified_at": None,
        },
    )
    logger.info("visitor %s started a Telegram chat", found.visitor_id)
    return chat


@transaction.atomic
def accept_contact(
    *, telegram_user_id: int, contact_user_id: int | None, phone: str
) -> VisitorChat | None:
    """The contact shared in the private chat, if it is the sender's own: the
    visitor's phone is verified and the chat carries the conversation from now on.
    None (nothing changed) for someone else's contact or a chat not started."""
    chat = (
        VisitorChat.objects.select_for_update()
        .filter(telegram_user_id=telegram_user_id)
        .first()
    )
    if chat is None or contact_user_id != telegram_user_id or not phone.strip():
        return None
    chat.verified_at = timezone.now()
    chat.save(update_fields=["verified_at"])
    verify_visitor_phone(visitor_id=chat.visitor_id, phone=phone)
    return chat


def stop_chat(*, telegram_user_id: int) -> bool:
    """``/stop`` (or the user blocked the bot): the chat no longer carries the
    conversation. False when it did not."""
    deleted, _rows = VisitorChat.objects.filter(
        telegram_user_id=telegram_user_id
    ).delete()
    return bool(deleted)
