"""``manage.py cleanup``: the daily housekeeping (see docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import logging
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import purge_expired_codes
from chat.files import delete_orphan_files
from chat.selectors import count_unsent_attachments
from chat.services import (
    delete_old_device_codes,
    delete_unsent_attachments,
    purge_closed_threads,
    purge_stale_visitors,
)

# Uploads a client never sent with a message are removed after this long.
UNSENT_UPLOAD_AGE = dt.timedelta(days=1)

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Remove what is no longer needed: login codes and Telegram link tokens "
        "expired or used more than a day ago, expired sessions, visitors who never "
        "wrote and were last seen more than SOHBET_STALE_VISITOR_DAYS days ago, and, "
        "when RETENTION_DAYS is set, closed conversations whose last message is older "
        "than that (with their messages), and files in the media folder that no "
        "upload refers to. Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be removed; remove nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        if settings.SOHBET_STALE_VISITOR_DAYS < 1:
            raise CommandError("SOHBET_STALE_VISITOR_DAYS must be at least 1.")
        if settings.RETENTION_DAYS < 0:
            raise CommandError("RETENTION_DAYS must be 0 (keep) or a number of days.")
        now = timezone.now()

        purged = purge_expired_codes(dry_run=dry_run)
        self._report(_("Expired or used login codes"), purged.login_code_count)
        self._report(_("Expired or used Telegram link tokens"), purged.link_token_count)

        self._report(
            _("Device codes and codes typed in, over a day old"),
            delete_old_device_codes(dry_run=dry_run),
        )

        session_count = self._purge_sessions(now=now, dry_run=dry_run)
        self._report(_("Expired sessions"), session_count)

        thread_count = 0
        if settings.RETENTION_DAYS:
            thread_count = purge_closed_threads(
                last_message_before=now - dt.timedelta(days=settings.RETENTION_DAYS),
                dry_run=dry_run,
            )
            self._report(
                _("Closed conversations older than %(days)d days")
                % {"days": settings.RETENTION_DAYS},
                thread_count,
            )
        else:
            self.stdout.write(
                _("Closed conversations: kept (RETENTION_DAYS is not set)")
            )

        unsent = (
            count_unsent_attachments(older_than=UNSENT_UPLOAD_AGE)
            if dry_run
            else delete_unsent_attachments(older_than=UNSENT_UPLOAD_AGE)
        )
        self._report(_("Uploads never sent, older than a day"), unsent)
        orphans = delete_orphan_files(older_than=UNSENT_UPLOAD_AGE, dry_run=dry_run)
        self._report(_("Stored files no upload refers to, older than a day"), orphans)

        # After the threads: a visitor whose conversations just went counts as stale.
        visitor_count = purge_stale_visitors(
            seen_before=now - dt.timedelta(days=settings.SOHBET_STALE_VISITOR_DAYS),
            dry_run=dry_run,
        )
        self._report(
            _("Visitors who never wrote, last seen over %(days)d days ago")
            % {"days": settings.SOHBET_STALE_VISITOR_DAYS},
            visitor_count,
        )

        if dry_run:
            self.stdout.write(_("Dry run: nothing was removed."))
            return
        logger.info(
            "cleanup removed %s login codes, %s link tokens, %s sessions, "
            "%s threads, %s visitors",
            purged.login_code_count,
            purged.link_token_count,
            session_count,
            thread_count,
            visitor_count,
        )

    def _report(self, label: str, count: int) -> None:
        self.stdout.write(f"{label}: {count}")

    def _purge_sessions(self, *, now: dt.datetime, dry_run: bool) -> int:
        # Sessions live in the database (cached_db): Django's own clean-up, as
        # `manage.py clearsessions` does it.
        expired = Session.objects.filter(expire_date__lt=now).count()
        if not dry_run:
            engine = import_module(settings.SESSION_ENGINE)
            engine.SessionStore.clear_expired()
        return expired
