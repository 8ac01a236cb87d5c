"""Data leaving the admin: a visitor's data (a data-subject request, beside the
erasure) as JSON, and the conversations started in a date range as CSV or JSON,
streamed in pages (keyset over thread and seq) so that memory stays bounded
whatever the range. Operators' private notes are never part of these."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone
from django.utils.http import content_disposition_header

from chat.context import load_attributes
from chat.models import Attachment, Message, Thread, Visitor
from chat.transcripts import file_link

THREAD_PAGE = 200
MESSAGE_PAGE = 1000
VISITOR_FIELDS = (
    "id",
    "name",
    "email",
    "email_source",
    "email_unsubscribed_at",
    "identity_verified",
    "external_id",
    "locale",
    "language",
    "time_zone",
    "country",
    "user_agent",
    "last_page",
    "page_title",
    "referrer",
    "first_seen_at",
    "last_seen_at",
    "visits",
)
CSV_COLUMNS = (
    "thread_id",
    "thread_status",
    "thread_created_at",
    "thread_closed_at",
    "assigned_to",
    "visitor_id",
    "visitor_name",
    "visitor_email",
    "seq",
    "author",
    "author_name",
    "source",
    "created_at",
    "body",
    "file_name",
    "file_type",
    "file_size",
    "file_url",
)

Absolute = Callable[[str], str]


def attachment_disposition(filename: str) -> str:
    """The Content-Disposition of a download named ``filename``."""
    return content_disposition_header(True, filename) or "attachment"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _file(attachment: Attachment | None, absolute: Absolute) -> dict[str, Any] | None:
    if attachment is None:
        return None
    link = file_link(attachment, absolute)
    return {
        "name": link.name,
        "content_type": link.content_type,
        "size": link.size,
        "kind": attachment.kind,
        "uploaded_by": attachment.uploaded_by,
        "created_at": _iso(attachment.created_at),
        "url": link.url,
    }


def _message(message: Message, absolute: Absolute) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "author": message.author,
        "author_name": message.author_name,
        "body": message.body,
        "source": message.source,
        "created_at": _iso(message.created_at),
        "edited_at": _iso(message.edited_at),
        "file": _file(message.attachment, absolute),
    }


def _thread(thread: Thread) -> dict[str, Any]:
    assigned = thread.assigned_to
    return {
        "id": thread.pk,
        "status": thread.status,
        "created_at": _iso(thread.created_at),
        "closed_at": _iso(thread.closed_at),
        "assigned_to": assigned.get_username() if assigned else None,
    }


def visitor_data(*, visitor: Visitor, absolute: Absolute) -> dict[str, Any]:
    """Everything stored about a visitor, as JSON-ready data: their details and
    page context, every conversation with every message, and every file (with
    those never sent). Three queries plus one per conversation."""
    details = {name: getattr(visitor, name) for name in VISITOR_FIELDS}
    for name, value in details.items():
        if isinstance(value, dt.datetime):
            details[name] = value.isoformat()
    details["attributes"] = load_attributes(visitor.attributes)
    conversations = []
    threads = Thread.objects.select_related("assigned_to").filter(visitor=visitor)
    for thread in threads.order_by("pk"):
        messages = thread.messages.select_related("attachment").order_by("seq")
        conversations.append(
            {**_thread(thread), "messages": [_message(m, absolute) for m in messages]}
        )
    unsent = Attachment.objects.filter(
        thread__visitor=visitor, message__isnull=True
    ).order_by("pk")
    return {
        "exported_at": timezone.now().isoformat(),
        "visitor": details,
        "conversations": conversations,
        "unsent_files": [_file(a, absolute) for a in unsent],
    }


def _thread_page(start: dt.datetime, end: dt.datetime, after: int) -> list[Thread]:
    return list(
        Thread.objects.select_related("visitor", "assigned_to")
        .filter(created_at__gte=start, created_at__lt=end, pk__gt=after)
        .order_by("pk")[:THREAD_PAGE]
    )


def _message_page(thread_ids: list[int], after: tuple[int, int]) -> list[Message]:
    thread_id, seq = after
    return list(
        Message.objects.select_related("attachment")
        .filter(thread_id__in=thread_ids)
        .filter(Q(thread_id__gt=thread_id) | Q(thread_id=thread_id, seq__gt=seq))
        .order_by("thread_id", "seq")[:MESSAGE_PAGE]
    )


async def _pages(
    start: dt.datetime, end: dt.datetime
) -> AsyncIterator[tuple[list[Thread], list[Message]]]:
    """The messages of the range's threads, a page at a time, with their page of
    threads (it comes again with each further page of its messages); threads
    without a message are left out."""
    after_thread = 0
    while threads := await sync_to_async(_thread_page)(start, end, after_thread):
        ids = [thread.pk for thread in threads]
        after: tuple[int, int] = (0, 0)
        while True:
            messages = await sync_to_async(_message_page)(ids, after)
            if messages:
                yield threads, messages
            if len(messages) < MESSAGE_PAGE:
                break
            after = (messages[-1].thread_id, messages[-1].seq)
        after_thread = ids[-1]


async def stream_csv(
    *, start: dt.datetime, end: dt.datetime, absolute: Absolute
) -> AsyncIterator[str]:
    """One CSV row per message of the conversations started in [start, end)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take(rows: Iterable[Iterable[Any]]) -> str:
        writer.writerows(rows)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield take([CSV_COLUMNS])
    async for threads, messages in _pages(start, end):
        by_id = {thread.pk: thread for thread in threads}
        yield take(_csv_row(by_id[m.thread_id], m, absolute) for m in messages)


def _csv_row(thread: Thread, message: Message, absolute: Absolute) -> list[Any]:
    visitor = thread.visitor
    file = _file(message.attachment, absolute) or {}
    return [
        thread.pk,
        thread.status,
        _iso(thread.created_at),
        _iso(thread.closed_at),
        thread.assigned_to.get_username() if thread.assigned_to else "",
        visitor.pk,
        visitor.display_name,
        visitor.email,
        message.seq,
        message.author,
        message.author_name,
        message.source,
        _iso(message.created_at),
        _spreadsheet_safe(message.body),
        _spreadsheet_safe(file.get("name", "")),
        file.get("content_type", ""),
        file.get("size", ""),
        file.get("url", ""),
    ]


def _spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def stream_json(
    *, start: dt.datetime, end: dt.datetime, absolute: Absolute
) -> AsyncIterator[str]:
    """The conversations started in [start, end) as one JSON array, each with its
    visitor and messages; written as it is read."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    yield "["
    current: int | None = None
    for_thread = 0
    async for threads, messages in _pages(start, end):
        by_id = {thread.pk: thread for thread in threads}
        chunks = []
        for message in messages:
            if message.thread_id != current:
                if current is not None:
                    chunks.append("]},")
                current = message.thread_id
                chunks.append(_json_head(by_id[current], encoder))
                for_thread = 0
            chunks.append(
                ("," if for_thread else "")
                + encoder.encode(_message(message, absolute))
            )
            for_thread += 1
        yield "".join(chunks)
    yield ("]}" if current is not None else "") + "]"


def _json_head(thread: Thread, encoder: json.JSONEncoder) -> str:
    visitor = thread.visitor
    head = {
        **_thread(thread),
        "visitor": {"id": visitor.pk, "name": visitor.name, "email": visitor.email},
    }
    return encoder.encode(head)[:-1] + ',"messages":['
