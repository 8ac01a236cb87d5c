"""The outbox's deliveries: done, to be tried again, failed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import F
from django.utils import timezone

from chat.models import OutboxEntry


def complete_outbox(*, entry_ids: Sequence[int]) -> None:
    """Mark deliveries done (the integration delivered them)."""
    OutboxEntry.objects.filter(pk__in=entry_ids).update(
        status=OutboxEntry.Status.DONE, done_at=timezone.now(), last_error=""
    )


def retry_outbox(*, entry_id: int, error: str, delay_seconds: float) -> None:
    """Count a failed attempt and schedule the next one ``delay_seconds`` from now."""
    OutboxEntry.objects.filter(pk=entry_id).update(
        attempts=F("attempts") + 1,
        last_error=error[:1000],
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay_seconds),
    )


def note_outbox_wait(*, entry_id: int, error: str) -> None:
    """Say why a delivery waits (the service asked it to), without counting a try."""
    OutboxEntry.objects.filter(pk=entry_id).update(last_error=error[:1000])


def fail_outbox(*, entry_ids: Sequence[int], error: str) -> None:
    """Give up on deliveries (after their retries, or refused for good); the admin
    lists failed ones and may queue them again (``retry_failed_outbox``)."""
    OutboxEntry.objects.filter(pk__in=entry_ids).update(
        status=OutboxEntry.Status.FAILED,
        attempts=F("attempts") + 1,
        last_error=error[:1000],
        done_at=timezone.now(),
    )


def retry_failed_outbox(*, entry_ids: Sequence[int]) -> int:
    """Queue failed deliveries again, due now, with their tries counted from zero.
    Other entries are left as they are. Returns how many were queued."""
    return OutboxEntry.objects.filter(
        pk__in=entry_ids, status=OutboxEntry.Status.FAILED
    ).update(
        status=OutboxEntry.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        done_at=None,
    )


def postpone_outbox(*, entry_id: int, note: str, delay_seconds: float) -> None:
    """Look at a delivery again ``delay_seconds`` from now, without counting a try
    (its channel waits for something: the visitor leaving the page)."""
    OutboxEntry.objects.filter(pk=entry_id).update(
        last_error=note[:1000],
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay_seconds),
    )
