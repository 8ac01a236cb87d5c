"""Operator accounts: creating one with a password, the operators' group, and
signing an operator out everywhere."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts import roles
from accounts.models import User


@transaction.atomic
def ensure_operator(*, username: str, password: str) -> tuple[User, bool]:
    """Create or update a superuser operator with this password, in the operators'
    group (``ensure_operator_group``).

    Returns the user and whether it was created. The password hash is replaced only
    when the password differs: a new hash (a new salt) would sign out every session
    of the account, and ``make run`` calls this on every start. Used by
    ``manage.py ensure_operator`` so that ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` (the
    old system's names) keep working.
    """
    user, created = User.objects.select_for_update().get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    changed = created or not (user.is_staff and user.is_superuser and user.is_active)
    user.is_staff = user.is_superuser = user.is_active = True
    if created or not user.check_password(password):
        user.set_password(password)
        changed = True
    if changed:
        user.save()
    user.groups.add(ensure_operator_group())
    return user, created


@transaction.atomic
def ensure_operator_group() -> Group:
    """The operators' group (``accounts.roles``), created or given back any
    permission it lost. Raises ``Permission.DoesNotExist`` before ``migrate``."""
    group, _created = Group.objects.get_or_create(name=roles.OPERATORS_GROUP)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in roles.OPERATOR_PERMISSIONS
    ]
    group.permissions.add(*wanted)
    return group


@transaction.atomic
def end_sessions(*, user: Any) -> None:
    """Sign the user out everywhere: every session they have stops verifying (each
    keeps a hash that includes ``User.session_generation``), and their open inbox
    sockets close after commit, like any change of an operator's rights
    (chat.signals). A view that should keep its own session signed in calls
    ``update_session_auth_hash`` after this, as after a password change."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.session_generation += 1
    locked.save(update_fields=["session_generation"])
    user.session_generation = locked.session_generation
