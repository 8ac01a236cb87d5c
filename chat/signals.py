"""Close an operator's sockets when their login session ends or their rights change;
lift the database timeouts while migrations run.

A change of rights is any write of the fields that decide whether a session may act
as the operator (``OPERATOR_RIGHTS_FIELDS``: password, active and staff flags,
session generation) or the user's deletion, whatever made it: the admin, a service,
``manage.py changepassword``, a shell. Model signals are the one place every such
write passes; the sockets are told after commit, through the channel layer, so those
in every web process close (and reconnect, to be checked again).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import connections
from django.db.models.signals import (
    post_delete,
    post_migrate,
    post_save,
    pre_migrate,
    pre_save,
)
from django.dispatch import receiver

from chat import events
from realtime import send_now, send_on_commit

OPERATOR_RIGHTS_FIELDS = (
    "password",
    "is_active",
    "is_staff",
    "is_superuser",
    "session_generation",
)
User = get_user_model()


@receiver(user_logged_out)
def close_operator_sockets(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        async_to_sync(send_now)(
            events.session_event(
                events.session_group(session_key), events.SESSION_ENDED
            )
        )


@receiver(pre_save, sender=User)
def note_operator_rights(sender: Any, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (
        update_fields is not None
        and not set(update_fields) & set(OPERATOR_RIGHTS_FIELDS)
    ):
        return  # a new user, or a write of other fields (last_login at sign-in)
    instance._rights_before = (
        sender._default_manager.filter(pk=instance.pk)
        .values_list(*OPERATOR_RIGHTS_FIELDS)
        .first()
    )


@receiver(post_save, sender=User)
def close_sockets_on_new_rights(sender: Any, instance: Any, **kwargs: Any) -> None:
    before = instance.__dict__.pop("_rights_before", None)
    now = tuple(getattr(instance, name) for name in OPERATOR_RIGHTS_FIELDS)
    if before is not None and tuple(before) != now:
        _rights_changed(instance.pk)


@receiver(post_delete, sender=User)
def close_sockets_of_a_deleted_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    _rights_changed(instance.pk)


def _rights_changed(user_id: int) -> None:
    send_on_commit(
        events.session_event(events.operator_group(user_id), events.RIGHTS_CHANGED)
    )


@receiver(pre_migrate)
def lift_timeouts(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """A migration may rewrite a large table: no statement or lock timeout
    (settings: DATABASE_STATEMENT_TIMEOUT, DATABASE_LOCK_TIMEOUT) while it runs."""
    _set_timeouts(using, "SET statement_timeout = 0; SET lock_timeout = 0")


@receiver(post_migrate)
def restore_timeouts(sender: Any, using: str = "default", **kwargs: Any) -> None:
    _set_timeouts(using, "RESET statement_timeout; RESET lock_timeout")


def _set_timeouts(using: str, sql: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql)
