"""Erasure and clean-up (the admin, ``manage.py cleanup``), and uploads' files."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from chat.models import Attachment, Message, Thread, Visitor, attachment_path
from chat.services.visitors import forget_session_visitor
from chat.uploads import CleanFile

logger = logging.getLogger(__name__)

PURGE_BATCH = 500  # rows deleted per short transaction


@transaction.atomic
def erase_visitor(*, visitor_id: int) -> int:
    """Delete a visitor and everything about them (the right to erasure): their
    threads with every message and outbox row, and the bridge's topic and message
    links, all by cascade. Returns how many messages went (0 for an unknown visitor).

    Broadcasts nothing: a page of theirs still open starts over as a new visitor when
    it reconnects (their session forgets them after commit). Their stored files are
    removed from storage after commit, so that a rolled-back erasure keeps them.
    """
    message_count = Message.objects.filter(thread__visitor_id=visitor_id).count()
    _delete_files_on_commit(Attachment.objects.filter(thread__visitor_id=visitor_id))
    keys = list(
        Visitor.objects.filter(pk=visitor_id)
        .exclude(session_key="")
        .values_list("session_key", flat=True)
    )
    Visitor.objects.filter(pk=visitor_id).delete()
    for key in keys:
        transaction.on_commit(functools.partial(forget_session_visitor, key))
    return message_count


def _delete_files_on_commit(attachments: QuerySet[Attachment]) -> None:
    """Remove these attachments' files once the transaction deleting them commits."""
    names = [name for name in attachments.values_list("file", flat=True) if name]
    if names:
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a file already gone, or storage down: log, carry on
            logger.warning("stored file %s could not be deleted", name, exc_info=True)


def purge_stale_visitors(*, seen_before: dt.datetime, dry_run: bool = False) -> int:
    """Delete visitors last seen before ``seen_before`` whose threads hold no message
    (they opened the page and never wrote), with their empty threads. Returns how many
    visitors were deleted, or with ``dry_run`` how many would be; deletes nothing then.
    """
    written = Message.objects.filter(thread__visitor_id=OuterRef("pk"))
    stale = Visitor.objects.filter(last_seen_at__lt=seen_before).filter(
        ~Exists(written)
    )
    return stale.count() if dry_run else _delete_in_batches(stale)


def purge_closed_threads(
    *, last_message_before: dt.datetime, dry_run: bool = False
) -> int:
    """Delete closed threads whose last message is older than
    ``last_message_before`` (threads without messages: last updated before it), with
    their messages and outbox rows (cascade). Open threads are never touched. Returns
    how many threads were deleted, or with ``dry_run`` how many would be.
    """
    old = Thread.objects.filter(status=Thread.Status.CLOSED).filter(
        Q(last_message_at__lt=last_message_before)
        | Q(last_message_at__isnull=True, updated_at__lt=last_message_before)
    )
    return old.count() if dry_run else _delete_in_batches(old)


def _delete_in_batches(queryset: QuerySet[Any]) -> int:
    # Short transactions; rows are locked as they are chosen (where the database can),
    # so a thread a visitor is posting to right now is either deleted first (the post
    # then finds no thread) or skipped. Each round deletes what it chose: it ends.
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                queryset.select_for_update(skip_locked=True).values_list(
                    "pk", flat=True
                )[:PURGE_BATCH]
            )
            if not ids:
                return deleted
            if queryset.model is Thread:
                _delete_files_on_commit(Attachment.objects.filter(thread_id__in=ids))
            elif queryset.model is Visitor:
                _delete_files_on_commit(
                    Attachment.objects.filter(thread__visitor_id__in=ids)
                )
            queryset.model._default_manager.filter(pk__in=ids).delete()
        deleted += len(ids)


def store_attachment(
    *,
    thread_id: int,
    uploaded_by: str,
    operator_id: int | None,
    cleaned: CleanFile,
    uploader_key: str = "",
) -> Attachment:
    """Store a checked upload under a random name and record it (not sent yet), with
    the ``uploader_key`` its address's quota counts it under.

    The file is written first; if writing fails (a full disk) what was written is
    removed and no row exists, and if recording it fails the file is removed: a
    failed upload leaves nothing behind.
    """
    name = default_storage.get_available_name(
        attachment_path(None, f"upload.{cleaned.extension}")
    )
    try:
        path = default_storage.save(name, ContentFile(cleaned.content))
    except BaseException:
        _delete_files([name])  # the part written before the failure, if any
        raise
    try:
        with transaction.atomic():
            return Attachment.objects.create(
                thread_id=thread_id,
                uploaded_by=uploaded_by,
                operator_id=operator_id,
                file=path,
                kind=cleaned.kind,
                content_type=cleaned.content_type,
                size=len(cleaned.content),
                name=cleaned.name,
                width=cleaned.width,
                height=cleaned.height,
                uploader_key=uploader_key,
            )
    except BaseException:
        default_storage.delete(path)
        raise


def delete_unsent_attachments(*, older_than: dt.timedelta) -> int:
    """Remove uploads never sent with a message (and their files); returns how many."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff)
        _delete_files_on_commit(stale)
        count, _ = stale.delete()
    return count
