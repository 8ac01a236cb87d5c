"""Writes on operator accounts: creation, Telegram linking and the second factor.

Only these functions write ``TelegramLink``, ``LinkToken``, ``LoginCode`` and
``RecoveryCode`` rows. Refusals raise ``accounts.exceptions.AccountError`` subclasses,
whose ``str()`` is a translated message for the person concerned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import codes, roles, selectors, telegram
from accounts.exceptions import (
    LinkTokenExpired,
    LinkTokenInvalid,
    LinkTokenUsed,
    LoginCodeCooldown,
    LoginCodesExhausted,
    LoginCodesPaused,
    SecondFactorNotAvailable,
    TelegramAccountTaken,
    TelegramUnavailable,
)
from accounts.models import LinkToken, LoginCode, RecoveryCode, TelegramLink, User

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
# An operator is told about wrong sign-in codes at most this often.
FAILURE_ALERT_EVERY = timedelta(hours=1)


@transaction.atomic
def ensure_operator(*, username: str, password: str) -> tuple[User, bool]:
    """Create or update a superuser operator with this password, in the operators'
    group (``ensure_operator_group``).

    Returns the user and whether it was created. The password hash is replaced only
    when the password differs: a new hash (a new salt) would sign out every session
    of the account, and ``make run`` calls this on every start. Used by
    ``manage.py ensure_operator`` so that ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` (the
    old system's names) keep working.
    """
    user, created = User.objects.select_for_update().get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    changed = created or not (user.is_staff and user.is_superuser and user.is_active)
    user.is_staff = user.is_superuser = user.is_active = True
    if created or not user.check_password(password):
        user.set_password(password)
        changed = True
    if changed:
        user.save()
    user.groups.add(ensure_operator_group())
    return user, created


@transaction.atomic
def ensure_operator_group() -> Group:
    """The operators' group (``accounts.roles``), created or given back any
    permission it lost. Raises ``Permission.DoesNotExist`` before ``migrate``."""
    group, _created = Group.objects.get_or_create(name=roles.OPERATORS_GROUP)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in roles.OPERATOR_PERMISSIONS
    ]
    group.permissions.add(*wanted)
    return group


# --- Linking a Telegram account -------------------------------------------------------


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


@transaction.atomic
def end_sessions(*, user: Any) -> None:
    """Sign the user out everywhere: every session they have stops verifying (each
    keeps a hash that includes ``User.session_generation``), and their open inbox
    sockets close after commit, like any change of an operator's rights
    (chat.signals). A view that should keep its own session signed in calls
    ``update_session_auth_hash`` after this, as after a password change."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.session_generation += 1
    locked.save(update_fields=["session_generation"])
    user.session_generation = locked.session_generation


# --- Recovery codes -------------------------------------------------------------------


@transaction.atomic
def issue_recovery_codes(*, user: Any) -> list[str]:
    """Replace the user's recovery codes with 10 new ones (stored hashed) and return
    them: they can never be read again. Marks the link's codes as shown."""
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    fresh = _distinct_recovery_codes(RECOVERY_CODE_COUNT)
    now = timezone.now()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user_id=user.pk, code_hash=codes.hash_code(code), created_at=now)
        for code in fresh
    )
    TelegramLink.objects.filter(user_id=user.pk).update(recovery_codes_shown=True)
    return fresh


@transaction.atomic
def reveal_recovery_codes(*, user: Any) -> list[str] | None:
    """The first recovery codes of a new link, once: new codes if the link's codes were
    never shown (and marks them shown), else None."""
    link = TelegramLink.objects.select_for_update().filter(user_id=user.pk).first()
    if link is None or link.recovery_codes_shown:
        return None
    return issue_recovery_codes(user=user)


@transaction.atomic
def use_recovery_code(*, user: Any, code: str) -> bool:
    """Spend one of the user's recovery codes. True if ``code`` was an unused one
    (it is used now); False otherwise."""
    candidate = codes.normalize_recovery_code(code)
    now = timezone.now()
    rows = RecoveryCode.objects.select_for_update().filter(
        user_id=user.pk, used_at__isnull=True
    )
    matched = None
    for row in rows:
        # Every row is compared, so the time taken does not say which one matched.
        if codes.check_code(candidate, row.code_hash) and matched is None:
            matched = row
    if matched is None:
        return False
    matched.used_at = now
    matched.save(update_fields=["used_at"])
    logger.info("operator %s signed in with a recovery code", user.pk)
    return True


def _distinct_recovery_codes(count: int) -> list[str]:
    fresh: list[str] = []
    while len(fresh) < count:
        code = codes.new_recovery_code()
        if code not in fresh:
            fresh.append(code)
    return fresh


# --- Login codes ----------------------------------------------------------------------


def issue_login_code(*, user: Any, attempt: str) -> None:
    """Send the user a new six-digit code for the sign-in ``attempt`` through
    Telegram (private chat with the bot), valid SOHBET_LOGIN_CODE_TTL seconds; it
    replaces the attempt's older codes once sent. Only that attempt can enter it.

    Raises SecondFactorNotAvailable (no linked Telegram account), LoginCodeCooldown
    (a code not yet used was made less than SOHBET_LOGIN_CODE_RESEND_SECONDS ago),
    LoginCodesExhausted (the account's hourly or daily count of codes is reached)
    or TelegramUnavailable (the new code is then deleted). The Bot API call happens
    outside any transaction of ours.
    """
    code = codes.new_login_code()
    row, telegram_user_id = _store_login_code(user=user, attempt=attempt, code=code)
    minutes = max(1, settings.SOHBET_LOGIN_CODE_TTL // 60)
    text = _(
        "%(code)s is your sign-in code for %(site)s. It is valid for %(minutes)s "
        "minutes. Never share it. If you did not just sign in, change your password."
    ) % {"code": code, "site": settings.SOHBET_SITE_NAME, "minutes": minutes}
    try:
        telegram.send_message(chat_id=telegram_user_id, text=text)
    except TelegramUnavailable:
        LoginCode.objects.filter(pk=row.pk).delete()
        raise
    LoginCode.objects.filter(pk=row.pk).update(sent_at=timezone.now())


@transaction.atomic
def _store_login_code(*, user: Any, attempt: str, code: str) -> tuple[LoginCode, int]:
    # Locking the user row serialises concurrent requests for the same user, so two
    # cannot both pass the cool-down check or the caps.
    User.objects.select_for_update().filter(pk=user.pk).first()
    link = TelegramLink.objects.filter(user_id=user.pk).first()
    if link is None:
        raise SecondFactorNotAvailable()
    usage = selectors.get_login_code_usage(user=user)
    if (
        usage.sent_hour_count >= settings.SOHBET_LOGIN_CODES_PER_HOUR
        or usage.sent_day_count >= settings.SOHBET_LOGIN_CODES_PER_DAY
    ):
        raise LoginCodesExhausted()
    wait = selectors.get_login_code_cooldown_seconds(user=user)
    if wait > 0:
        raise LoginCodeCooldown(wait)
    now = timezone.now()
    row = LoginCode.objects.create(
        user_id=user.pk,
        attempt=attempt,
        code_hash=codes.hash_code(code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SOHBET_LOGIN_CODE_TTL),
    )
    return row, link.telegram_user_id


def verify_login_code(*, user: Any, attempt: str, code: str) -> bool:
    """Check ``code`` against the sign-in ``attempt``'s latest sent code. True
    marks it used.

    A wrong code adds an attempt; after SOHBET_LOGIN_CODE_ATTEMPTS wrong attempts the
    code is dead and a new one is needed. Expired, used or dead codes fail, as does
    a code sent for another attempt. Raises LoginCodesPaused, without looking at the
    code, once the account's wrong codes reach the hourly or daily cap. When an
    hour's wrong codes reach SOHBET_LOGIN_CODE_ATTEMPTS the operator is told in
    Telegram (at most once an hour), after commit.
    """
    verified, wrong_hour_count = _check_login_code(
        user=user, attempt=attempt, code=code
    )
    if wrong_hour_count:
        _report_wrong_codes(user=user, wrong_hour_count=wrong_hour_count)
    return verified


@transaction.atomic
def _check_login_code(*, user: Any, attempt: str, code: str) -> tuple[bool, int]:
    """(verified, the hour's wrong codes when the operator is to be told, else 0)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # the caps hold
    usage = selectors.get_login_code_usage(user=user)
    if (
        usage.wrong_hour_count >= settings.SOHBET_LOGIN_CODE_FAILURES_PER_HOUR
        or usage.wrong_day_count >= settings.SOHBET_LOGIN_CODE_FAILURES_PER_DAY
    ):
        raise LoginCodesPaused()
    row = (
        LoginCode.objects.select_for_update()
        .filter(user_id=user.pk, attempt=attempt, sent_at__isnull=False)
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if (
        not attempt
        or row is None
        or row.used_at is not None
        or row.expires_at <= now
        or row.attempts >= settings.SOHBET_LOGIN_CODE_ATTEMPTS
    ):
        return False, 0
    if not codes.check_code(code.strip(), row.code_hash):
        row.attempts += 1
        row.save(update_fields=["attempts"])
        wrong = usage.wrong_hour_count + 1
        if wrong >= settings.SOHBET_LOGIN_CODE_ATTEMPTS and _claim_failure_alert(
            user=user, now=now
        ):
            return False, wrong
        return False, 0
    row.used_at = now
    row.save(update_fields=["used_at"])
    return True, 0


def _claim_failure_alert(*, user: Any, now: Any) -> bool:
    """Whether this is the hour's first report of wrong codes (and mark it sent)."""
    return bool(
        TelegramLink.objects.filter(user_id=user.pk)
        .filter(
            Q(failure_alert_at__isnull=True)
            | Q(failure_alert_at__lte=now - FAILURE_ALERT_EVERY)
        )
        .update(failure_alert_at=now)
    )


def _report_wrong_codes(*, user: Any, wrong_hour_count: int) -> None:
    """Tell the operator in Telegram that someone enters wrong codes for their
    account: that person has their password. In the site's language."""
    link = selectors.get_telegram_link(user=user)
    if link is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = ngettext(
            "Someone entered %(count)s wrong sign-in code for your %(site)s account "
            "in the last hour. Whoever it was knows your password: if it was not "
            "you, change your password now.",
            "Someone entered %(count)s wrong sign-in codes for your %(site)s account "
            "in the last hour. Whoever it was knows your password: if it was not "
            "you, change your password now.",
            wrong_hour_count,
        ) % {"count": wrong_hour_count, "site": settings.SOHBET_SITE_NAME}
    try:
        telegram.send_message(chat_id=link.telegram_user_id, text=text)
    except TelegramUnavailable as exc:
        logger.warning(
            "could not tell operator %s about wrong codes: %s", user.pk, exc.detail
        )
    else:
        logger.warning(
            "operator %s told about %s wrong sign-in codes in an hour",
            user.pk,
            wrong_hour_count,
        )


# --- Housekeeping ---------------------------------------------------------------------

# Expired or used codes stay this long (for a look in the admin after an incident).
EXPIRED_CODE_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PurgedCodes:
    login_code_count: int
    link_token_count: int


@transaction.atomic
def purge_expired_codes(*, dry_run: bool = False) -> PurgedCodes:
    """Delete login codes and Telegram link tokens that expired or were used more than
    EXPIRED_CODE_GRACE ago. Keeps the used token that made each operator's current
    link: the session shown that token keeps its access through it (see
    selectors.is_second_factor_satisfied). Returns what was deleted, or with
    ``dry_run`` what would be; deletes nothing then.
    """
    cutoff = timezone.now() - EXPIRED_CODE_GRACE
    login_codes = LoginCode.objects.filter(
        Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff)
    )
    made_current_link = TelegramLink.objects.filter(
        user_id=OuterRef("user_id"), linked_at=OuterRef("used_at")
    )
    link_tokens = LinkToken.objects.filter(
        Q(expires_at__lt=cutoff, used_at__isnull=True) | Q(used_at__lt=cutoff)
    ).filter(~Exists(made_current_link))
    if dry_run:
        return PurgedCodes(
            login_code_count=login_codes.count(), link_token_count=link_tokens.count()
        )
    login_code_count, _details = login_codes.delete()
    link_token_count, _details = link_tokens.delete()
    return PurgedCodes(
        login_code_count=login_code_count, link_token_count=link_token_count
    )
