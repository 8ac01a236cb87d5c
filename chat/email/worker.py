"""The email outbox's worker: claims due rows, sends, marks (chat.services.email).

``send_due`` is one pass; ``start_worker`` runs passes on a daemon thread of the web
process (settings.SOHBET_EMAIL_WORKER), ``manage.py sendemail`` in a process of its
own. Any number of them may run: a claim keeps two from sending the same row. A
failure is retried with back-off and given up after MAX_ATTEMPTS (or at once when
the server refuses the address); the admin lists failed rows and queues them again.
Sending never holds a lock or a socket of the chat.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import smtplib
import threading
from collections.abc import Callable

from django.core.mail import EmailMessage
from django.db import close_old_connections
from django.utils import timezone

from chat import services
from chat.email import compose
from chat.models import Message, OutboxEntry, Thread

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_CAP = 3600.0
# Longer than an SMTP exchange can take (EMAIL_TIMEOUT): a claim outlives its send.
CLAIM_SECONDS = 300.0
POLL_SECONDS = 5.0

# The seam tests use to stop between sending and marking (a crash there).
Sender = Callable[[EmailMessage], None]


def _send(email: EmailMessage) -> None:
    email.send(fail_silently=False)


def backoff(attempts: int) -> float:
    """Seconds before try number ``attempts + 1``: from 30 s, doubling, capped,
    jittered."""
    return min(BACKOFF_CAP, 30.0 * 2.0 ** (attempts - 1)) * random.uniform(0.5, 1.0)  # noqa: S311


def send_due(
    *, now: dt.datetime | None = None, send: Sender = _send, limit: int = 20
) -> int:
    """Send what is due (``now``: a test's clock); how many jobs were handled."""
    at = now or timezone.now()
    jobs = services.claim_email_jobs(now=at, claim_seconds=CLAIM_SECONDS, limit=limit)
    for job in jobs:
        try:
            _handle(job, send)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            _failed(job, exc, at=at)
    return len(jobs)


def _handle(job: services.EmailJob, send: Sender) -> None:
    thread = Thread.objects.select_related("visitor").get(pk=job.thread_id)
    visitor = thread.visitor
    if not visitor.email:
        services.drop_outbox(entry_ids=job.entry_ids)
        return
    if visitor.email_unsubscribed_at is not None:
        services.skip_outbox(entry_ids=job.entry_ids, note="unsubscribed")
        return
    if job.kind != OutboxEntry.Kind.MESSAGE:  # a transcript
        messages = list(
            Message.objects.select_related("attachment")
            .filter(thread=thread)
            .order_by("pk")
        )
        send(
            compose.build(
                "transcript", visitor=visitor, thread=thread, messages=messages
            )
        )
        logger.info("transcript of thread %s sent to visitor %s", thread.pk, visitor.pk)
        services.complete_email(
            thread_id=thread.pk, sent_ids=job.entry_ids, skipped_ids=[]
        )
        return
    rows = OutboxEntry.objects.filter(pk__in=job.entry_ids).values_list(
        "pk", "message_id"
    )
    unread = {
        m.pk: m
        for m in Message.objects.select_related("attachment").filter(
            pk__in=[message_id for _pk, message_id in rows],
            pk__gt=thread.visitor_read_up_to,
        )
    }
    if unread:
        messages = sorted(unread.values(), key=lambda m: m.pk)
        send(
            compose.build("replies", visitor=visitor, thread=thread, messages=messages)
        )
        logger.info("%s replies sent to visitor %s by email", len(messages), visitor.pk)
    services.complete_email(
        thread_id=thread.pk,
        sent_ids=[pk for pk, message_id in rows if message_id in unread],
        skipped_ids=[pk for pk, message_id in rows if message_id not in unread],
    )


def _failed(job: services.EmailJob, exc: Exception, *, at: dt.datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"
    attempts = job.attempts + 1
    if _refused_for_good(exc) or attempts >= MAX_ATTEMPTS:
        logger.warning("email %s given up: %s", list(job.entry_ids), error)
        services.fail_outbox(entry_ids=job.entry_ids, error=error)
        return
    logger.info("email %s failed, retried later: %s", list(job.entry_ids), error)
    # From the pass's clock (a test's may run ahead of the wall clock).
    delay = (at - timezone.now()).total_seconds() + backoff(attempts)
    for entry_id in job.entry_ids:
        services.retry_outbox(entry_id=entry_id, error=error, delay_seconds=delay)


def _refused_for_good(exc: Exception) -> bool:
    """The server refused the address or the message (5xx): trying again will not
    help. A refusal for now (4xx), a dropped or refused connection: try again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500 and not isinstance(
            exc, smtplib.SMTPAuthenticationError
        )
    return False


def run(stop: threading.Event, *, poll_seconds: float = POLL_SECONDS) -> None:
    """Passes until ``stop`` is set: at once again after a busy pass, else after
    ``poll_seconds``. A pass that fails (the database away) is logged and retried."""
    while not stop.is_set():
        handled = 0
        try:
            close_old_connections()
            handled = send_due()
        except Exception:
            logger.exception("email worker pass failed")
        finally:
            close_old_connections()
        if not handled:
            stop.wait(poll_seconds)


_started: threading.Thread | None = None


def start_worker() -> threading.Thread:
    """The worker on a daemon thread of this process (once)."""
    global _started
    if _started is None:
        _started = threading.Thread(
            target=run, args=(threading.Event(),), name="sohbet-email", daemon=True
        )
        _started.start()
    return _started
