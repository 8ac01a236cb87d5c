"""Reads on visitors, threads and messages, and the access rules for them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.appearance import (  # the appearance's reads
    get_appearance_values as get_appearance_values,
)
from chat.appearance import widget_appearance as widget_appearance
from chat.exceptions import ChatError, ErrorCode
from chat.models import Attachment, Message, OutboxEntry, Thread, Visitor
from chat.rules import EMAIL_CHANNEL

THREAD_RELATED = ("visitor", "assigned_to", "last_message", "last_message__attachment")
SYNC_PAGE = 200
# The conversations of a visitor that operators see beside the open one.
VISITOR_THREADS = 10


def get_visitor_thread(*, visitor_id: int) -> Thread | None:
    """The visitor's current thread (their newest), or None."""
    return Thread.objects.filter(visitor_id=visitor_id).order_by("-pk").first()


def get_thread_for_operator(*, thread_id: int) -> Thread:
    """Any thread, for an operator (operators share all conversations).

    Raises ChatError(not_found)."""
    thread = Thread.objects.select_related(*THREAD_RELATED).filter(pk=thread_id).first()
    if thread is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This conversation does not exist."))
    return thread


def get_visitor_details(*, visitor_id: int) -> tuple[Visitor, list[Thread]] | None:
    """A visitor and their newest conversations (``list_visitor_threads``), for
    operators; None when the visitor is gone. Two queries."""
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        return None
    return visitor, list_visitor_threads(visitor_id=visitor_id)


def list_visitor_threads(*, visitor_id: int) -> list[Thread]:
    """A visitor's newest conversations, at most VISITOR_THREADS, newest first."""
    threads = Thread.objects.filter(visitor_id=visitor_id).order_by("-pk")
    return list(threads[:VISITOR_THREADS])


