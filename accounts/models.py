from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """An operator (staff) or site owner. Visitors are not users: see chat.Visitor."""

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()
