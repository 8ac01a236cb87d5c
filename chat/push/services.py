"""Push writes: subscriptions, an operator's choices, and the worker's claims on
the "push" outbox rows (chat.push.worker sends them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from chat.models import OutboxEntry, PushPreferences, PushSubscription
from chat.push.rules import PUSH_CHANNEL
from chat.push.subscriptions import SubscriptionInfo

# Devices kept per owner: a new one beyond replaces the oldest.
MAX_OPERATOR_DEVICES = 10
MAX_VISITOR_DEVICES = 3


@transaction.atomic
def subscribe(
    *,
    info: SubscriptionInfo,
    operator_id: int | None = None,
    visitor_id: int | None = None,
    user_agent: str = "",
    language: str = "",
) -> PushSubscription:
    """Store a browser's subscription for an operator or a visitor (one of them),
    with the language its page speaks. An endpoint stored before moves to this
    owner with its new keys (a browser is one person's); beyond the owner's device
    limit the oldest goes."""
    if (operator_id is None) == (visitor_id is None):
        raise ValueError("a subscription has exactly one owner")
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=info.endpoint,
        defaults={
            "p256dh": info.p256dh,
            "auth": info.auth,
            "operator_id": operator_id,
            "visitor_id": visitor_id,
            "user_agent": user_agent[:300],
            "language": language[:16],
        },
    )
    owned = _owned(operator_id=operator_id, visitor_id=visitor_id).order_by(
        "-created_at", "-pk"
    )
    limit = MAX_OPERATOR_DEVICES if operator_id is not None else MAX_VISITOR_DEVICES
    stale = list(owned.values_list("pk", flat=True)[limit:])
    if stale:
        PushSubscription.objects.filter(pk__in=stale).delete()
    return subscription


def unsubscribe(
    *, endpoint: str, operator_id: int | None = None, visitor_id: int | None = None
) -> bool:
    """Forget the owner's subscription of ``endpoint``; whether there was one."""
    owned = _owned(operator_id=operator_id, visitor_id=visitor_id)
    deleted, _rows = owned.filter(endpoint=endpoint).delete()
    return bool(deleted)


def _owned(
    *, operator_id: int | None, visitor_id: int | None
) -> QuerySet[PushSubscription]:
    if operator_id is not None:
        return PushSubscription.objects.filter(operator_id=operator_id)
    if visitor_id is not None:
        return PushSubscription.objects.filter(visitor_id=visitor_id)
    return PushSubscription.objects.none()


def save_preferences(
    *,
    operator_id: int,
    new_conversations: bool,
    messages: bool,
    mentions: bool,
    quiet_from: dt.time | None,
    quiet_until: dt.time | None,
    time_zone: str,
) -> PushPreferences:
    """Store what an operator is pushed (quiet hours: both times, or neither)."""
    if (quiet_from is None) != (quiet_until is None):
        quiet_from = quiet_until = None
    preferences, _created = PushPreferences.objects.update_or_create(
        operator_id=operator_id,
        defaults={
            "new_conversations": new_conversations,
            "messages": messages,
            "mentions": mentions,
            "quiet_from": quiet_from,
            "quiet_until": quiet_until,
            "time_zone": time_zone[:64],
        },
    )
    return preferences


def forget_subscriptions(*, subscription_ids: Sequence[int]) -> None:
    """The push service said these are gone (404/410)."""
    if subscription_ids:
        PushSubscription.objects.filter(pk__in=list(subscription_ids)).delete()


def note_sent(*, subscription_ids: Sequence[int]) -> None:
    if subscription_ids:
        PushSubscription.objects.filter(pk__in=list(subscription_ids)).update(
            last_sent_at=timezone.now()
        )


@dataclass(frozen=True, slots=True)
class PushJob:
    """A thread's due push rows: one notification per audience carries them all."""

    thread_id: int
    entry_ids: tuple[int, ...]
    attempts: int


@transaction.atomic
def claim_push_jobs(
    *, now: dt.datetime, claim_seconds: float, limit: int = 50
) -> list[PushJob]:
    """Claim the push rows due at ``now`` (at most ``limit``), grouped by thread,
    pushing them ``claim_seconds`` ahead: rows another worker claimed are not due."""
    due = list(
        OutboxEntry.objects.select_for_update()
        .filter(
            channel=PUSH_CHANNEL,
            status=OutboxEntry.Status.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("pk")[:limit]
    )
    by_thread: dict[int, list[OutboxEntry]] = {}
    for entry in due:
        by_thread.setdefault(entry.thread_id, []).append(entry)
    OutboxEntry.objects.filter(pk__in=[entry.pk for entry in due]).update(
        next_attempt_at=now + dt.timedelta(seconds=claim_seconds)
    )
    return [
        PushJob(
            thread_id=thread_id,
            entry_ids=tuple(entry.pk for entry in entries),
            attempts=max(entry.attempts for entry in entries),
        )
        for thread_id, entries in by_thread.items()
    ]
