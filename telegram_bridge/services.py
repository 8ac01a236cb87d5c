"""Writes of the bridge: its lease, offset and heartbeat, topics and message links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from telegram_bridge.models import BridgeState, MessageLink, TopicLink

STATE_PK = 1


def _state_for_update() -> BridgeState:
    BridgeState.objects.get_or_create(pk=STATE_PK)
    return BridgeState.objects.select_for_update().get(pk=STATE_PK)


@transaction.atomic
def acquire_lease(*, owner: str, ttl_seconds: float) -> bool:
    """Take (or renew) the bridge lease for ``owner``.

    Returns False while another live bridge holds it: only one bridge polls Telegram.
    """
    state = _state_for_update()
    now = timezone.now()
    held_by_other = (
        state.lease_owner
        and state.lease_owner != owner
        and state.lease_expires_at is not None
        and state.lease_expires_at > now
    )
    if held_by_other:
        return False
    state.lease_owner = owner
    state.lease_expires_at = now + dt.timedelta(seconds=ttl_seconds)
    state.save(update_fields=["lease_owner", "lease_expires_at"])
    return True


@transaction.atomic
def release_lease(*, owner: str) -> None:
    """Give the lease up at a clean stop, so a waiting bridge takes over at once."""
    state = _state_for_update()
    if state.lease_owner == owner:
        state.lease_owner = ""
        state.lease_expires_at = None
        state.save(update_fields=["lease_owner", "lease_expires_at"])


def advance_offset(*, owner: str, update_id: int) -> None:
    """Record that update ``update_id`` was handled (call inside its transaction).

    Raises LeaseLost when another bridge took over meanwhile, which rolls the
    update's effects back with the transaction.
    """
    updated = BridgeState.objects.filter(pk=STATE_PK, lease_owner=owner).update(
        update_offset=update_id + 1
    )
    if not updated:
        raise LeaseLost(owner)


class LeaseLost(Exception):
    """Another bridge holds the lease now; this one must stop."""


def record_heartbeat(*, backlog: int, error: str | None = None) -> None:
    """What the health URL reads: when the bridge last ran, its backlog, last error."""
    fields: dict[str, object] = {
        "heartbeat_at": timezone.now(),
        "outbox_backlog": backlog,
    }
    if error is not None:
        fields["last_error"] = error[:2000]
        fields["last_error_at"] = timezone.now()
    BridgeState.objects.filter(pk=STATE_PK).update(**fields)


def record_bot(*, bot_username: str, chat_is_forum: bool) -> None:
    BridgeState.objects.filter(pk=STATE_PK).update(
        bot_username=bot_username, chat_is_forum=chat_is_forum
    )


def record_failures_told(*, at: dt.datetime) -> None:
    """The operators were told in Telegram of the deliveries that failed before
    ``at``."""
    BridgeState.objects.get_or_create(pk=STATE_PK)
    BridgeState.objects.filter(pk=STATE_PK).update(failures_told_at=at)


def rename_topic(*, chat_id: int, message_thread_id: int, name: str) -> None:
    """Remember the name the topic now has in Telegram."""
    TopicLink.objects.filter(
        chat_id=chat_id, message_thread_id=message_thread_id
    ).update(name=name)


def save_topic(
    *, visitor_id: int, chat_id: int, message_thread_id: int, name: str
) -> TopicLink:
    """Remember the visitor's topic (replacing a deleted one)."""
    topic, _ = TopicLink.objects.update_or_create(
        chat_id=chat_id,
        visitor_id=visitor_id,
        defaults={"message_thread_id": message_thread_id, "name": name},
    )
    return topic


def forget_topic(*, chat_id: int, message_thread_id: int) -> None:
    """Someone deleted the topic in Telegram: the next delivery creates a new one."""
    TopicLink.objects.filter(
        chat_id=chat_id, message_thread_id=message_thread_id
    ).delete()


def link_messages(
    *,
    chat_id: int,
    telegram_message_ids: Iterable[int],
    thread_id: int,
    message_ids: Iterable[int | None],
    direction: str,
) -> None:
    """Remember which Telegram messages carry which chat messages (idempotent)."""
    MessageLink.objects.bulk_create(
        [
            MessageLink(
                chat_id=chat_id,
                telegram_message_id=tg_id,
                thread_id=thread_id,
                message_id=message_id,
                direction=direction,
            )
            for tg_id, message_id in zip(telegram_message_ids, message_ids, strict=True)
        ],
        ignore_conflicts=True,
    )


def mark_reacted(*, link_ids: Iterable[int]) -> None:
    MessageLink.objects.filter(pk__in=list(link_ids)).update(reacted_at=timezone.now())
