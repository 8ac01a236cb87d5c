from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import selectors, services
from accounts.models import User

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Let an operator back in when their Telegram account is out of reach: print "
        "fresh recovery codes for them, or unlink their Telegram account so that the "
        "password alone signs them in; or sign them out everywhere."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The operator's username.")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--recovery-codes",
            action="store_true",
            help="Replace the operator's recovery codes with 10 new ones and print "
            "them (they are not stored readably anywhere).",
        )
        action.add_argument(
            "--unlink",
            action="store_true",
            help="Remove the operator's Telegram link and recovery codes (their "
            "sessions end).",
        )
        action.add_argument(
            "--end-sessions",
            action="store_true",
            help="Sign the operator out everywhere: every session ends and their "
            "open inbox sockets close.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if options["end_sessions"]:
            services.end_sessions(user=user)
            logger.info("operator_access: ended the sessions of user %s", user.pk)
            self.stdout.write(f"Signed {username!r} out everywhere.")
            return
        if options["unlink"]:
            if services.unlink_telegram(user=user):
                logger.info("operator_access: unlinked Telegram of user %s", user.pk)
                self.stdout.write(
                    f"Unlinked the Telegram account of {username!r}: they sign in "
                    "with their password alone now."
                )
            else:
                self.stdout.write(f"{username!r} had no Telegram account linked.")
            return
        if selectors.get_telegram_link(user=user) is None:
            raise CommandError(
                f"{username!r} has no Telegram account linked: they sign in with "
                "their password alone, recovery codes are not needed."
            )
        codes = services.issue_recovery_codes(user=user)
        logger.info("operator_access: new recovery codes for user %s", user.pk)
        self.stdout.write(
            f"New recovery codes for {username!r} (the old ones no longer work). "
            "Each signs in once:"
        )
        for code in codes:
            self.stdout.write(f"  {code}")
