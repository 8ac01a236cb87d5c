"""Linking an operator's Telegram account (the second factor) with a one-time token,
and unlinking it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import codes
from accounts.exceptions import (
    LinkTokenExpired,
    LinkTokenInvalid,
    LinkTokenUsed,
    TelegramAccountTaken,
)
from accounts.models import LinkToken, LoginCode, RecoveryCode, TelegramLink, User
from accounts.services.operators import end_sessions

logger = logging.getLogger(__name__)


@transaction.atomic
def issue_link_token(*, user: Any) -> str:
    """A new one-time token for ``t.me/<bot>?start=<token>``, valid
    SOHBET_LINK_TOKEN_TTL seconds. Deletes the user's older unused tokens; stores only
    the token's SHA-256."""
    now = timezone.now()
    LinkToken.objects.filter(user_id=user.pk, used_at__isnull=True).delete()
    token = codes.new_link_token()
    LinkToken.objects.create(
        user_id=user.pk,
        token_hash=codes.hash_link_token(token),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SOHBET_LINK_TOKEN_TTL),
    )
    return token


@transaction.atomic
def link_telegram(*, token: str, telegram_user_id: int, telegram_username: str) -> User:
    """Link the Telegram user who pressed Start with ``token`` to the token's operator.

    Replaces the operator's previous link (recovery codes are shown again), marks the
    token used. Raises LinkTokenInvalid (unknown, or its user is no longer an active
    operator), LinkTokenUsed, LinkTokenExpired, or TelegramAccountTaken when this
    Telegram user is linked to another account.
    """
    now = timezone.now()
    row = (
        LinkToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=codes.hash_link_token(token.strip()))
        .first()
    )
    if row is None:
        raise LinkTokenInvalid()
    if row.used_at is not None:
        raise LinkTokenUsed()
    if row.expires_at <= now:
        raise LinkTokenExpired()
    user = row.user
    if not (user.is_active and user.is_staff):
        raise LinkTokenInvalid()
    taken = (
        TelegramLink.objects.select_for_update()
        .filter(telegram_user_id=telegram_user_id)
        .exclude(user_id=user.pk)
        .exists()
    )
    if taken:
        raise TelegramAccountTaken()
    TelegramLink.objects.update_or_create(
        user=user,
        defaults={
            "telegram_user_id": telegram_user_id,
            "telegram_username": (telegram_username or "")[:64],
            # The session that was shown this token keeps its access because the
            # two instants are equal: see selectors.is_second_factor_satisfied.
            "linked_at": now,
            "recovery_codes_shown": False,
        },
    )
    row.used_at = now
    row.save(update_fields=["used_at"])
    logger.info("operator %s linked Telegram user %s", user.pk, telegram_user_id)
    return user


@transaction.atomic
def unlink_telegram(*, user: Any) -> bool:
    """Remove the user's Telegram link with its recovery codes, login codes and unused
    link tokens: the password alone signs them in again. A second-factor reset ends
    the user's sessions (``end_sessions``) when a link existed. Returns whether one
    did."""
    deleted, _details = TelegramLink.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    LoginCode.objects.filter(user_id=user.pk).delete()
    LinkToken.objects.filter(user_id=user.pk, used_at__isnull=True).delete()
    if deleted:
        end_sessions(user=user)
        logger.info("operator %s unlinked their Telegram account", user.pk)
    return bool(deleted)
