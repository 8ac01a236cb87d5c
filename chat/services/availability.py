"""Writes of whether the team is there: the business hours and the automatic reply
set in the admin, an operator's away switch (the inbox's and Telegram's), and the
automatic reply posted when a conversation starts while nobody is there."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from chat import availability, events, presence
from chat.exceptions import ChatError
from chat.models import BUSINESS_HOURS_ID, BusinessHours, Message, OperatorStatus
from chat.rules import NewMessage, Posted
from chat.services.messages import post_messages
from realtime import send_on_commit

# The automatic reply's client_id is drawn from this and what started the
# conversation: a second attempt for the same start is the stored one again.
AUTOMATIC_REPLY_NAMESPACE = uuid.UUID("5d1b7a52-8c0e-4f43-9a55-2f0c1f0d6a11")


@transaction.atomic
def update_business_hours(*, values: Mapping[str, Any]) -> BusinessHours:
    """Set the business hours' fields (``values``, already valid: chat.admin_hours
    cleans them). After commit the processes' copies of the hours are renewed
    (``availability.BUSINESS_HOURS``) and every visitor's page is told the new
    ones (events.hours_event)."""
    row = BusinessHours.objects.select_for_update().filter(pk=BUSINESS_HOURS_ID).first()
    row = row or BusinessHours(pk=BUSINESS_HOURS_ID)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = timezone.now()
    row.full_clean()
    row.save()
    transaction.on_commit(availability.BUSINESS_HOURS.changed)
    schedule = availability.schedule_from(
        {f.attname: getattr(row, f.attname) for f in BusinessHours._meta.fields}
    )
    send_on_commit(events.hours_event(availability.payload_of(schedule)))
    return row


@transaction.atomic
def set_operator_away(
    *, user_id: int, away: bool, telegram_online: bool = False
) -> None:
    """Switch an operator away (or back): the one state of the inbox's switch and
    Telegram's /away and /online. Their sockets, in every process, leave (or join)
    the operators that count for visitors (events.away_event); colleagues' inboxes
    are told (events.team_event). Away also ends their Telegram /online;
    ``telegram_online`` (/online) starts it, for presence.TELEGRAM_TTL."""
    from accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    status = OperatorStatus.objects.select_for_update().filter(user_id=user_id).first()
    status = status or OperatorStatus(user_id=user_id)
    status.away = away
    status.updated_at = timezone.now()
    status.save()
    connection = presence.telegram_connection(user_id)
    if away:
        was, now = presence.leave(presence.OPERATORS, connection)
        presence.leave(presence.operator_key(user_id), connection)
    elif telegram_online:
        was, now = presence.touch(
            presence.OPERATORS, connection, ttl=presence.TELEGRAM_TTL
        )
        presence.touch(
            presence.operator_key(user_id), connection, ttl=presence.TELEGRAM_TTL
        )
    else:
        was = now = False
    online = user_id in presence.online_operators([user_id])
    state = availability.team_status(away=away, online=online)
    batch = [
        events.away_event(user_id=user_id, away=away),
        events.team_event(user_id=user_id, name=user.display_name, status=state),
    ]
    if was != now:
        batch.append(events.operators_presence_event(online=now))
    send_on_commit(*batch)


def send_automatic_reply(
    *, thread_id: int, started_by: int, language: str | None
) -> Posted | None:
    """Post the automatic reply (a system message, through the one message path:
    stored with a seq, sent to the visitor and the operators, queued for Telegram)
    when it is switched on and nobody is there: outside the business hours, or no
    operator who is not away online. ``started_by`` is the seq of the visitor's
    message that started (or reopened) the conversation: one reply per start,
    however often this is called for it. None when nothing was posted."""
    text = availability.automatic_reply_text(language)
    if text is None:
        return None
    if availability.is_open_now() and presence.is_online(presence.OPERATORS):
        return None
    client_id = uuid.uuid5(AUTOMATIC_REPLY_NAMESPACE, f"{thread_id}:{started_by}")
    [outcome] = post_messages(
        posts=[
            NewMessage(
                thread_id=thread_id,
                client_id=client_id,
                body=text,
                author=Message.Author.SYSTEM,
            )
        ]
    )
    if isinstance(outcome, ChatError) or not outcome.created:
        return None
    return outcome
