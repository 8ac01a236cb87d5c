"""Recovery codes: the second factor without Telegram, ten at a time, each usable
once."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import codes
from accounts.models import RecoveryCode, TelegramLink

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10


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
