"""Reads on operator accounts and their second factor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import LinkToken, LoginCode, RecoveryCode, TelegramLink, User

# Session keys. SECOND_FACTOR holds the pk of the user whose code (or recovery code)
# this session entered; LINK_TOKEN the hash of the link token this session was given,
# so the session that linked an account keeps its access once the link exists.
SECOND_FACTOR_SESSION_KEY = "sohbet_2fa_user"
LINK_TOKEN_SESSION_KEY = "sohbet_link_token"  # noqa: S105 - a key name, no secret


def is_second_factor_required(*, user: Any) -> bool:
    """Whether signing in as ``user`` needs a Telegram code: Telegram is configured
    and the user has linked a Telegram account."""
    if not settings.TELEGRAM_ENABLED or not getattr(user, "pk", None):
        return False
    return TelegramLink.objects.filter(user_id=user.pk).exists()


def is_second_factor_satisfied(*, user: Any, session: SessionBase) -> bool:
    """Whether this session may act as ``user``: no second factor is required, or this
    session entered a code for this very user, or it made the user's current link.

    Every way into the admin (and the operator socket) checks this beside
    ``is_authenticated``.
    """
    if not is_second_factor_required(user=user):
        return True
    if session.get(SECOND_FACTOR_SESSION_KEY) == user.pk:
        return True
    token_hash = session.get(LINK_TOKEN_SESSION_KEY)
    if not token_hash:
        return False
    # The account was linked (by pressing Start in Telegram) with the token shown to
    # this session: it proved the Telegram account as a code would.
    return LinkToken.objects.filter(
        token_hash=token_hash,
        user_id=user.pk,
        used_at=F("user__telegram_link__linked_at"),
    ).exists()


def is_operator_session_current(*, session_key: str | None, user_id: int) -> bool:
    """Whether the session stored under ``session_key`` still signs ``user_id`` in
    as an operator: unexpired and in the database, for this user, its hash still
    the user's (no password change, no sessions ended since), the user active
    staff, the second factor satisfied."""
    if not session_key:
        return False
    # The database's copy: the cache may still hold a session deleted from it.
    session = DatabaseSessionStore(session_key)
    data = session.load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = User.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    if user is None:
        return False
    kept = str(data.get(HASH_SESSION_KEY, ""))
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(kept, expected) for expected in hashes):
        return False
    return is_second_factor_satisfied(user=user, session=session)


def get_operator_by_telegram_id(*, telegram_user_id: int) -> User | None:
    """The active staff user linked to this Telegram user, or None."""
    return (
        User.objects.filter(
            telegram_link__telegram_user_id=telegram_user_id,
            is_active=True,
            is_staff=True,
        )
        .select_related("telegram_link")
        .first()
    )


def get_telegram_link(*, user: Any) -> TelegramLink | None:
    """The user's Telegram link, or None."""
    return TelegramLink.objects.filter(user_id=user.pk).first()


def get_pending_link_token(*, user: Any, token_hash: str) -> LinkToken | None:
    """The user's link token with this hash if it is still unused and unexpired."""
    return LinkToken.objects.filter(
        user_id=user.pk,
        token_hash=token_hash,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()


def has_usable_login_code(*, user: Any, attempt: str) -> bool:
    """Whether the sign-in ``attempt``'s latest sent code can still be entered
    (unused, unexpired, attempts left)."""
    code = (
        LoginCode.objects.filter(
            user_id=user.pk, attempt=attempt, sent_at__isnull=False
        )
        .order_by("-created_at")
        .first()
    )
    return (
        code is not None
        and code.used_at is None
        and code.expires_at > timezone.now()
        and code.attempts < settings.SOHBET_LOGIN_CODE_ATTEMPTS
    )


@dataclass(frozen=True, slots=True)
class LoginCodeUsage:
    """An account's codes sent and wrong codes entered, in the last hour and day."""

    sent_hour_count: int
    sent_day_count: int
    wrong_hour_count: int
    wrong_day_count: int


def get_login_code_usage(*, user: Any) -> LoginCodeUsage:
    """What the caps on codes sent and wrong codes count, for every sign-in
    attempt of the account together. One query."""
    now = timezone.now()
    hour = now - timedelta(hours=1)
    totals = LoginCode.objects.filter(
        user_id=user.pk, created_at__gte=now - timedelta(days=1)
    ).aggregate(
        sent_hour=Count("pk", filter=Q(sent_at__gte=hour)),
        sent_day=Count("pk", filter=Q(sent_at__isnull=False)),
        wrong_hour=Sum("attempts", filter=Q(created_at__gte=hour)),
        wrong_day=Sum("attempts"),
    )
    return LoginCodeUsage(
        sent_hour_count=totals["sent_hour"] or 0,
        sent_day_count=totals["sent_day"] or 0,
        wrong_hour_count=totals["wrong_hour"] or 0,
        wrong_day_count=totals["wrong_day"] or 0,
    )


def get_login_code_cooldown_seconds(*, user: Any) -> int:
    """Seconds before ``issue_login_code`` will send the user a new code (0: now).

    Counted from the latest code not yet used (sent, or being sent).
    """
    latest = (
        LoginCode.objects.filter(user_id=user.pk, used_at__isnull=True)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return 0
    ready_at = latest + timedelta(seconds=settings.SOHBET_LOGIN_CODE_RESEND_SECONDS)
    remaining = (ready_at - timezone.now()).total_seconds()
    return max(0, int(remaining + 0.999))


def get_unused_recovery_code_count(*, user: Any) -> int:
    """How many of the user's recovery codes are left."""
    return RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()
