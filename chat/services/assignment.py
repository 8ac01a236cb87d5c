"""Automatic assignment: new (and reopened) conversations given by turns to the
operators who are online and not away; switched on in the admin.

``assign_automatically`` runs after the conversation's first message is committed,
in the operators' thread-event step (chat.storage), never on the message's ack
path. Exactly once per conversation, whichever process asks: the conditional UPDATE
assigns only a thread still unassigned, and the turn is kept under the switch's row
lock."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import desk
from chat.models import AUTO_ASSIGNMENT_ID, AutoAssignment, Thread


@transaction.atomic
def set_auto_assignment(*, enabled: bool) -> AutoAssignment:
    """Switch automatic assignment on or off (the admin's page)."""
    row = (
        AutoAssignment.objects.select_for_update().filter(pk=AUTO_ASSIGNMENT_ID).first()
    )
    row = row or AutoAssignment(pk=AUTO_ASSIGNMENT_ID)
    row.enabled = enabled
    row.updated_at = timezone.now()
    row.save()
    transaction.on_commit(desk.AUTO_ASSIGNMENT.changed)
    return row


@transaction.atomic
def assign_automatically(*, thread_ids: list[int]) -> dict[int, User]:
    """Give each of these threads that is open and unassigned to the next available
    operator in turn (none available: it stays unassigned). Returns who got which;
    tells nobody (the caller sends the threads' state)."""
    if not thread_ids:
        return {}
    switch = (
        AutoAssignment.objects.select_for_update().filter(pk=AUTO_ASSIGNMENT_ID).first()
    )
    if switch is None or not switch.enabled:
        return {}
    available = desk.list_available_operator_ids()
    if not available:
        return {}
    users = User.objects.in_bulk(available)
    last = switch.last_operator_id
    assigned: dict[int, User] = {}
    for thread_id in sorted(set(thread_ids)):
        operator_id = desk.next_in_turn(available, last)
        taken = Thread.objects.filter(
            pk=thread_id, status=Thread.Status.OPEN, assigned_to__isnull=True
        ).update(assigned_to_id=operator_id)
        if taken:
            assigned[thread_id] = users[operator_id]
            last = operator_id
    if assigned:
        switch.last_operator_id = last
        switch.updated_at = timezone.now()
        switch.save(update_fields=["last_operator", "updated_at"])
    return assigned
