"""A conversation as a document an operator downloads (from the inbox or the admin):
what its visitor saw (``selectors.list_transcript_messages``, the email transcript's
selection), with times in a stated time zone and each file's link. Rendered as a
self-contained HTML page here, as a PDF by ``chat.transcript_pdf``."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from chat import selectors
from chat.models import Attachment, Message, Thread, Visitor

# Past this a transcript stops, and says so (a download is built in one request).
MAX_MESSAGES = 5000
TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True, slots=True)
class FileLink:
    name: str
    url: str  # absolute; the attachment view lets operators (and the visitor) in
    size: int
    content_type: str


@dataclass(frozen=True, slots=True)
class Line:
    author: str  # Message.Author, or "note" (operators' notes: include_notes)
    name: str
    body: str
    at: str  # in the transcript's time zone, TIME_FORMAT
    file: FileLink | None


@dataclass(frozen=True, slots=True)
class Transcript:
    thread: Thread
    visitor: Visitor
    lines: list[Line]
    truncated: bool  # MAX_MESSAGES reached
    time_zone: str  # "Europe/Istanbul (UTC+03:00)"
    started_at: str
    closed_at: str
    generated_at: str
    site_name: str

    @property
    def files(self) -> list[FileLink]:
        return [line.file for line in self.lines if line.file is not None]


def resolve_time_zone(name: str | None) -> dt.tzinfo:
    """The zone an operator asked for (their browser's, ``?tz=``); the site's
    (TIME_ZONE) when none or an unknown one."""
    if name and len(name) <= 64:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def file_link(attachment: Attachment, absolute: Callable[[str], str]) -> FileLink:
    url = absolute(reverse("attachment", args=[attachment.pk, attachment.name]))
    return FileLink(attachment.name, url, attachment.size, attachment.content_type)


def _note_lines(thread_id: int) -> list[Line]:
    """Operators' private notes as lines (the notes part fills this in: a Note
    model is not in this branch). Never called for anything a visitor receives."""
    return []


def get_transcript(
    *,
    thread: Thread,
    absolute: Callable[[str], str],
    tz: dt.tzinfo,
    include_notes: bool = False,
) -> Transcript:
    """The thread's transcript; ``absolute`` makes a path a full URL (the
    request's ``build_absolute_uri``). ``include_notes``: operators' private notes
    too, for an operator's own copy only (off by default)."""
    visitor = thread.visitor

    def at(value: dt.datetime | None) -> str:
        return timezone.localtime(value, tz).strftime(TIME_FORMAT) if value else ""

    messages, truncated = selectors.list_transcript_messages(
        thread_id=thread.pk, limit=MAX_MESSAGES
    )
    lines = [_line(message, visitor, absolute, at) for message in messages]
    if include_notes:
        lines = sorted(lines + _note_lines(thread.pk), key=lambda line: line.at)
    now = timezone.now()
    offset = timezone.localtime(now, tz).strftime("%z")
    return Transcript(
        thread=thread,
        visitor=visitor,
        lines=lines,
        truncated=truncated,
        time_zone=f"{tz} (UTC{offset[:3]}:{offset[3:]})",
        started_at=at(thread.created_at),
        closed_at=at(thread.closed_at) if thread.status == Thread.Status.CLOSED else "",
        generated_at=at(now),
        site_name=settings.SOHBET_SITE_NAME,
    )


def _line(
    message: Message,
    visitor: Visitor,
    absolute: Callable[[str], str],
    at: Callable[[dt.datetime | None], str],
) -> Line:
    if message.author == Message.Author.VISITOR:
        name = message.author_name or visitor.display_name
    else:
        name = message.author_name or settings.SOHBET_SITE_NAME
    attachment = message.attachment
    return Line(
        author=message.author,
        name=name,
        body=message.body,
        at=at(message.created_at),
        file=file_link(attachment, absolute) if attachment else None,
    )


def render_html(transcript: Transcript) -> str:
    """A page that needs nothing else (its style inline), every text escaped by
    the template; in the active language."""
    return render_to_string("chat/transcript.html", {"transcript": transcript})


def filename(transcript: Transcript, extension: str) -> str:
    return f"conversation-{transcript.thread.pk}.{extension}"
