"""Writes on operator accounts."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User


@transaction.atomic
def ensure_operator(*, username: str, password: str) -> tuple[User, bool]:
    """Create or update a superuser operator with this password.

    Returns the user and whether it was created. Used by ``manage.py ensure_operator``
    so that ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` (the old system's names) keep working.
    """
    user, created = User.objects.select_for_update().get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()
    return user, created
