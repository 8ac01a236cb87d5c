"""Writes on threads: close, reopen, assign, read and delivered marks."""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat import events
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message, OutboxEntry, Thread
from chat.selectors import THREAD_RELATED
from chat.storage import thread_events_for
from realtime import send_on_commit


def _locked_thread(thread_id: int) -> Thread:
    try:
        return Thread.objects.select_for_update().get(pk=thread_id)
    except Thread.DoesNotExist:
        raise ChatError(
            ErrorCode.NOT_FOUND, _("This conversation does not exist.")
        ) from None


def _reload_and_broadcast(thread_id: int) -> Thread:
    """The thread as it is now; its state told to the operators and its visitor
    after commit."""
    thread = Thread.objects.select_related(*THREAD_RELATED).get(pk=thread_id)
    send_on_commit(*thread_events_for([thread]))
    return thread


@transaction.atomic
def close_thread(*, thread_id: int, by: User | None = None) -> Thread:
    """Close a thread. Broadcasts the thread to operators; queues an outbox row.

    Raises ChatError(not_found). Closing a closed thread changes nothing.
    """
    thread = _locked_thread(thread_id)
    if thread.status == Thread.Status.CLOSED:
        return _reload_and_broadcast(thread_id)
    thread.status = Thread.Status.CLOSED
    thread.closed_at = thread.updated_at = timezone.now()
    thread.waiting_since = None  # nobody waits in a closed conversation
    thread.save(update_fields=["status", "closed_at", "updated_at", "waiting_since"])
    _queue_thread_outbox(thread, OutboxEntry.Kind.THREAD_CLOSED)
    return _reload_and_broadcast(thread_id)


@transaction.atomic
def reopen_thread(*, thread_id: int, by: User | None = None) -> Thread:
    """Reopen a closed thread. Broadcasts the thread; queues an outbox row.

    Raises ChatError(not_found). Reopening an open thread changes nothing.
    """
    thread = _locked_thread(thread_id)
    if thread.status == Thread.Status.OPEN:
        return _reload_and_broadcast(thread_id)
    thread.status = Thread.Status.OPEN
    thread.closed_at = None
    thread.updated_at = timezone.now()
    thread.save(update_fields=["status", "closed_at", "updated_at"])
    _queue_thread_outbox(thread, OutboxEntry.Kind.THREAD_REOPENED)
    return _reload_and_broadcast(thread_id)


def _queue_thread_outbox(thread: Thread, kind: str) -> None:
    OutboxEntry.objects.bulk_create(
        OutboxEntry(channel=channel, kind=kind, thread=thread)
        for channel in settings.SOHBET_OUTBOX_CHANNELS
    )


@transaction.atomic
def assign_thread(*, thread_id: int, operator_id: int | None) -> Thread:
    """Assign a thread to an active staff user, or unassign it (``None``).

    Broadcasts the thread to operators. Raises ChatError(not_found) for an unknown
    thread or operator.
    """
    thread = _locked_thread(thread_id)
    if (
        operator_id is not None
        and not User.objects.filter(
            pk=operator_id, is_staff=True, is_active=True
        ).exists()
    ):
        raise ChatError(ErrorCode.NOT_FOUND, _("This operator does not exist."))
    if thread.assigned_to_id != operator_id:
        thread.assigned_to_id = operator_id
        thread.save(update_fields=["assigned_to"])
    return _reload_and_broadcast(thread_id)


@transaction.atomic
def mark_read(
    *, thread_id: int, by: Literal["visitor", "operator"], up_to: int
) -> int | None:
    """Record that the visitor (``by="visitor"``) or the operators read the thread's
    messages up to message id ``up_to``.

    Only moves forward, and only to an id of the thread written by the other side.
    Recomputes the unread count; broadcasts a read event to the other side (and the
    thread to operators when operators read). Returns the new mark, or None when
    nothing changed.
    """
    thread = _locked_thread(thread_id)
    other = Message.Author.OPERATOR if by == "visitor" else Message.Author.VISITOR
    mark_field = "visitor_read_up_to" if by == "visitor" else "operator_read_up_to"
    count_field = "visitor_unread_count" if by == "visitor" else "operator_unread_count"
    current = getattr(thread, mark_field)
    up_to = min(up_to, thread.last_message_id or 0)
    if up_to <= current:
        return None
    setattr(thread, mark_field, up_to)
    setattr(
        thread,
        count_field,
        Message.objects.filter(thread=thread, author=other, pk__gt=up_to).count(),
    )
    thread.save(update_fields=[mark_field, count_field])
    send_on_commit(*events.read_events(thread=thread.pk, by=by, up_to=up_to))
    if by == "operator":
        _reload_and_broadcast(thread.pk)
    return up_to


@transaction.atomic
def mark_delivered(*, thread_id: int, up_to: int) -> int | None:
    """Record that the operators' inbox received the visitor's messages up to
    ``up_to``; tells the visitor. Only moves forward. Returns the new mark or None."""
    thread = _locked_thread(thread_id)
    up_to = min(up_to, thread.last_message_id or 0)
    if up_to <= thread.operator_delivered_up_to:
        return None
    thread.operator_delivered_up_to = up_to
    thread.save(update_fields=["operator_delivered_up_to"])
    send_on_commit(events.delivered_event(thread=thread.pk, up_to=up_to))
    return up_to
