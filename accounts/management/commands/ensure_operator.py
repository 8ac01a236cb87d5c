from __future__ import annotations

import logging
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import ensure_operator

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Create or update the first operator from ADMIN_USERNAME and ADMIN_PASSWORD; "
        "without them, say how to create one."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("ADMIN_USERNAME", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        if bool(username) != bool(password):
            raise CommandError(
                "Set both ADMIN_USERNAME and ADMIN_PASSWORD, or neither."
            )
        if username:
            try:
                validate_password(password, user=User(username=username))
            except ValidationError as error:
                raise CommandError(
                    "ADMIN_PASSWORD is not accepted: " + " ".join(error.messages)
                ) from None
            _, created = ensure_operator(username=username, password=password)
            if created:
                self.stdout.write(f"Created operator {username!r} from ADMIN_USERNAME.")
            else:
                self.stdout.write(f"Operator {username!r} (ADMIN_USERNAME) is ready.")
            return
        if User.objects.filter(is_staff=True, is_active=True).exists():
            return
        self.stdout.write(
            self.style.WARNING(
                "No operator account yet. Create one with:\n"
                "    .venv/bin/python manage.py createsuperuser\n"
                "or set ADMIN_USERNAME and ADMIN_PASSWORD and run `make run` again."
            )
        )
