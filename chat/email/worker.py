"""The email outbox's worker: claims due rows, sends, marks (chat.services.email).

A job is prepared (read, rendered) and marked in the database, and sent between the
two without holding anything of the chat. ``send_due`` is one pass in the caller's
thread (``manage.py sendemail``, tests); ``start_worker`` runs passes as a task of a
web process's event loop (settings.SOHBET_EMAIL_WORKER): database work on the
engine's threads (``realtime.run_in_db``: its events leave from the loop), the SMTP
exchange on a thread of its own. Any number of workers may run: a claim keeps two
from sending the same row. A failure is retried with back-off and given up after
MAX_ATTEMPTS (at once when the server refuses the address for good); the admin
lists failed rows and queues them again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.mail import EmailMessage
from django.db import close_old_connections
from django.utils import timezone

from chat import selectors, services
from chat.background import PassLoop
from chat.email import compose
from chat.models import Message, OutboxEntry, Thread
from realtime import run_in_db

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
    base = min(BACKOFF_CAP, 30.0 * 2.0 ** (attempts - 1))
    return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True, slots=True)
class Prepared:
    """A job's email, and how its rows are marked once it is sent."""

    job: services.EmailJob
    email: EmailMessage
    sent_ids: tuple[int, ...]
    skipped_ids: tuple[int, ...]
    what: str  # for the log


def send_due(
    *, now: dt.datetime | None = None, send: Sender = _send, limit: int = 20
) -> int:
    """Send what is due (``now``: a test's clock); how many jobs were handled."""
    at = now or timezone.now()
    jobs = services.claim_email_jobs(now=at, claim_seconds=CLAIM_SECONDS, limit=limit)
    for job in jobs:
        try:
            prepared = prepare(job)
            if prepared is not None:
                send(prepared.email)
                finish(prepared)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            failed(job, exc, at=at)
    return len(jobs)


async def asend_due(*, now: dt.datetime | None = None, limit: int = 20) -> int:
    """``send_due`` from an event loop (the web process's task)."""
    at = now or timezone.now()
    jobs = await run_in_db(
        services.claim_email_jobs, now=at, claim_seconds=CLAIM_SECONDS, limit=limit
    )
    for job in jobs:
        try:
            prepared = await run_in_db(prepare, job)
            if prepared is not None:
                await asyncio.to_thread(_send, prepared.email)
                await run_in_db(finish, prepared)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            await run_in_db(failed, job, exc, at=at)
    return len(jobs)


def prepare(job: services.EmailJob) -> Prepared | None:
    """The job's email; None when there is none to send (its rows are marked or
    dropped here: no address, unsubscribed, every reply read in time)."""
    thread = Thread.objects.select_related("visitor").get(pk=job.thread_id)
    visitor = thread.visitor
    if not visitor.email:
        services.drop_outbox(entry_ids=job.entry_ids)
        return None
    if visitor.email_unsubscribed_at is not None:
        services.skip_outbox(entry_ids=job.entry_ids, note="unsubscribed")
        return None
    if job.kind != OutboxEntry.Kind.MESSAGE:  # a transcript
        messages, _more = selectors.list_transcript_messages(thread_id=thread.pk)
        email = compose.build(
            "transcript", visitor=visitor, thread=thread, messages=messages
        )
        what = f"transcript of thread {thread.pk} to visitor {visitor.pk}"
        return Prepared(job, email, job.entry_ids, (), what)
    rows = list(
        OutboxEntry.objects.filter(pk__in=job.entry_ids).values_list("pk", "message_id")
    )
    unread = {
        m.pk: m
        for m in Message.objects.select_related("attachment").filter(
            pk__in=[message_id for _pk, message_id in rows],
            pk__gt=thread.visitor_read_up_to,
        )
    }
    sent = tuple(pk for pk, message_id in rows if message_id in unread)
    skipped = tuple(pk for pk, message_id in rows if message_id not in unread)
    if not unread:
        services.complete_email(thread_id=thread.pk, sent_ids=(), skipped_ids=skipped)
        return None
    messages = sorted(unread.values(), key=lambda m: m.pk)
    email = compose.build("replies", visitor=visitor, thread=thread, messages=messages)
    what = f"{len(messages)} unread replies to visitor {visitor.pk}"
    return Prepared(job, email, sent, skipped, what)


def finish(prepared: Prepared) -> None:
    """The email was accepted: mark its rows (the operators are told)."""
    services.complete_email(
        thread_id=prepared.job.thread_id,
        sent_ids=prepared.sent_ids,
        skipped_ids=prepared.skipped_ids,
    )
    logger.info("email sent: %s", prepared.what)


def failed(job: services.EmailJob, exc: Exception, *, at: dt.datetime) -> None:
    """Try the job again after a back-off from ``at``, or give it up."""
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
    help. A refusal for now (4xx), a dropped or refused connection, a rejected
    login (the site's settings, fixed later): try again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def run(stop: threading.Event, *, poll_seconds: float = POLL_SECONDS) -> None:
    """Passes in this thread until ``stop`` is set (``manage.py sendemail``): at
    once again after a busy pass, else after ``poll_seconds``. A pass that fails
    (the database away) is logged and tried again."""
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


# The web process's task (chat.background): chatsite.asgi calls ``start_worker``.
_loop = PassLoop("sohbet-email", asend_due, POLL_SECONDS)
start_worker = _loop.start
