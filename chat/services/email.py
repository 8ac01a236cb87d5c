"""Email to visitors: their address (given in the chat), unsubscribing, transcripts
asked for, and the email outbox's claims (chat.email.worker sends them).

The unseen-reply rows are written with the operator's message (``rules.
email_entries``); a transcript's row with the request. A worker claims due rows
(pushing them ``claim_seconds`` ahead so that no other worker takes them), sends, then
marks them: a worker that dies in between leaves them to be claimed again once the
claim lapses (the email may then go twice; none is lost).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat import events
from chat.exceptions import ChatError, ErrorCode
from chat.models import OutboxEntry, Thread, Visitor
from chat.rules import EMAIL_CHANNEL
from chat.services.context import send_visitor
from realtime import send_on_commit

MAX_EMAIL = 254


def clean_email(email: str) -> str:
    """The address as stored (trimmed), or ChatError(invalid) with the reason."""
    email = email.strip()
    if len(email) > MAX_EMAIL:
        raise ChatError(ErrorCode.INVALID, _("The email address is too long."))
    try:
        validate_email(email)
    except ValidationError:
        raise ChatError(
            ErrorCode.INVALID, _("Please enter a valid email address.")
        ) from None
    return email


@transaction.atomic
def set_visitor_email(*, visitor_id: int, email: str) -> Visitor:
    """Store the address a visitor gave in the chat (unverified: their own word) and
    take back an earlier unsubscribe (they asked for email again); the operators are
    told. Raises ChatError(invalid), changing nothing, on a bad address."""
    email = clean_email(email)
    visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
    visitor.email = email
    visitor.email_source = "visitor"
    visitor.email_unsubscribed_at = None
    visitor.save(update_fields=["email", "email_source", "email_unsubscribed_at"])
    send_visitor(visitor)
    return visitor


@transaction.atomic
def unsubscribe_visitor(*, visitor_id: int) -> bool:
    """No more email to this visitor (an email's unsubscribe link); their pending
    emails are dropped. False when there is no such visitor."""
    visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is None:
        return False
    if visitor.email_unsubscribed_at is None:
        visitor.email_unsubscribed_at = timezone.now()
        visitor.save(update_fields=["email_unsubscribed_at"])
        skip_outbox(
            entry_ids=list(
                OutboxEntry.objects.filter(
                    channel=EMAIL_CHANNEL,
                    status=OutboxEntry.Status.PENDING,
                    thread__visitor_id=visitor_id,
                ).values_list("pk", flat=True)
            ),
            note="unsubscribed",
        )
        send_visitor(visitor)
    return True


@transaction.atomic
def resubscribe_visitor(*, visitor_id: int) -> None:
    """Undo an unsubscribe (the button on the page the link opened)."""
    visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is not None and visitor.email_unsubscribed_at is not None:
        visitor.email_unsubscribed_at = None
        visitor.save(update_fields=["email_unsubscribed_at"])
        send_visitor(visitor)


@transaction.atomic
def request_transcript(*, visitor_id: int, thread_id: int) -> OutboxEntry:
    """Queue the conversation's transcript to the visitor's address. Raises
    ChatError when they gave none, asked for no email, the conversation is empty,
    or the address had SOHBET_EMAIL_TRANSCRIPTS_PER_HOUR already."""
    if not settings.SOHBET_EMAIL_ENABLED:
        raise ChatError(ErrorCode.FORBIDDEN, _("Email is not set up on this chat."))
    visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
    if not visitor.email:
        raise ChatError(ErrorCode.INVALID, _("Give your email address first."))
    if visitor.email_unsubscribed_at is not None:
        raise ChatError(
            ErrorCode.FORBIDDEN,
            _("You asked for no email. Give your address again to get one."),
        )
    thread = Thread.objects.filter(pk=thread_id, visitor_id=visitor_id).first()
    if thread is None or not thread.last_seq:
        raise ChatError(ErrorCode.NOT_FOUND, _("There is nothing to send yet."))
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    sent = OutboxEntry.objects.filter(
        channel=EMAIL_CHANNEL,
        kind=OutboxEntry.Kind.TRANSCRIPT,
        thread__visitor__email__iexact=visitor.email,
        created_at__gte=hour_ago,
    ).count()
    if sent >= settings.SOHBET_EMAIL_TRANSCRIPTS_PER_HOUR:
        raise ChatError(
            ErrorCode.RATE_LIMITED,
            _("A copy was sent to this address a short while ago. Try again later."),
        )
    return OutboxEntry.objects.create(
        channel=EMAIL_CHANNEL, kind=OutboxEntry.Kind.TRANSCRIPT, thread=thread
    )


# --- The worker's claims ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailJob:
    """One email to send: the unseen replies of a thread (all its pending rows), or
    a transcript (one row); ``attempts``: failed tries so far."""

    kind: str  # OutboxEntry.Kind.MESSAGE or TRANSCRIPT
    thread_id: int
    entry_ids: tuple[int, ...]
    attempts: int


@transaction.atomic
def claim_email_jobs(
    *, now: dt.datetime, claim_seconds: float, limit: int = 20
) -> list[EmailJob]:
    """Claim the email rows due at ``now`` (at most ``limit``; with each due reply,
    the thread's other pending replies: one email carries them all), pushing them
    ``claim_seconds`` ahead. Rows another worker claimed are not due."""
    pending = OutboxEntry.objects.select_for_update().filter(
        channel=EMAIL_CHANNEL, status=OutboxEntry.Status.PENDING
    )
    due = list(pending.filter(next_attempt_at__lte=now).order_by("pk")[:limit])
    jobs: list[EmailJob] = []
    reply_threads = sorted(
        {entry.thread_id for entry in due if entry.kind == OutboxEntry.Kind.MESSAGE}
    )
    rows: dict[int, list[OutboxEntry]] = {}
    for entry in pending.filter(
        kind=OutboxEntry.Kind.MESSAGE, thread_id__in=reply_threads
    ).order_by("pk"):
        rows.setdefault(entry.thread_id, []).append(entry)
    for thread_id in reply_threads:
        entries = rows.get(thread_id, [])
        if entries:
            jobs.append(
                EmailJob(
                    kind=OutboxEntry.Kind.MESSAGE,
                    thread_id=thread_id,
                    entry_ids=tuple(entry.pk for entry in entries),
                    attempts=max(entry.attempts for entry in entries),
                )
            )
    jobs.extend(
        EmailJob(
            kind=entry.kind,
            thread_id=entry.thread_id,
            entry_ids=(entry.pk,),
            attempts=entry.attempts,
        )
        for entry in due
        if entry.kind != OutboxEntry.Kind.MESSAGE
    )
    claimed = [pk for job in jobs for pk in job.entry_ids]
    OutboxEntry.objects.filter(pk__in=claimed).update(
        next_attempt_at=now + dt.timedelta(seconds=claim_seconds)
    )
    return jobs


@transaction.atomic
def complete_email(
    *, thread_id: int, sent_ids: Sequence[int], skipped_ids: Sequence[int]
) -> None:
    """An email went out: its rows are done; rows of messages read meanwhile are
    skipped. The operators see which messages went by email."""
    now = timezone.now()
    OutboxEntry.objects.filter(pk__in=sent_ids).update(
        status=OutboxEntry.Status.DONE, done_at=now, last_error=""
    )
    skip_outbox(entry_ids=skipped_ids, note="read in time")
    emailed = list(
        OutboxEntry.objects.filter(pk__in=sent_ids, message__isnull=False).values_list(
            "message_id", flat=True
        )
    )
    if emailed:
        send_on_commit(events.emailed_event(thread=thread_id, message_ids=emailed))


def skip_outbox(*, entry_ids: Sequence[int], note: str) -> None:
    """Rows with nothing to send (read in time, no address, unsubscribed)."""
    OutboxEntry.objects.filter(pk__in=list(entry_ids)).update(
        status=OutboxEntry.Status.SKIPPED, done_at=timezone.now(), last_error=note
    )


def drop_outbox(*, entry_ids: Sequence[int]) -> None:
    """Rows that were never going anywhere (the visitor gave no address): every
    operator reply has one, and the admin's outbox would fill with them."""
    OutboxEntry.objects.filter(pk__in=list(entry_ids)).delete()
