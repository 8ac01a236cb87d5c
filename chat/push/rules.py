"""The "push" outbox rows a batch of messages writes (called by chat.storage on
both of its paths) and a note's mentions write: plain functions (chat.rules' kind)."""

from __future__ import annotations

import datetime as dt

from chat.models import Message, Note, OutboxEntry
from chat.rules import Applied

PUSH_CHANNEL = "push"


def push_entries(
    applied: Applied, *, enabled: bool, delay_seconds: int
) -> list[OutboxEntry]:
    """One "push" row per new visitor or operator message, whoever may hear it: the
    worker decides at send time (operators who want it, a visitor who is away) and
    writes nothing more per operator on the message path. A visitor's message waits
    ``delay_seconds`` (an open inbox shows and reads it first); a reply goes at
    once. None when push is off."""
    if not enabled:
        return []
    delay = dt.timedelta(seconds=max(0, delay_seconds))
    return [
        OutboxEntry(
            channel=PUSH_CHANNEL,
            kind=OutboxEntry.Kind.MESSAGE,
            thread_id=message.thread_id,
            message=message,
            next_attempt_at=message.created_at
            + (delay if message.author == Message.Author.VISITOR else dt.timedelta()),
            created_at=message.created_at,
        )
        for message in applied.messages
        if message.author in (Message.Author.VISITOR, Message.Author.OPERATOR)
    ]


def mention_entries(note: Note, *, enabled: bool) -> list[OutboxEntry]:
    """One "push" row, due at once, for a note that mentions someone: the worker
    reads at send time which of its mentioned operators want it. None when push
    is off."""
    if not enabled:
        return []
    return [
        OutboxEntry(
            channel=PUSH_CHANNEL,
            kind=OutboxEntry.Kind.MENTION,
            thread_id=note.thread_id,
            note=note,
            next_attempt_at=note.created_at,
            created_at=note.created_at,
        )
    ]