def list_messages_after(
    *, thread_id: int, after_seq: int, limit: int = SYNC_PAGE
) -> tuple[list[Message], bool]:
    """Messages of a thread with seq > after_seq, oldest first, and whether more
    exist."""
    rows = list(
        Message.objects.select_related("attachment")
        .filter(thread_id=thread_id, seq__gt=after_seq)
        .order_by("seq")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def list_messages_before(
    *, thread_id: int, before_id: int | None, limit: int
) -> tuple[list[Message], bool]:
    """The ``limit`` messages before message id ``before_id`` (or the newest), oldest
    first; and whether older ones exist."""
    qs = Message.objects.select_related("attachment").filter(thread_id=thread_id)
    if before_id is not None:
        qs = qs.filter(pk__lt=before_id)
    rows = list(qs.order_by("-pk")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return rows, has_more


def list_operators() -> list[dict[str, object]]:
    """Active staff users, for the inbox's assign menu."""
    from accounts.models import User

    return [
        {"id": user.pk, "name": user.display_name}
        for user in User.objects.filter(is_staff=True, is_active=True).order_by(
            "username"
        )
    ]


@dataclass(frozen=True, slots=True)
class OutboxHead:
    """What a thread's pending deliveries of one channel look like."""

    thread_id: int
    first_id: int  # the oldest: what the thread waits on
    last_id: int  # the newest
    next_attempt_at: dt.datetime  # of the oldest


def list_outbox_heads(*, channel: str, limit: int = 500) -> list[OutboxHead]:
    """Each thread with pending deliveries of one channel, the oldest first (a
    delivery waiting for a retry holds back the later ones of its thread). Two
    queries."""
    rows = list(
        OutboxEntry.objects.filter(channel=channel, status=OutboxEntry.Status.PENDING)
        .values("thread_id")
        .annotate(first=Min("pk"), last=Max("pk"))
        .order_by("first")[:limit]
    )
    due = dict(
        OutboxEntry.objects.filter(pk__in=[row["first"] for row in rows]).values_list(
            "pk", "next_attempt_at"
        )
    )
    return [
        OutboxHead(row["thread_id"], row["first"], row["last"], due[row["first"]])
        for row in rows
        if row["first"] in due
    ]


def list_pending_outbox(
    *, channel: str, thread_id: int, limit: int = 50
) -> list[OutboxEntry]:
    """A thread's pending deliveries of one channel, oldest first, with their message
    (and attachment), thread and visitor loaded."""
    return list(
        OutboxEntry.objects.select_related(
            "message", "message__attachment", "thread", "thread__visitor", "note"
        )
        .filter(channel=channel, thread_id=thread_id, status=OutboxEntry.Status.PENDING)
        .order_by("pk")[:limit]
    )


def count_failed_outbox(*, channel: str, since: dt.datetime | None) -> int:
    """Deliveries of one channel given up on after ``since`` (ever, when None)."""
    failed = OutboxEntry.objects.filter(
        channel=channel, status=OutboxEntry.Status.FAILED
    )
    if since is not None:
        failed = failed.filter(done_at__gt=since)
    return failed.count()


def count_pending_outbox(*, channel: str) -> int:
    return OutboxEntry.objects.filter(
        channel=channel, status=OutboxEntry.Status.PENDING
    ).count()


def get_pending_outbox_summary(*, channel: str) -> tuple[int, dt.datetime | None]:
    """How many deliveries of one channel are pending, and when the oldest of them was
    queued (None when there is none). One query."""
    summary = OutboxEntry.objects.filter(
        channel=channel, status=OutboxEntry.Status.PENDING
    ).aggregate(count=Count("pk"), oldest=Min("created_at"))
    return summary["count"], summary["oldest"]


def get_upload_usage(
    *, visitor_id: int | None = None, uploader_key: str | None = None
) -> tuple[int, int]:
    """Uploads in the last hour, and their bytes in the last day: a visitor's (to
    any of their threads) or those from one address (``uploader_key``)."""
    now = timezone.now()
    if visitor_id is not None:
        recent = Attachment.objects.filter(
            thread__visitor_id=visitor_id, uploaded_by="visitor"
        )
    else:
        recent = Attachment.objects.filter(uploader_key=uploader_key or "-")
    recent = recent.filter(created_at__gte=now - dt.timedelta(days=1))
    usage = recent.aggregate(
        hour=Count("pk", filter=Q(created_at__gte=now - dt.timedelta(hours=1))),
        day=Sum("size"),
    )
    return int(usage["hour"] or 0), int(usage["day"] or 0)


def get_attachment(*, attachment_id: int) -> Attachment | None:
    return Attachment.objects.select_related("thread").filter(pk=attachment_id).first()


def count_unsent_attachments(*, older_than: dt.timedelta) -> int:
    """Uploads never sent with a message, older than ``older_than``."""
    return Attachment.objects.filter(
        message__isnull=True, created_at__lt=timezone.now() - older_than
    ).count()


def list_emailed_message_ids(*, messages: list[Message]) -> list[int]:
    """Which of these messages went to their visitor by email (operators' replies
    they had not read: chat.email.worker)."""
    ids = [m.pk for m in messages if m.author == Message.Author.OPERATOR]
    if not ids:
        return []
    return list(
        OutboxEntry.objects.filter(
            channel=EMAIL_CHANNEL, status=OutboxEntry.Status.DONE, message_id__in=ids
        ).values_list("message_id", flat=True)
    )


def list_transcript_messages(
    *, thread_id: int, limit: int | None = None
) -> tuple[list[Message], bool]:
    """What a visitor may see of a thread, oldest first, with their files: the
    messages of the email transcript and of a downloaded one (operators' private
    notes are not messages). With ``limit``: the first ``limit``, and whether more
    exist."""
    rows = Message.objects.select_related("attachment").filter(thread_id=thread_id)
    if limit is None:
        return list(rows.order_by("pk")), False
    found = list(rows.order_by("pk")[: limit + 1])
    return found[:limit], len(found) > limit
