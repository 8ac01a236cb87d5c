"""Writes of private notes: a note (with its mentions told), a transfer with a note."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from chat import events
from chat.exceptions import ChatError, ErrorCode
from chat.models import Note, OutboxEntry, Thread
from chat.notes import list_mentioned_operators
from chat.push.rules import mention_entries
from chat.services.threads import assign_thread
from realtime import send_on_commit


@transaction.atomic
def add_note(
    *,
    thread_id: int,
    author: User,
    body: str,
    client_id: uuid.UUID | None = None,
    source: str = Note.Source.WEB,
    also_mention: Sequence[User] = (),
) -> Note:
    """Write a private note in a thread; the operators it mentions (and
    ``also_mention``), the author aside, are told.

    Broadcasts the note to the operators and an alert to each one mentioned; queues
    a NOTE row per outbox channel (not back to ``source``) and a MENTION row per
    channel and for push when someone is mentioned. A ``client_id`` already used
    in the thread returns that note and changes nothing. Raises
    ChatError(not_found, invalid, too_long).
    """
    body = body.strip()
    if not body:
        raise ChatError(ErrorCode.INVALID, _("A note cannot be empty."))
    if len(body) > settings.SOHBET_MAX_BODY:
        raise ChatError(
            ErrorCode.TOO_LONG,
            _("A note can be at most %(max)s characters.")
            % {"max": settings.SOHBET_MAX_BODY},
        )
    thread = Thread.objects.select_related("visitor").filter(pk=thread_id).first()
    if thread is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This conversation does not exist."))
    if client_id is not None:
        existing = Note.objects.filter(thread=thread, client_id=client_id).first()
        if existing is not None:
            return existing
    note = Note.objects.create(
        thread=thread,
        client_id=client_id or uuid.uuid4(),
        author=author,
        author_name=author.display_name,
        body=body,
        source=source,
    )
    mentioned = {u.pk: u for u in list_mentioned_operators(body=body)}
    for user in also_mention:
        mentioned.setdefault(user.pk, user)
    mentioned.pop(author.pk, None)
    if mentioned:
        note.mentions.set(mentioned.values())
    channels = settings.SOHBET_OUTBOX_CHANNELS
    rows = [
        OutboxEntry(channel=c, kind=OutboxEntry.Kind.NOTE, thread=thread, note=note)
        for c in channels
        if c != source
    ]
    if mentioned:
        rows += [
            OutboxEntry(
                channel=c, kind=OutboxEntry.Kind.MENTION, thread=thread, note=note
            )
            for c in channels
        ]
        rows += mention_entries(note, enabled=settings.SOHBET_PUSH_ENABLED)
    OutboxEntry.objects.bulk_create(rows)
    send_on_commit(
        *events.note_events(
            note, mentioned=sorted(mentioned), visitor_name=thread.visitor.name
        )
    )
    return note


@transaction.atomic
def transfer_thread(
    *,
    thread_id: int,
    by: User,
    operator_id: int,
    text: str = "",
    source: str = Note.Source.WEB,
) -> Note:
    """Assign a thread to another operator and leave a private note saying so
    ("Transferred to X: ``text``"); X is told as for a mention.

    Broadcasts the thread and the note (``assign_thread``, ``add_note``). Raises
    ChatError(not_found) for an unknown thread or operator, (too_long).
    """
    assign_thread(thread_id=thread_id, operator_id=operator_id)
    target = User.objects.get(pk=operator_id)  # assign_thread checked it
    text = text.strip()
    with translation.override(settings.LANGUAGE_CODE):  # stored: the site's language
        if text:
            body = _("Transferred to %(name)s: %(note)s") % {
                "name": target.display_name,
                "note": text,
            }
        else:
            body = _("Transferred to %(name)s.") % {"name": target.display_name}
    return add_note(
        thread_id=thread_id,
        author=by,
        body=body,
        source=source,
        also_mention=[target],
    )
