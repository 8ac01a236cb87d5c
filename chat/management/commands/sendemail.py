from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from chat.email import worker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send the email outbox (unseen replies, transcripts) until stopped. The web "
        "process does it itself unless SOHBET_EMAIL_WORKER=0; --once: one pass."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Send what is due now, then stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            count = worker.send_due()
            logger.info("email outbox: %s job(s) handled", count)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        worker.run(stop)
