"""Housekeeping: deleting login codes and Telegram link tokens that are no longer
of use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import LinkToken, LoginCode, TelegramLink

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
