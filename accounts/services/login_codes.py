"""Sign-in codes: a six-digit code sent through Telegram for one sign-in attempt,
its check, and the operator's warning about wrong codes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import codes, selectors, telegram
from accounts.exceptions import (
    LoginCodeCooldown,
    LoginCodesExhausted,
    LoginCodesPaused,
    SecondFactorNotAvailable,
    TelegramUnavailable,
)
from accounts.models import LoginCode, TelegramLink, User

logger = logging.getLogger(__name__)

# An operator is told about wrong sign-in codes at most this often.
FAILURE_ALERT_EVERY = timedelta(hours=1)


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
